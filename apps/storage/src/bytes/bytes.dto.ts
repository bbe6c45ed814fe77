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

/** Internal query: one object key of the platform's bucket. */
export class ObjectKeyQueryDto {
  @IsString()
  @Length(1, 1024)
  key!: string;
}

/** What S3 knows of stored bytes (HEAD). */
export interface ObjectStatDto {
  sizeBytes: number;
  etag: string | null;
}

/** Internal command: remove the bytes under these keys (S3 DeleteObjects takes at most 1000). */
export class DeleteKeysDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 1024, { each: true })
  keys!: string[];
}

/**
 * Internal command: copy the bytes under `from` to `to` (S3 CopyObject: no byte leaves S3), unless they are
 * more than `maxBytes`.
 */
export class CopyBytesDto {
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
