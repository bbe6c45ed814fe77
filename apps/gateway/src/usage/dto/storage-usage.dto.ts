import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { OrgQuotaView } from '@lib/contracts';
import { IsOptional, IsUUID } from 'class-validator';

export class StorageUsageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this user’s uploads (admins only)' })
  @IsOptional()
  @IsUUID(undefined, { message: 'createdBy must be a UUID' })
  createdBy?: string;
}

export class WorkflowUsageDto {
  @ApiProperty({ example: '550e8400-e29b-41d4-a716-446655440000' }) workflowId!: string;
  @ApiProperty({
    description: 'Empty until the workflow’s run.created has been seen',
    example: 'customer-cleanup',
  })
  workflowName!: string;
  @ApiProperty({ example: 5_120 }) bytes!: number;
  @ApiProperty({ example: 2 }) fileCount!: number;
}

export class StorageQuotaDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Most bytes the org may store; null: unlimited',
    example: 10_737_418_240,
  })
  maxBytes!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Most files the org may store; null: unlimited',
    example: 100_000,
  })
  maxFiles!: number | null;
  @ApiProperty({
    description:
      'Bytes that count against the quota now: every live file of the org, counted as each change commits',
    example: 52_428_800,
  })
  usedBytes!: number;
  @ApiProperty({
    description: 'Files that count against the quota now (objects from their create)',
    example: 1_240,
  })
  usedFiles!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Bytes the org may still add (0 when over a lowered quota); null: unlimited',
    example: 10_684_989_440,
  })
  remainingBytes!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Files the org may still add (0 when over a lowered quota); null: unlimited',
    example: 98_760,
  })
  remainingFiles!: number | null;

  static from(q: OrgQuotaView): StorageQuotaDto {
    const left = (max: number | null, used: number) =>
      max === null ? null : Math.max(0, max - used);
    return {
      ...q,
      remainingBytes: left(q.maxBytes, q.usedBytes),
      remainingFiles: left(q.maxFiles, q.usedFiles),
    };
  }
}

export class StorageUsageDto {
  @ApiProperty({ example: 'acme' }) orgKey!: string;
  @ApiProperty({ example: 52_428_800 }) totalBytes!: number;
  @ApiProperty({ example: 41_943_040 }) inputBytes!: number;
  @ApiProperty({ example: 10_485_760 }) outputBytes!: number;
  @ApiProperty({ example: 1_240 }) fileCount!: number;
  @ApiProperty({ type: [WorkflowUsageDto] }) breakdown!: WorkflowUsageDto[];
  @ApiProperty({
    type: StorageQuotaDto,
    description:
      "The organization's storage quota (whatever `createdBy`). The totals above come from the usage " +
      'events and may lag writes by the event pipeline; the quota figures are the ones writes are checked against.',
  })
  quota!: StorageQuotaDto;
}
