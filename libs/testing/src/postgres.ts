import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { runAdminCli } from './admin-cli';
import { REPO_ROOT } from './repo-root';

/** Superuser connection of the local Postgres; tests create and drop their own databases through it. */
export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A database migrated once per test run; every suite clones it (CREATE DATABASE … TEMPLATE is fast). One per
 * checkout: runs from two checkouts (git worktrees) on one Postgres must not drop or migrate each other's.
 */
export const TEMPLATE_DATABASE = `platform_test_template_${createHash('sha256')
  .update(REPO_ROOT)
  .digest('hex')
  .slice(0, 8)}`;

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs the admin CLI's `migrate` (every service schema) against a database, from source. */
export async function migrateDatabase(url: string): Promise<void> {
  await runAdminCli(['migrate'], { DATABASE_URL: url });
}

/** Recreates the template database and migrates it; called once by the integration and e2e global setup. */
export async function prepareTemplateDatabase(): Promise<void> {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  });
  await migrateDatabase(databaseUrl(TEMPLATE_DATABASE));
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one suite; `drop()` removes it. */
export function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  return newDatabase(prefix, `TEMPLATE ${TEMPLATE_DATABASE}`);
}

/** A fresh database without any schema, for a suite that migrates it itself; `drop()` removes it. */
export function createEmptyTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  return newDatabase(prefix, '');
}

async function newDatabase(prefix: string, options: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name} ${options}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(),
  };
}
