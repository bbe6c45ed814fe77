export * from './validate-env';
export * from './env.fragments';
export { EnvCheck } from './env-checks';
export * from './cors-origins';
