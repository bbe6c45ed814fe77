import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { pgConnectionConfig, type PostgresConnection } from './connection';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export interface DatabaseSettings extends PostgresConnection {
  /** The Postgres schema this service owns; no service reads another's. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function | string>;
  poolSize?: number;
  applicationName?: string;
}

/**
 * TypeORM options every service uses: migrations only (never `synchronize`), snake_case columns, the service's
 * own schema (and its own migrations table in it), bounded pool and statement timeout, TLS as
 * `pgConnectionConfig` says. Reads DATABASE_CA_FILE's file when set.
 */
export function dataSourceOptions(s: DatabaseSettings): DataSourceOptions {
  const { connectionString, ssl } = pgConnectionConfig(s);
  return {
    type: 'postgres',
    url: connectionString,
    ssl,
    schema: s.schema,
    entities: s.entities,
    migrations: s.migrations ?? [],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    namingStrategy: new SnakeNamingStrategy(),
    applicationName: s.applicationName,
    extra: {
      max: s.poolSize ?? 10,
      // A query stuck behind a lock must fail rather than hold a request forever.
      statement_timeout: 15_000,
      idle_in_transaction_session_timeout: 30_000,
      connectionTimeoutMillis: 5_000,
      // The search_path makes unqualified names resolve to the service's schema.
      options: `-c search_path=${s.schema},public`,
    },
  };
}
