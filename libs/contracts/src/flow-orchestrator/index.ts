export * from './batch';
export * from './routes';
