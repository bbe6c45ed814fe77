export * from './bootstrap';
export * from './platform-modules';
