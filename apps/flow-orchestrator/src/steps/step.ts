import type { StepDefinition, StepType } from '@lib/contracts';
import type { RunBytes, StoredObject } from '../bytes/run-bytes';

/** A file a step reads: a filled data well edge or an earlier step's artifact. */
export interface StepInput {
  edge: string;
  filename: string;
  objectKey: string;
  sizeBytes: number;
  contentType: string | null;
}

export interface StepRunContext {
  runId: string;
  workflowId: string;
  workflowName: string;
  /** The trigger's payload (null for runs started by `POST /api/v1/flow/{name}`). */
  payload: unknown;
  /** When the run was created: archives use it as every entry's mtime, so a retry writes the same bytes. */
  createdAt: Date;
  step: StepDefinition;
  inputs: StepInput[];
  /** Where output `i` of `plan()` goes: keys fixed before the first attempt, so retries overwrite, not add. */
  outputKeys: string[];
  bytes: RunBytes;
  /** Aborted at the step's deadline (or the run's, if sooner): the step stops its I/O. */
  signal: AbortSignal;
}

export interface StepOutput {
  filename: string;
  objectKey: string;
  stored: StoredObject;
}

/** A built-in step type. `plan` names the files it will write; `run` writes exactly those. */
export interface StepHandler {
  readonly type: StepType;
  plan(step: StepDefinition, inputs: StepInput[]): string[];
  run(ctx: StepRunContext): Promise<StepOutput[]>;
}

/** A step that cannot succeed whatever the retries (bad input): the run ends in ERROR at once. */
export class StepFailedError extends Error {}
