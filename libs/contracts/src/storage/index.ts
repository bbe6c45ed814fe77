import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Min,
} from 'class-validator';

// What storage's internal routes take and answer (`StorageClient` of @lib/clients sends them, its
// controller validates them): byte operations for object-metadata, only on keys of the call's org.

/** One object key of the platform's bucket. */
export class ObjectKeyQuery {
  @IsString()
  @Length(1, 1024)
  key!: string;
}

/** What S3 knows of stored bytes (HEAD). */
export interface StoredBytes {
  sizeBytes: number;
  etag: string | null;
}

/** Remove the bytes under these keys (S3 DeleteObjects takes at most 1000). */
export class DeleteKeysCommand {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 1024, { each: true })
  keys!: string[];
}

/**
 * Copy the bytes under `from` to `to` (S3 CopyObject: no byte leaves S3), unless they are more than
 * `maxBytes`.
 */
export class CopyBytesCommand {
  @IsString()
  @Length(1, 1024)
  from!: string;

  @IsString()
  @Length(1, 1024)
  to!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  maxBytes?: number;
}

/** The answer to a delete of one key (idempotent). */
export interface BytesDeleted {
  deleted: true;
}

/** The answer to a delete of many keys: how many were asked. */
export interface KeysDeleted {
  deleted: number;
}
