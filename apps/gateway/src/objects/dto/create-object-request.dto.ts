import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateIf } from 'class-validator';

export const CONTENT_TYPES = ['unspecified', 'text', 'binary', 'gzip', 'tar', 'tgz'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** Longest accepted `ttl_ms`: one year (documented in the README). */
export const MAX_TTL_MS = 365 * 24 * 3600 * 1000;

/** Seed 001 `ObjectCreateParameters`; unknown fields are refused with 400. */
export class CreateObjectRequestDto {
  @ApiProperty({ description: 'The name of the Object (1 to 1024 bytes).' })
  @IsString()
  name!: string;

  @ApiProperty({ enum: CONTENT_TYPES })
  @IsIn(CONTENT_TYPES)
  content_type!: ContentType;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    description: 'User defined metadata (string to string).',
  })
  @IsOptional()
  metadata?: Record<string, string> | null;

  @ApiPropertyOptional({ type: 'integer', format: 'int64', nullable: true, maximum: MAX_TTL_MS })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_TTL_MS)
  ttl_ms?: number | null;
}
