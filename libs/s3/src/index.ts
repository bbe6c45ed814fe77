export * from './settings';
export * from './credentials';
export * from './client';
export * from './presigner';
export * as sigv4 from './sigv4';
export * from './retries';
export * from './bucket-cors';
export * from './object-store';
export * from './write-buffers';
