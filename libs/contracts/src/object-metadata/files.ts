import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { FileDirection } from '../events';
import type { ObjectKeyKind } from '../object-keys';

// object-metadata's routes over every kind of stored file (`ObjectMetadataClient`, files).

/**
 * A stored file that is live now: not deleted, not expired, bytes uploaded. Carries what a download needs
 * (`filename`, `contentType`) and what usage counts (`sizeBytes`, `direction`, `workflowId`, `createdBy`).
 */
export interface LiveFile {
  kind: ObjectKeyKind;
  /** The file's stable id: the key of its `storage_file.updated` events. */
  objectId: string;
  orgId: string;
  orgKey: string;
  objectKey: string;
  /** The name a download offers (`Content-Disposition`). */
  filename: string;
  contentType: string | null;
  sizeBytes: number;
  etag: string | null;
  direction: FileDirection;
  workflowId: string | null;
  /** The user who first stored it (as in `storage_file.updated`), null for API keys and the system. */
  createdBy: string | null;
  /** The file's event version: the `version` of its latest `storage_file.updated`. */
  version: number;
}

/** A page of the census of the live files of the org of the call's principal (usage truth and rebuild). */
export class LiveFilesQuery {
  /** The previous page's `nextCursor`. */
  @IsOptional()
  @IsString()
  cursor?: string;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;
}

export interface LiveFilesPage {
  files: LiveFile[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}
