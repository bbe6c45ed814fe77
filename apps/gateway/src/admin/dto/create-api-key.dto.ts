import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'What the key is for', example: 'ci uploader', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({
    description: 'A user of the org the key acts as (their role applies); omit for an org-wide key',
    format: 'uuid',
    example: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId?: string;
}

export class CreatePrivateKeyDto {
  @ApiProperty({
    description: 'What the key is for',
    example: 'backend integration',
    maxLength: 100,
  })
  @IsString()
  @Length(1, 100)
  name!: string;
}
