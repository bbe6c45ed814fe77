export * from './delayed-round-robin.assigner';
export * from './kafka.config';
