import { ApiProperty } from '@nestjs/swagger';
import type { IssuedToken } from '../../identity/identity.service';

export class TokenResponseDto {
  @ApiProperty({ description: 'HS256 JWT: send as `Authorization: Bearer <token>`' })
  token!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ format: 'uuid' }) orgId!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ enum: ['admin', 'member'] }) role!: string;

  static from(issued: IssuedToken): TokenResponseDto {
    return {
      token: issued.token,
      tokenType: 'Bearer',
      expiresAt: issued.expiresAt.toISOString(),
      orgId: issued.org.id,
      userId: issued.user.id,
      role: issued.user.role,
    };
  }
}
