export * from './kafka.config';
export * from './kafka.connection';
export * from './topics';
