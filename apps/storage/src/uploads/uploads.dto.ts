import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

/** The largest upload the storage service accepts through a stream, whatever the caller asks for. */
export const STREAM_UPLOAD_HARD_MAX_BYTES = 5 * 1024 * 1024 * 1024;

/** Internal query of `PUT /internal/uploads`: where the streamed body goes and how big it may be. */
export class StreamUploadQueryDto {
  @IsString()
  @Length(1, 1024)
  key!: string;

  /** Bytes allowed; one more and the upload is refused with 413, leaving nothing in S3. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? Number(value) : value))
  @IsInt()
  @Min(0)
  @Max(STREAM_UPLOAD_HARD_MAX_BYTES)
  maxBytes!: number;

  /** The stored `Content-Type` (a MIME type), `application/octet-stream` when absent. */
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(/^[\x21-\x7e][\x20-\x7e]*$/, { message: 'contentType must be printable ASCII' })
  contentType?: string;
}

/** What was stored. */
export interface StreamUploadResultDto {
  key: string;
  sizeBytes: number;
  etag: string | null;
}
