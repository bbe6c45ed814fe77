export * from './kafka-mock-cluster';
export * from './postgres';
export * from './redis';
export * from './wait';
export * from './platform-processes';
export * from './local-s3';
export * from './repo-root';
