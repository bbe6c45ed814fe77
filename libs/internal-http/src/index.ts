export * from './service-keys';
export * from './service-tokens';
export * from './service-tokens.env';
export * from './service-auth';
export * from './service-client';
export * from './batched-calls';
export * from './org-keys';
