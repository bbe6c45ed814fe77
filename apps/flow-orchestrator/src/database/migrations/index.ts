import { EVENTS_PUBLISHER_MIGRATIONS } from '@lib/events';

/** WARNING: persisted name. The Postgres schema flow-orchestrator owns. */
export const FLOW_SCHEMA = 'flow';

export const flowMigrations = [...EVENTS_PUBLISHER_MIGRATIONS];
