import {
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { FLOW_LIMITS } from '@lib/contracts';

export class StartFlowDto {
  /** The flow definition body; absent or null: run the stored one. Checked by `parseFlowDefinition`. */
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsObject()
  definition?: Record<string, unknown> | null;
}

export class FlowNameParams {
  @Matches(FLOW_LIMITS.namePattern, {
    message: 'name must be 1-128 characters: letters, digits, ".", "_", "-" (not first)',
  })
  name!: string;
}

export class RunIdParams {
  @IsUUID('all', { message: 'runId must be a UUID' })
  runId!: string;
}

export class WorkflowIdParams {
  @IsUUID('all', { message: 'workflow_id must be a UUID' })
  workflowId!: string;
}

export class RunEdgeParams extends RunIdParams {
  @Matches(FLOW_LIMITS.idPattern, { message: 'edgeName must be a valid edge name' })
  edge!: string;
}

export class ResourceUrlDto {
  @IsString()
  @MaxLength(2048)
  resourceUri!: string;
}
