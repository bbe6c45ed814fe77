// A flow definition's shape, limits and `Key` templates (gateway and flow-orchestrator alike).

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
