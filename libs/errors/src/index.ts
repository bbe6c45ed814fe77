export * from './domain.exception';
export * from './validation';
export * from './http-error.filter';
