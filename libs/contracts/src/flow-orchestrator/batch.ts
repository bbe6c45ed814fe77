import { IsOptional, IsUUID } from 'class-validator';

// The calls the gateway sends flow-orchestrator in batches (`ServiceClient.batched` → `POST /internal/batch`):
// the org trigger. Who the call acts for is no argument: it is the principal of the call's service token.

/** `runs.trigger`: the org trigger, a run of the org's workflow at its starting step with any JSON payload. */
export class RunTriggerCall {
  @IsUUID('all', { message: 'workflow_id must be a UUID' })
  workflowId!: string;

  /** Any JSON value (null when the request had no body). */
  @IsOptional()
  payload?: unknown;
}

/** The ops flow-orchestrator answers in a batch, by name. */
export const FLOW_ORCHESTRATOR_BATCH_OPS = {
  runTrigger: 'runs.trigger',
} as const;
