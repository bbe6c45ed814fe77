import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  OBJECT_CONTENT_TYPES,
  OBJECT_LIMITS,
  ObjectCreateParams,
  type ObjectContentType,
} from '@lib/contracts';

const { metadata } = OBJECT_LIMITS;

/** The Objects API's `ObjectCreateParameters` (validated by the shared contract); unknown fields are a 400. */
export class CreateObjectRequestDto extends ObjectCreateParams {
  @ApiProperty({ description: `The name of the Object (1 to ${OBJECT_LIMITS.nameBytes} bytes).` })
  override name!: string;

  @ApiProperty({ enum: OBJECT_CONTENT_TYPES })
  override content_type!: ObjectContentType;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    description:
      `User defined metadata (string to string): at most ${metadata.entries} entries, keys of 1-` +
      `${metadata.keyBytes} bytes, values up to ${metadata.valueBytes} bytes, ${metadata.totalBytes} bytes in all.`,
  })
  override metadata?: Record<string, string> | null;

  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    nullable: true,
    minimum: 1,
    maximum: OBJECT_LIMITS.maxTtlMs,
    description: 'Lifetime in milliseconds from creation (at most one year).',
  })
  override ttl_ms?: number | null;
}
