import { DataSource } from 'typeorm';
import { dataSourceOptions, DatabaseSettings } from './data-source-options';

// Any constant works; it only has to be the same for every process that migrates this database.
const MIGRATION_LOCK_ID = 7_300_114;

/**
 * Runs the pending migrations of each service schema, in order, under a Postgres advisory lock so that
 * several migrators (a Kubernetes Job retried, two developers) never interleave. Idempotent.
 * Returns the names of the migrations it applied.
 */
export async function migrateAll(sources: Omit<DatabaseSettings, 'entities'>[]): Promise<string[]> {
  const applied: string[] = [];
  for (const source of sources) {
    const ds = new DataSource(dataSourceOptions({ ...source, entities: [], poolSize: 1 }));
    await ds.initialize();
    try {
      await ds.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
      await ds.query(`CREATE SCHEMA IF NOT EXISTS "${source.schema}"`);
      const ran = await ds.runMigrations({ transaction: 'each' });
      applied.push(...ran.map((m) => `${source.schema}: ${m.name}`));
      await ds.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    } finally {
      await ds.destroy();
    }
  }
  return applied;
}
