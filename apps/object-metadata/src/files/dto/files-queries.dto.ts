import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import { DISPOSITION_TYPES, type DispositionType } from '@lib/contracts';

export class FileDownloadQueryDto {
  /** Checked against the key formats by the service (a clear 400 naming the key). */
  @IsString()
  objectKey!: string;

  @IsOptional()
  @IsIn(DISPOSITION_TYPES)
  type?: DispositionType;
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
