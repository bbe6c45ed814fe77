import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import { OBJECT_LIMITS, ObjectIdParams } from './objects';

// The calls the gateway sends to object-metadata in batches (`ServiceClient.batched` → `POST /internal/batch`):
// the single-object reads of the hot paths. The gateway validated the client's input with the public
// contract first; these classes are what object-metadata checks again, per call.

/** How a download is presented: saved (`attachment`, the default) or shown by the browser (`inline`). */
export const DISPOSITION_TYPES = ['attachment', 'inline'] as const;
export type DispositionType = (typeof DISPOSITION_TYPES)[number];

/** `objects.get`: one object of the org (seed 001 view). */
export class ObjectReadCall extends ObjectIdParams {
  @IsUUID()
  orgId!: string;
}

/** `objects.downloadUrl`: a presigned GET of one READ_ONLY object of the org. */
export class ObjectDownloadUrlCall extends ObjectReadCall {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(OBJECT_LIMITS.download.max)
  duration_seconds?: number;
}

/** `files.downloadUrl`: the presigned GET of the live file of any kind stored under a public key. */
export class FileDownloadUrlCall {
  @IsString()
  objectKey!: string;

  @IsOptional()
  @IsIn(DISPOSITION_TYPES)
  type?: DispositionType;
}

/** The ops object-metadata answers in a batch, by name. */
export const OBJECT_METADATA_BATCH_OPS = {
  objectGet: 'objects.get',
  objectDownloadUrl: 'objects.downloadUrl',
  fileDownloadUrl: 'files.downloadUrl',
} as const;
