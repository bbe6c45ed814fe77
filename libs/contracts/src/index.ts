export * from './topics';
export * from './events';
export * from './queues';
export * from './objects';
export * from './object-keys';
export * from './org-storage';
export * from './flows';
export * from './internal-commands';
