export * from './json-text';
export * from './object-metadata.client';
export * from './storage.client';
export * from './flow-orchestrator.client';
export * from './usage-aggregator.client';
