import {
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { FLOW_LIMITS } from '../flows';

// What flow-orchestrator's internal routes take and answer (`FlowOrchestratorClient` of @lib/clients sends
// them, its controllers validate them), for the org of the call's principal. The flows API's views are
// ../flows/run-views.ts, the batched trigger ./batch.ts.

/** Starts a run of the workflow named in the path. */
export class StartFlowCommand {
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

/** A `workflow://` resource URI to sign a download URL for. */
export class ResourceUrlCommand {
  @IsString()
  @MaxLength(2048)
  resourceUri!: string;
}

/** A workflow of the org, as the internal routes name it. */
export interface WorkflowRef {
  id: string;
  name: string;
  startingStepId: string | null;
}

/** Where an upload to a waiting edge goes. */
export interface RunUploadTarget {
  objectKey: string;
  filename: string;
  putUrl: string;
}
