export * from './connection';
export * from './job-producer';
export * from './reconciler';
export * from './micro-batcher';
export * from './keyed-batcher';
export * from './queue-metrics';
