import { DataSource } from 'typeorm';
import { dataSourceOptions, DatabaseSettings } from './data-source-options';

// Any constant works; it only has to be the same for every process that migrates this database.
const MIGRATION_LOCK_ID = 7_300_114;

/**
 * Session settings of a migration run, not the apps' (whose statements stop after 15 s):
 * - `statementTimeoutMs` (default 0: none): a backfill or an index build may take long.
 * - `lockTimeoutMs` (default 10 s): a statement waiting longer for a table lock fails, so a migration
 *   queued behind a long transaction never holds every request to that table waiting behind it; run it
 *   again later.
 */
export interface MigrationTimeouts {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
}

export const DEFAULT_MIGRATION_TIMEOUTS: MigrationTimeouts = {
  statementTimeoutMs: 0,
  lockTimeoutMs: 10_000,
};

type MigrationSource = Omit<DatabaseSettings, 'entities'>;

/** Runs `fn` on a one-connection DataSource of `source` (no entities), closed after. */
async function withMigrationDataSource<T>(
  source: MigrationSource,
  fn: (ds: DataSource) => Promise<T>,
): Promise<T> {
  const ds = new DataSource(dataSourceOptions({ ...source, entities: [], poolSize: 1 }));
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

/**
 * Runs the pending migrations of each service schema, in order, under a Postgres advisory lock so that
 * several migrators (a Kubernetes Job retried, two developers) never interleave. Idempotent.
 * Each migration runs in a transaction of its own, unless its class sets `transaction = false` (what
 * `CREATE INDEX CONCURRENTLY` needs); such a migration must be safe to run again after failing halfway.
 * Returns the names of the migrations it applied.
 */
export async function migrateAll(
  sources: MigrationSource[],
  timeouts: MigrationTimeouts = DEFAULT_MIGRATION_TIMEOUTS,
): Promise<string[]> {
  const applied: string[] = [];
  for (const source of sources) {
    await withMigrationDataSource(source, async (ds) => {
      // One connection (poolSize 1): these settings hold for every migration that follows.
      await ds.query(`SET statement_timeout = ${Math.trunc(timeouts.statementTimeoutMs)}`);
      await ds.query(`SET lock_timeout = ${Math.trunc(timeouts.lockTimeoutMs)}`);
      await ds.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
      await ds.query(`CREATE SCHEMA IF NOT EXISTS "${source.schema}"`);
      const ran = await ds.runMigrations({ transaction: 'each' });
      applied.push(...ran.map((m) => `${source.schema}: ${m.name}`));
      await ds.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    });
  }
  return applied;
}

/** The names TypeORM records for these migration classes (their `name`, else the class name). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migrations
export function migrationNames(migrations: readonly Function[]): string[] {
  return migrations.map((m) => {
    const instance = new (m as new () => { name?: string })();
    return instance.name ?? m.name;
  });
}

/** The migrations of `names` that `schema` has not applied yet, in their order. */
export async function pendingMigrations(
  db: { query(sql: string): Promise<unknown> },
  schema: string,
  names: readonly string[],
): Promise<string[]> {
  const exists = (await db.query(
    `SELECT to_regclass('"${schema}".migrations') IS NOT NULL AS present`,
  )) as { present: boolean }[];
  if (!exists[0]?.present) return [...names];
  const rows = (await db.query(`SELECT name FROM "${schema}".migrations`)) as { name: string }[];
  const applied = new Set(rows.map((r) => r.name));
  return names.filter((n) => !applied.has(n));
}

/** Each schema's applied and pending migrations (the `migrate --status` command). */
export async function migrationStatus(
  sources: MigrationSource[],
): Promise<{ schema: string; applied: number; pending: string[] }[]> {
  const status = [];
  for (const source of sources) {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
    const names = migrationNames(source.migrations as Function[]);
    const pending = await withMigrationDataSource(source, (ds) =>
      pendingMigrations(ds, source.schema, names),
    );
    status.push({ schema: source.schema, applied: names.length - pending.length, pending });
  }
  return status;
}

/**
 * A readiness check (`HealthModule`): fails while the app's schema lacks a migration the app was built
 * with, so a replica of a new release takes no traffic before `migrate` has run. Once the schema is
 * current it stays so for the process's life, and the check stops asking.
 */
export function schemaCheck(
  db: { query(sql: string): Promise<unknown> },
  schema: string,
  migrations: readonly Function[], // eslint-disable-line @typescript-eslint/no-unsafe-function-type
): { name: string; check: () => Promise<void> } {
  const names = migrationNames(migrations);
  let current = false;
  return {
    name: 'schema',
    check: async () => {
      if (current) return;
      const pending = await pendingMigrations(db, schema, names);
      if (pending.length > 0) {
        throw new Error(
          `schema ${schema} lacks ${pending.length} migration(s) of this release (first: ${pending[0]}): run migrate`,
        );
      }
      current = true;
    },
  };
}
