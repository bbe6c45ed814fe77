// Flows, runs and uploads, and resource URIs: the definition shape, its validation (pure, shared by the
// gateway and the flow-orchestrator), the views and the limits.

export * from './flow-definition';
export * from './flow-definition-parser';
export * from './run-views';
export * from './resource-uris';
