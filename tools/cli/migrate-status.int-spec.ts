import { migrationNames } from '@lib/database';
import { createEmptyTestDatabase, runAdminCli, type TestDatabase } from '@lib/testing';
import { Client } from 'pg';
import { migrationSources } from './migration-sources';

// `migrate --status` as an operator runs it: what each schema lacks, then nothing once `migrate` has run.
describe('migrate --status', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createEmptyTestDatabase('migrate_status');
  });

  afterAll(async () => {
    await db?.drop();
  });

  const status = async () => {
    const { stdout, stderr } = await runAdminCli(['migrate', '--status'], {
      DATABASE_URL: db.url,
    });
    return { schemas: JSON.parse(stdout) as unknown, note: stderr.trim() };
  };

  it('should list every pending migration per schema, apply nothing, and list none once migrated', async () => {
    const names = (s: (typeof migrationSources)[number]) =>
      // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
      migrationNames(s.migrations as Function[]);
    const total = migrationSources.reduce((n, s) => n + names(s).length, 0);

    expect(await status()).toEqual({
      schemas: migrationSources.map((s) => ({ schema: s.schema, applied: 0, pending: names(s) })),
      note: `${total} migration(s) pending`,
    });
    // Status applied nothing: no schema has a migrations table yet.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const { rows } = await pg.query(
        `SELECT table_schema FROM information_schema.tables WHERE table_name = 'migrations'`,
      );
      expect(rows).toEqual([]);
    } finally {
      await pg.end();
    }

    await runAdminCli(['migrate'], { DATABASE_URL: db.url });
    expect(await status()).toEqual({
      schemas: migrationSources.map((s) => ({
        schema: s.schema,
        applied: names(s).length,
        pending: [],
      })),
      note: 'every schema is current',
    });
  });
});
