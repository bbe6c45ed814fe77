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
  @ApiProperty() workflowId!: string;
  @ApiProperty({ description: 'Empty until the workflow’s run.created has been seen' })
  workflowName!: string;
  @ApiProperty() bytes!: number;
  @ApiProperty() fileCount!: number;
}

export class StorageQuotaDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Most bytes the org may store; null: unlimited',
  })
  maxBytes!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Most files the org may store; null: unlimited',
  })
  maxFiles!: number | null;
  @ApiProperty({
    description:
      'Bytes that count against the quota now: every live file of the org, counted as each change commits',
  })
  usedBytes!: number;
  @ApiProperty({
    description: 'Files that count against the quota now (objects from their create)',
  })
  usedFiles!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Bytes the org may still add (0 when over a lowered quota); null: unlimited',
  })
  remainingBytes!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Files the org may still add (0 when over a lowered quota); null: unlimited',
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
  @ApiProperty() orgKey!: string;
  @ApiProperty() totalBytes!: number;
  @ApiProperty() inputBytes!: number;
  @ApiProperty() outputBytes!: number;
  @ApiProperty() fileCount!: number;
  @ApiProperty({ type: [WorkflowUsageDto] }) breakdown!: WorkflowUsageDto[];
  @ApiProperty({
    type: StorageQuotaDto,
    description:
      "The organization's storage quota (whatever `createdBy`). The totals above come from the usage " +
      'events and may lag writes by the event pipeline; the quota figures are the ones writes are checked against.',
  })
  quota!: StorageQuotaDto;
}
