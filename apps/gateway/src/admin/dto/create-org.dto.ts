import { ORG_KEY_PATTERN } from '@lib/auth';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsOptional,
  IsString,
  Length,
  Matches,
} from 'class-validator';

export const CAPABILITY_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export class CreateOrgDto {
  @ApiProperty({
    description: 'Stable slug of the org, unique; used in object keys and the `org_key` JWT claim',
    example: 'acme',
    pattern: ORG_KEY_PATTERN.source,
  })
  @Matches(ORG_KEY_PATTERN, {
    message:
      'key must be 2-63 lower-case letters, digits or dashes, starting with a letter or digit',
  })
  key!: string;

  @ApiProperty({ description: 'Display name', example: 'Acme Corp', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({
    description: 'Org capabilities; default `["objects"]` (the Objects API)',
    example: ['objects'],
    type: [String],
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(32)
  @Matches(CAPABILITY_PATTERN, {
    each: true,
    message: "each capability must be 1-32 lower-case letters, digits, '_' or '-'",
  })
  capabilities?: string[];
}
