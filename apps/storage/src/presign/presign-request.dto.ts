import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { MAX_PRESIGN_EXPIRY_SECONDS } from '@lib/s3';

/** Internal command: a presigned URL for one object key of the platform's bucket. */
export class PresignRequestDto {
  @IsString()
  @Length(1, 1024)
  key!: string;

  @IsIn(['GET', 'PUT'])
  method!: 'GET' | 'PUT';

  @IsInt()
  @Min(1)
  @Max(MAX_PRESIGN_EXPIRY_SECONDS)
  expiresInSeconds!: number;

  @IsOptional()
  @IsString()
  @Length(1, 2048)
  responseContentDisposition?: string;

  @IsOptional()
  @IsString()
  @Length(1, 255)
  responseContentType?: string;
}

export interface PresignedUrlDto {
  url: string;
  expiresAt: string;
}
