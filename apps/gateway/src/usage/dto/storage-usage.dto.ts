import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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

export class StorageUsageDto {
  @ApiProperty() orgKey!: string;
  @ApiProperty() totalBytes!: number;
  @ApiProperty() inputBytes!: number;
  @ApiProperty() outputBytes!: number;
  @ApiProperty() fileCount!: number;
  @ApiProperty({ type: [WorkflowUsageDto] }) breakdown!: WorkflowUsageDto[];
}
