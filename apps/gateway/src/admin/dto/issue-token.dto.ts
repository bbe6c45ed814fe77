import { MAX_JWT_LIFETIME_SECONDS } from '@lib/auth';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';

export class IssueTokenDto {
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' })
  @IsUUID('all', { message: 'orgId must be a UUID' })
  orgId!: string;

  @ApiProperty({
    format: 'uuid',
    description: 'A user of that org; the token carries their role',
    example: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  })
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId!: string;

  @ApiPropertyOptional({
    default: 3600,
    minimum: 1,
    maximum: MAX_JWT_LIFETIME_SECONDS,
    example: 3600,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_JWT_LIFETIME_SECONDS)
  expiresInSeconds?: number;

  @ApiPropertyOptional({
    description:
      'Scope the token to one workflow: it acts only on that workflow, its runs and their files (403 elsewhere)',
    example: '550e8400-e29b-41d4-a716-446655440000',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'workflowId must be a workflow id' })
  workflowId?: string;
}
