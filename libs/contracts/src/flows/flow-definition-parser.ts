import {
  DATA_WELL_SOURCES,
  DataWell,
  checkKeyTemplate,
  FLOW_LIMITS,
  FlowDefinition,
  FlowDefinitionError,
  isRunFilename,
  STEP_TYPES,
  StepDefinition,
  StepType,
} from './flow-definition';

// The check of a flow definition body (pure): the gateway's and the flow-orchestrator's.

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
