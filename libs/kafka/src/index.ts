export * from './kafka.config';
export * from './topics';
