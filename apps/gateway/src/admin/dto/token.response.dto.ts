import { ApiProperty } from '@nestjs/swagger';
import type { IssuedToken } from '../../identity/identity.service';

export class TokenResponseDto {
  @ApiProperty({
    description: 'HS256 JWT: send as `Authorization: Bearer <token>`',
    example: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3YzllNjY3OSJ9.c2lnbmF0dXJl',
  })
  token!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:30:00.000Z' }) expiresAt!: string;
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }) orgId!: string;
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }) userId!: string;
  @ApiProperty({ enum: ['admin', 'member'], example: 'member' }) role!: string;

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
