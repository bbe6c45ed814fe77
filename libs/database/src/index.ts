export * from './connection';
export * from './data-source-options';
export * from './snake-naming.strategy';
export * from './migrate';
export * from './prepared-query';
export * from './transactions';
export * from './expand-contract';
