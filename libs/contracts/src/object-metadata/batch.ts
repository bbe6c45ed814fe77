import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { OBJECT_LIMITS, ObjectCreateParams, ObjectIdParams } from '../objects';

// The calls the gateway sends object-metadata in batches (`ServiceClient.batched` → `POST /internal/batch`):
// the single-item operations of the hot paths (create, get, download URL, public redirect). The gateway
// validated the client's input with the public contract first; these classes are what the service checks
// again, per call. Who the call acts for is no argument: it is the principal of the call's service token.

/** How a download is presented: saved (`attachment`, the default) or shown by the browser (`inline`). */
export const DISPOSITION_TYPES = ['attachment', 'inline'] as const;
export type DispositionType = (typeof DISPOSITION_TYPES)[number];

/** `objects.create`: a new object of the authenticated org (Objects API view with its `upload_url`). */
export class ObjectCreateCall extends ObjectCreateParams {}

/** `objects.get`: one object of the org (Objects API view). */
export class ObjectReadCall extends ObjectIdParams {}

/** `objects.downloadUrl`: a presigned GET of one READ_ONLY object of the org. */
export class ObjectDownloadUrlCall extends ObjectReadCall {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(OBJECT_LIMITS.download.max)
  duration_seconds?: number;
}

/**
 * `files.downloadUrl` (the presigned GET) and `files.streamSource` (what the gateway needs to stream the bytes)
 * of the live file of any kind stored under a public key, with the `Content-Disposition` type asked for.
 */
export class PublicFileCall {
  @IsString()
  objectKey!: string;

  @IsOptional()
  @IsIn(DISPOSITION_TYPES)
  type?: DispositionType;
}

/** The answer to `files.streamSource`. */
export interface FileStreamSource {
  /** A presigned GET over S3's internal endpoint, valid a minute: the gateway sends it itself. */
  url: string;
  /** The response's `Content-Disposition`: the `type` asked for (an attachment unless the type is safe). */
  contentDisposition: string;
  /** The response's `Content-Type`: the stored type when it is safe to render, else octet-stream. */
  contentType: string;
  sizeBytes: number;
}

/** The ops object-metadata answers in a batch, by name. */
export const OBJECT_METADATA_BATCH_OPS = {
  objectCreate: 'objects.create',
  objectGet: 'objects.get',
  objectDownloadUrl: 'objects.downloadUrl',
  fileDownloadUrl: 'files.downloadUrl',
  fileStreamSource: 'files.streamSource',
} as const;
