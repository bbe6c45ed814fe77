import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import { DISPOSITION_TYPES, type DispositionType } from '@lib/contracts';

const toBool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class FileDownloadQueryDto {
  /** Checked against the key formats by the service (a clear 400 naming the key). */
  @IsString()
  objectKey!: string;

  @IsOptional()
  @IsIn(DISPOSITION_TYPES)
  type?: DispositionType;

  /** true: answer what the gateway needs to stream the bytes itself instead of a presigned URL. */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  stream?: boolean;
}

export class LiveFilesQueryDto {
  @IsOptional()
  @IsUUID()
  orgId?: string;

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
