import type { Role } from '@lib/auth';
import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity } from '../../identity/user.entity';

export class UserResponseDto {
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }) id!: string;
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }) orgId!: string;
  @ApiProperty({ example: 'ada@acme.io' }) email!: string;
  @ApiProperty({ enum: ['admin', 'member'], example: 'member' }) role!: Role;
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:30:00.000Z' }) createdAt!: string;

  static from(user: UserEntity): UserResponseDto {
    return {
      id: user.id,
      orgId: user.orgId,
      email: user.email,
      role: user.role,
      createdAt: user.createdAt.toISOString(),
    };
  }
}
