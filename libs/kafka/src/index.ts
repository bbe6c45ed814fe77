export * from './kafka.config';
export * from './kafka.connection';
export * from './kafka-names';
export * from './topics';
