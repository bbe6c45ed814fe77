import { dataSourceOptions, type PostgresConnection } from '@lib/database';
import type { DataSourceOptions } from 'typeorm';
import { IDENTITY_SCHEMA, identityMigrations } from '../database/migrations';
import { ApiKeyEntity } from './api-key.entity';
import { OrgEntity } from './org.entity';
import { UserEntity } from './user.entity';

/** Name of the gateway's TypeORM data source (`@InjectDataSource(IDENTITY_CONNECTION)`). */
export const IDENTITY_CONNECTION = 'identity';

export const identityEntities = [OrgEntity, UserEntity, ApiKeyEntity];

/** The identity schema's data source, shared by the gateway's IdentityModule and the admin CLI. */
export function identityDataSourceOptions(
  connection: PostgresConnection,
  opts: { poolSize?: number; applicationName?: string } = {},
): DataSourceOptions {
  return dataSourceOptions({
    ...connection,
    schema: IDENTITY_SCHEMA,
    entities: identityEntities,
    migrations: identityMigrations,
    poolSize: opts.poolSize,
    applicationName: opts.applicationName ?? 'gateway',
  });
}
