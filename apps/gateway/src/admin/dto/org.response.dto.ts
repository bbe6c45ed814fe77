import { ApiProperty } from '@nestjs/swagger';
import type { OrgDetails } from '../../identity/identity.service';
import type { OrgEntity } from '../../identity/org.entity';
import { ApiKeyResponseDto } from './api-key.response.dto';
import { UserResponseDto } from './user.response.dto';

export class OrgResponseDto {
  @ApiProperty({ format: 'uuid', example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }) id!: string;
  @ApiProperty({ example: 'acme' }) key!: string;
  @ApiProperty({ example: 'Acme Corp' }) name!: string;
  @ApiProperty({ type: [String], example: ['objects'] }) capabilities!: string[];
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:30:00.000Z' }) createdAt!: string;

  static from(org: OrgEntity): OrgResponseDto {
    return {
      id: org.id,
      key: org.key,
      name: org.name,
      capabilities: org.capabilities,
      createdAt: org.createdAt.toISOString(),
    };
  }
}

export class OrgDetailsResponseDto extends OrgResponseDto {
  @ApiProperty({ type: [UserResponseDto] }) users!: UserResponseDto[];
  @ApiProperty({ type: [ApiKeyResponseDto], description: 'Keys without their secrets' })
  apiKeys!: ApiKeyResponseDto[];

  static fromDetails(details: OrgDetails): OrgDetailsResponseDto {
    return {
      ...OrgResponseDto.from(details.org),
      users: details.users.map((u) => UserResponseDto.from(u)),
      apiKeys: details.apiKeys.map((k) => ApiKeyResponseDto.from(k)),
    };
  }
}
