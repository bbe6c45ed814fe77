export * from './validate-env';
export * from './env.fragments';
export { EnvCheck } from './env-checks';
export * from './cors-origins';
export * from './config-sections';
export * from './define-config';
