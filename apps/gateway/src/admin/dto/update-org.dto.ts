import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, Matches } from 'class-validator';
import { CAPABILITY_PATTERN } from './create-org.dto';

export class UpdateOrgDto {
  @ApiProperty({
    description: 'The complete new set of capabilities (replaces the old one)',
    example: ['objects'],
    type: [String],
  })
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(32)
  @Matches(CAPABILITY_PATTERN, {
    each: true,
    message: "each capability must be 1-32 lower-case letters, digits, '_' or '-'",
  })
  capabilities!: string[];
}
