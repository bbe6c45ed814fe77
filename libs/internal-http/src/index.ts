export * from './service-client';
export * from './batched-calls';
