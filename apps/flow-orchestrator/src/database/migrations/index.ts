import { EVENTS_PUBLISHER_MIGRATIONS } from '@lib/events';
import { CreateFlows1766000000000 } from './1766000000000-create-flows';
import { RunEdgeInputKey1768100000000 } from './1768100000000-run-edge-input-key';

/** WARNING: persisted name. The Postgres schema flow-orchestrator owns. */
export const FLOW_SCHEMA = 'flow';

export const flowMigrations = [
  ...EVENTS_PUBLISHER_MIGRATIONS,
  CreateFlows1766000000000,
  RunEdgeInputKey1768100000000,
];
