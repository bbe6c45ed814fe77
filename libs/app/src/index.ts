export * from './bootstrap';
export * from './platform-modules';
export * from './dual-protocol-server';
