import type { RunStatus } from '../events';

// The flows API's answers about runs.

/** The flows API's `WaitingURLs` entry. */
export interface WaitingUrlView {
  Artifact: { StoreName: string; ObjectName: string; EdgeName: string };
  PutURL: string;
  /** RFC 3339: when the PutURL expires. */
  TTL: string;
}

/** A run's input or artifact: `ObjectKey` is its public download key (the public download's `objectKey`). */
export interface RunFileView {
  Edge: string;
  Name: string;
  URI: string;
  ObjectKey: string;
  SizeBytes: number;
}

/** The flows API's run answer (`POST /api/v1/flow/{name}`, `GET /api/v1/flow/status/{runId}`). */
export interface FlowRunView {
  ID: string;
  Status: RunStatus;
  WaitingURLs?: WaitingUrlView[];
  WorkflowID: string;
  WorkflowName: string;
  Reason?: string;
  CurrentStep?: string | null;
  Artifacts?: RunFileView[];
  Inputs?: RunFileView[];
  CreatedAt: string;
  UpdatedAt: string;
}

/** The org trigger answer's `data`. */
export interface TriggerResultView {
  runId: string;
  result: { jobId: string; queue: string; state: string };
}
