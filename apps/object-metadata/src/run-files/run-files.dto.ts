import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { ActingOrgWriter } from '@lib/contracts';

/** Internal command from the flow-orchestrator: record a run's input or artifact (once, by key). */
export class RecordRunFileDto extends ActingOrgWriter() {
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  workflowId!: string;

  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  runId!: string;

  @IsString()
  @MaxLength(64)
  edge!: string;

  @IsIn(['input', 'output'])
  direction!: 'input' | 'output';

  @IsString()
  @MaxLength(1024)
  objectKey!: string;

  @IsString()
  @MaxLength(255)
  filename!: string;

  @IsInt()
  @Min(0)
  sizeBytes!: number;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  contentType?: string | null;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  etag?: string | null;
}

export class LatestRunFileQueryDto {
  @IsUUID()
  orgId!: string;

  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  workflowId!: string;

  @IsIn(['input', 'output'])
  direction!: 'input' | 'output';

  @IsString()
  @MaxLength(255)
  filename!: string;
}
