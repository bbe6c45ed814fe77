import type { RunStatus } from './events';

// Flows, runs and uploads, and resource URIs: the definition shape,
// its validation (pure, shared by the gateway and the flow-orchestrator), the views and the limits.

/** Built-in step types (the flow-orchestrator's step registry implements each). */
export const STEP_TYPES = ['copy', 'archive', 'checksum', 'http'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** Data well sources; only `upload` is built (the others answer 400 "not supported yet"). */
export const DATA_WELL_SOURCES = ['upload', 'webhook', 'static'] as const;

/** Variables a data well's `Key` template may use, e.g. `${RUN_ID}/input.jpg`. */
export const KEY_TEMPLATE_VARIABLES = ['RUN_ID', 'WORKFLOW_ID', 'WORKFLOW_NAME', 'EDGE'] as const;
export type KeyTemplateVariable = (typeof KEY_TEMPLATE_VARIABLES)[number];

export const FLOW_LIMITS = {
  /** Largest request body of `POST /api/v1/flow/{name}` and of a trigger payload (413 past it). */
  bodyBytes: 1024 * 1024,
  dataWells: 32,
  steps: 64,
  /** Workflow names: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`. */
  namePattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  /** Step ids and edge names. */
  idPattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  /** Store names (a label: the platform has one bucket). */
  storePattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  /** A PutURL's lifetime. */
  uploadUrlSeconds: 3600,
  /** A resource download URL's lifetime (one hour). */
  downloadUrlSeconds: 3600,
  /** Largest HTTP step response stored as an artifact. */
  httpResponseBytes: 10 * 1024 * 1024,
  /** Largest file of `POST /api/v1/upload` and `POST /api/v1/upload/{runId}/{edge}` (413 past it). */
  uploadBytes: 100 * 1024 * 1024,
  /** The run segment of the key of a file uploaded to a workflow directly (no run). */
  directUploadRunId: 'direct',
  /** Largest filename (UTF-8 bytes) of a run file. */
  filenameBytes: 255,
} as const;

export interface DataWell {
  Edge: string;
  Store: string;
  Source: 'upload';
  Key: string;
}

export interface StepDefinition {
  ID: string;
  Type: StepType;
  /** Edges read: data well edges or outputs of other steps. */
  Inputs?: string[];
  /** The edge this step's artifacts are published on. */
  Output?: string;
  /** The next step; none ends the run. */
  Next?: string;
  /** Type-specific settings, e.g. `{Format: "tgz"}` (archive) or `{URL}` (http). */
  Config?: Record<string, unknown>;
}

export interface FlowDefinition {
  DataWells: DataWell[];
  Steps: StepDefinition[];
  StartingStepID: string | null;
}

/** A bad flow definition: the message names the problem (400 at definition time). */
export class FlowDefinitionError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function only(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new FlowDefinitionError(`${where}: unknown field '${key}'`);
    }
  }
}

function str(v: unknown, where: string, pattern?: RegExp): string {
  if (typeof v !== 'string' || v === '') {
    throw new FlowDefinitionError(`${where} must be a non-empty string`);
  }
  if (pattern && !pattern.test(v)) {
    throw new FlowDefinitionError(`${where} must match ${String(pattern)}`);
  }
  return v;
}

const TEMPLATE_VAR = /\$\{([^}]*)\}/g;

/** Checks a `Key` template: known variables only, and a last segment usable as a filename. */
export function checkKeyTemplate(key: string, where: string): void {
  for (const [, name] of key.matchAll(TEMPLATE_VAR)) {
    if (!(KEY_TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
      throw new FlowDefinitionError(
        `${where}: unknown template variable '\${${name}}' (known: ${KEY_TEMPLATE_VARIABLES.join(', ')})`,
      );
    }
  }
  if (/\$\{[^}]*$/.test(key)) throw new FlowDefinitionError(`${where}: unclosed '\${'`);
  const sample = expandKeyTemplate(key, {
    RUN_ID: '0',
    WORKFLOW_ID: '0',
    WORKFLOW_NAME: 'w',
    EDGE: 'e',
  });
  if (key.length > 512 || sample.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new FlowDefinitionError(
      `${where} must be a relative path of at most 512 characters without empty, '.' or '..' segments`,
    );
  }
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\x00-\x1f\x7f\\]/.test(key)) {
    throw new FlowDefinitionError(`${where} must not contain control characters or '\\'`);
  }
  // The last segment names the stored file: at most 255 bytes with the longest values expanded.
  const longest = expandKeyTemplate(key, {
    RUN_ID: '0'.repeat(36),
    WORKFLOW_ID: '0'.repeat(36),
    WORKFLOW_NAME: 'w'.repeat(128),
    EDGE: 'e'.repeat(64),
  });
  if (!isRunFilename(longest.slice(longest.lastIndexOf('/') + 1))) {
    throw new FlowDefinitionError(
      `${where}: its last segment (the file's name) may expand to more than ${FLOW_LIMITS.filenameBytes} bytes`,
    );
  }
}

/** `${RUN_ID}/input.jpg` → `<run id>/input.jpg`. The template was checked by `checkKeyTemplate`. */
export function expandKeyTemplate(key: string, vars: Record<KeyTemplateVariable, string>): string {
  return key.replace(TEMPLATE_VAR, (_, name: string) => vars[name as KeyTemplateVariable] ?? '');
}

/**
 * Parses and checks the flow definition body `{Flow: {DataWells, Steps?, StartingStepID?}}`. Throws a
 * FlowDefinitionError naming the problem: unknown fields, an unsupported source, an unknown step type, an
 * unknown edge or step, a missing starting step, a cycle.
 */
export function parseFlowDefinition(body: unknown): FlowDefinition {
  if (!isObject(body)) throw new FlowDefinitionError('the body must be a JSON object');
  only(body, ['Flow'], 'body');
  const flow = body.Flow;
  if (!isObject(flow)) throw new FlowDefinitionError('Flow must be an object');
  only(flow, ['DataWells', 'Steps', 'StartingStepID'], 'Flow');

  const rawWells = flow.DataWells ?? [];
  if (!Array.isArray(rawWells)) throw new FlowDefinitionError('Flow.DataWells must be an array');
  if (rawWells.length > FLOW_LIMITS.dataWells) {
    throw new FlowDefinitionError(`Flow.DataWells has more than ${FLOW_LIMITS.dataWells} entries`);
  }
  const edges = new Set<string>();
  const wells: DataWell[] = rawWells.map((w: unknown, i) => {
    const where = `Flow.DataWells[${i}]`;
    if (!isObject(w)) throw new FlowDefinitionError(`${where} must be an object`);
    only(w, ['Edge', 'Store', 'Source', 'Key'], where);
    const edge = str(w.Edge, `${where}.Edge`, FLOW_LIMITS.idPattern);
    if (edges.has(edge)) throw new FlowDefinitionError(`${where}.Edge '${edge}' is not unique`);
    edges.add(edge);
    const source = str(w.Source, `${where}.Source`);
    if (source === 'webhook' || source === 'static') {
      throw new FlowDefinitionError(`${where}.Source '${source}' is not supported yet`);
    }
    if (source !== 'upload') {
      throw new FlowDefinitionError(
        `${where}.Source must be one of ${DATA_WELL_SOURCES.join(', ')}`,
      );
    }
    const key = str(w.Key, `${where}.Key`);
    checkKeyTemplate(key, `${where}.Key`);
    return {
      Edge: edge,
      Store: str(w.Store, `${where}.Store`, FLOW_LIMITS.storePattern),
      Source: 'upload',
      Key: key,
    };
  });

  const rawSteps = flow.Steps ?? [];
  if (!Array.isArray(rawSteps)) throw new FlowDefinitionError('Flow.Steps must be an array');
  if (rawSteps.length > FLOW_LIMITS.steps) {
    throw new FlowDefinitionError(`Flow.Steps has more than ${FLOW_LIMITS.steps} entries`);
  }
  const ids = new Set<string>();
  const steps: StepDefinition[] = rawSteps.map((s: unknown, i) => {
    const where = `Flow.Steps[${i}]`;
    if (!isObject(s)) throw new FlowDefinitionError(`${where} must be an object`);
    only(s, ['ID', 'Type', 'Inputs', 'Output', 'Next', 'Config'], where);
    const id = str(s.ID, `${where}.ID`, FLOW_LIMITS.idPattern);
    if (ids.has(id)) throw new FlowDefinitionError(`${where}.ID '${id}' is not unique`);
    ids.add(id);
    const type = str(s.Type, `${where}.Type`);
    if (!(STEP_TYPES as readonly string[]).includes(type)) {
      throw new FlowDefinitionError(
        `${where}.Type: unknown step type '${type}' (known: ${STEP_TYPES.join(', ')})`,
      );
    }
    if (s.Inputs !== undefined && !Array.isArray(s.Inputs)) {
      throw new FlowDefinitionError(`${where}.Inputs must be an array of edge names`);
    }
    const inputs = ((s.Inputs as unknown[] | undefined) ?? []).map((e, j) =>
      str(e, `${where}.Inputs[${j}]`, FLOW_LIMITS.idPattern),
    );
    // An edge listed twice would make the step read (an archive: write) the same files again, as often as
    // the body has room to repeat it.
    const listed = new Set<string>();
    for (const edge of inputs) {
      if (listed.has(edge)) {
        throw new FlowDefinitionError(`${where}.Inputs: edge '${edge}' is listed more than once`);
      }
      listed.add(edge);
    }
    const step: StepDefinition = { ID: id, Type: type as StepType, Inputs: inputs };
    if (s.Output !== undefined)
      step.Output = str(s.Output, `${where}.Output`, FLOW_LIMITS.idPattern);
    if (s.Next !== undefined) step.Next = str(s.Next, `${where}.Next`, FLOW_LIMITS.idPattern);
    if (s.Config !== undefined) {
      if (!isObject(s.Config)) throw new FlowDefinitionError(`${where}.Config must be an object`);
      step.Config = s.Config;
    }
    checkStepConfig(step, where);
    return step;
  });

  let start: string | null = null;
  if (flow.StartingStepID !== undefined && flow.StartingStepID !== null) {
    start = str(flow.StartingStepID, 'Flow.StartingStepID');
    if (!ids.has(start)) {
      throw new FlowDefinitionError(`Flow.StartingStepID: unknown step '${start}'`);
    }
  } else if (steps.length > 0) {
    throw new FlowDefinitionError(
      'Flow.StartingStepID is missing: a flow with steps needs a starting step',
    );
  }

  const byId = new Map(steps.map((s) => [s.ID, s]));
  for (const [i, s] of steps.entries()) {
    if (s.Next !== undefined && !byId.has(s.Next)) {
      throw new FlowDefinitionError(`Flow.Steps[${i}].Next: unknown step '${s.Next}'`);
    }
  }
  // The chain from the starting step: a step seen twice is a cycle. Inputs must be data well edges or
  // outputs of steps that ran before.
  const available = new Set(edges);
  const seen = new Set<string>();
  for (let id = start; id !== null;) {
    if (seen.has(id)) throw new FlowDefinitionError(`Flow.Steps: cycle through step '${id}'`);
    seen.add(id);
    const step = byId.get(id)!;
    for (const input of step.Inputs ?? []) {
      if (!available.has(input)) {
        throw new FlowDefinitionError(
          `Flow.Steps '${id}': unknown edge '${input}' (not a data well edge nor the output of an earlier step)`,
        );
      }
    }
    if (step.Output !== undefined) {
      if (available.has(step.Output)) {
        throw new FlowDefinitionError(
          `Flow.Steps '${id}': output edge '${step.Output}' is already defined`,
        );
      }
      available.add(step.Output);
    }
    id = step.Next ?? null;
  }
  for (const [i, s] of steps.entries()) {
    if (!seen.has(s.ID)) {
      // Unreachable steps could still form a cycle or name unknown edges; refusing them keeps it simple.
      throw new FlowDefinitionError(
        `Flow.Steps[${i}] '${s.ID}' is not reachable from the starting step`,
      );
    }
  }
  return { DataWells: wells, Steps: steps, StartingStepID: start };
}

function checkStepConfig(step: StepDefinition, where: string): void {
  const config = step.Config ?? {};
  const allowed: Record<StepType, string[]> = {
    copy: [],
    archive: ['Format', 'Filename'],
    checksum: ['Filename'],
    http: ['URL', 'Filename'],
  };
  only(config, allowed[step.Type], `${where}.Config`);
  if ((step.Inputs ?? []).length === 0 && step.Type !== 'http') {
    throw new FlowDefinitionError(`${where}: a '${step.Type}' step needs at least one input edge`);
  }
  if (config.Filename !== undefined) {
    const name = str(config.Filename, `${where}.Config.Filename`);
    if (!isRunFilename(name)) {
      throw new FlowDefinitionError(`${where}.Config.Filename is not a valid filename`);
    }
  }
  if (step.Type === 'archive' && config.Format !== undefined) {
    if (config.Format !== 'tar' && config.Format !== 'tgz') {
      throw new FlowDefinitionError(`${where}.Config.Format must be 'tar' or 'tgz'`);
    }
  }
  if (step.Type === 'http') {
    const url = str(config.URL, `${where}.Config.URL`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new FlowDefinitionError(`${where}.Config.URL is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new FlowDefinitionError(`${where}.Config.URL must be http(s)`);
    }
  }
}

/** One path segment, no control characters, at most 255 UTF-8 bytes (the run-file key's last segment). */
export function isRunFilename(name: string): boolean {
  return (
    name !== '' &&
    name !== '.' &&
    name !== '..' &&
    Buffer.byteLength(name) <= FLOW_LIMITS.filenameBytes &&
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    !/[/\\\x00-\x1f\x7f]/.test(name)
  );
}

/** The flows API's `WaitingURLs` entry. */
export interface WaitingUrlView {
  Artifact: { StoreName: string; ObjectName: string; EdgeName: string };
  PutURL: string;
  /** RFC 3339: when the PutURL expires. */
  TTL: string;
}

/** The flows API's run answer (`POST /api/v1/flow/{name}`, `GET /api/v1/flow/status/{runId}`). */
/** A run's input or artifact: `ObjectKey` is its public download key (the public download's `objectKey`). */
export interface RunFileView {
  Edge: string;
  Name: string;
  URI: string;
  ObjectKey: string;
  SizeBytes: number;
}

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

/** The resource URL `generate_download_url` answer. */
export interface ResourceDownloadUrlView {
  download_url: string;
  download_expires_at: string;
  resource_uri: string;
  filename: string;
  tool_trace_id: string;
  workflow_id: string;
}

export const RESOURCE_TYPES = ['uploads', 'artifacts'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** `workflow://{workflowId}/{uploads|artifacts}/{filename}`. */
export function workflowResourceUri(
  workflowId: string,
  type: ResourceType,
  filename: string,
): string {
  return `workflow://${workflowId}/${type}/${filename}`;
}

export type ParsedResourceUri =
  | { ok: true; workflowId: string; type: ResourceType; filename: string }
  | { ok: false; message: string };

/** Parses a resource URI; the error messages are the resource URL contract's, verbatim. */
export function parseResourceUri(uri: string): ParsedResourceUri {
  const scheme = 'workflow://';
  if (!uri.startsWith(scheme)) {
    const got = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(uri)?.[0] ?? uri;
    return { ok: false, message: `Invalid URI protocol. Expected 'workflow://', got: ${got}` };
  }
  const parts = uri.slice(scheme.length).split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    return {
      ok: false,
      message: `Invalid URI path. Expected format: workflow://{workflowId}/{type}/{filename}, got: ${uri}`,
    };
  }
  const [workflowId, type, filename] = parts;
  if (!(RESOURCE_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      message: `Invalid resource type '${type}'. Expected 'uploads' or 'artifacts'`,
    };
  }
  return { ok: true, workflowId, type: type as ResourceType, filename };
}
