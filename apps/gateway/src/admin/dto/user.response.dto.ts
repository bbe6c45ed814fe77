import type { Role } from '@lib/auth';
import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity } from '../../identity/user.entity';

export class UserResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) orgId!: string;
  @ApiProperty({ example: 'ada@acme.io' }) email!: string;
  @ApiProperty({ enum: ['admin', 'member'] }) role!: Role;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

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
