import type { ApiKeyKind } from '@lib/auth';
import { ApiProperty } from '@nestjs/swagger';
import type { ApiKeyEntity } from '../../identity/api-key.entity';
import type { CreatedApiKey } from '../../identity/identity.service';

export class ApiKeyResponseDto {
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }) id!: string;
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }) orgId!: string;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    example: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  })
  userId!: string | null;
  @ApiProperty({
    enum: ['bearer', 'org_private'],
    description:
      '`bearer`: Authorization: Bearer on /v1 and /api/v1; `org_private`: api-key header on /api/private',
    example: 'bearer',
  })
  kind!: ApiKeyKind;
  @ApiProperty({ example: 'ci uploader' }) name!: string;
  @ApiProperty({ description: 'Non-secret head of the key', example: 'sfp_live_Ab3xY_' })
  prefix!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:30:00.000Z' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, example: null }) revokedAt!:
    string | null;

  static from(key: ApiKeyEntity): ApiKeyResponseDto {
    return {
      id: key.id,
      orgId: key.orgId,
      userId: key.userId,
      kind: key.kind,
      name: key.name,
      prefix: key.prefix,
      createdAt: key.createdAt.toISOString(),
      revokedAt: key.revokedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({
    description: 'The key. Shown once, in this response only; store it now',
    example: 'sfp_live_Ab3xY_0123456789abcdefghijklmnopqrstuvwxyzABCD',
  })
  secret!: string;

  static fromCreated(created: CreatedApiKey): CreatedApiKeyResponseDto {
    return { ...ApiKeyResponseDto.from(created.apiKey), secret: created.secret };
  }
}
