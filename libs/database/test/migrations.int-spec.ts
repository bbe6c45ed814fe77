import { createTestDatabase, type TestDatabase } from '@lib/testing';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  DEFAULT_MIGRATION_TIMEOUTS,
  migrateAll,
  migrationStatus,
  schemaCheck,
} from '../src/migrate';

const SCHEMA = 'migrations_test';

class CreateNotes1700000001000 implements MigrationInterface {
  name = 'CreateNotes1700000001000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE notes (id int PRIMARY KEY)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notes`);
  }
}

class AddNoteText1700000002000 implements MigrationInterface {
  name = 'AddNoteText1700000002000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notes ADD COLUMN text text`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notes DROP COLUMN text`);
  }
}

/** A backfill that takes a while. */
class SlowBackfill1700000003000 implements MigrationInterface {
  name = 'SlowBackfill1700000003000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`SELECT pg_sleep(0.5)`);
  }
  async down(): Promise<void> {}
}

/**
 * An index on a table in use: built without blocking its writes, so outside a transaction. A failed build
 * leaves an invalid index behind, which the next run drops before building it again.
 */
class IndexNoteText1700000005000 implements MigrationInterface {
  name = 'IndexNoteText1700000005000';
  transaction = false;
  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS notes_text`);
    await q.query(`CREATE INDEX CONCURRENTLY notes_text ON notes (text)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY notes_text`);
  }
}

describe('migrations: status, readiness, timeouts', () => {
  let db: TestDatabase;
  const source = (migrations: (new () => MigrationInterface)[]) => ({
    url: db.url,
    schema: SCHEMA,
    migrations,
    applicationName: 'migrate',
  });

  beforeAll(async () => {
    db = await createTestDatabase('migrations');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should show what a schema lacks, and keep an app of the next release unready until it is applied', async () => {
    const release = [CreateNotes1700000001000, AddNoteText1700000002000];
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const check = schemaCheck(
        { query: (sql: string) => client.query(sql).then((r) => r.rows as unknown) },
        SCHEMA,
        release,
      );
      // A fresh database: nothing applied.
      expect(await migrationStatus([source(release)])).toEqual([
        {
          schema: SCHEMA,
          applied: 0,
          pending: ['CreateNotes1700000001000', 'AddNoteText1700000002000'],
        },
      ]);
      await expect(check.check()).rejects.toThrow(
        `schema ${SCHEMA} lacks 2 migration(s) of this release (first: CreateNotes1700000001000): run migrate`,
      );

      // The previous release's migrations only.
      expect(await migrateAll([source([CreateNotes1700000001000])])).toEqual([
        `${SCHEMA}: CreateNotes1700000001000`,
      ]);
      expect(await migrationStatus([source(release)])).toEqual([
        { schema: SCHEMA, applied: 1, pending: ['AddNoteText1700000002000'] },
      ]);
      await expect(check.check()).rejects.toThrow(
        /lacks 1 migration\(s\).*AddNoteText1700000002000/,
      );

      expect(await migrateAll([source(release)])).toEqual([`${SCHEMA}: AddNoteText1700000002000`]);
      expect(await migrationStatus([source(release)])).toEqual([
        { schema: SCHEMA, applied: 2, pending: [] },
      ]);
      await expect(check.check()).resolves.toBeUndefined();
    } finally {
      await client.end();
    }
  });

  it('should give up waiting for a table lock after the lock timeout, applying nothing', async () => {
    class AddNoteAuthor1700000004000 implements MigrationInterface {
      name = 'AddNoteAuthor1700000004000';
      async up(q: QueryRunner): Promise<void> {
        await q.query(`ALTER TABLE notes ADD COLUMN author text`);
      }
      async down(): Promise<void> {}
    }
    const release = [
      CreateNotes1700000001000,
      AddNoteText1700000002000,
      AddNoteAuthor1700000004000,
    ];
    // A long transaction of the running release reads the table: ALTER TABLE must wait for it.
    const reader = new Client({ connectionString: db.url });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM ${SCHEMA}.notes`);
      await expect(
        migrateAll([source(release)], { statementTimeoutMs: 0, lockTimeoutMs: 300 }),
      ).rejects.toThrow(/lock timeout/);
      await reader.query('COMMIT');
      expect((await migrationStatus([source(release)]))[0].pending).toEqual([
        'AddNoteAuthor1700000004000',
      ]);
      // Once the transaction is gone, the same run goes through.
      expect(await migrateAll([source(release)])).toEqual([
        `${SCHEMA}: AddNoteAuthor1700000004000`,
      ]);
    } finally {
      await reader.end();
    }
  });

  it("should run statements past the apps' statement timeout by default, and bound them when asked", async () => {
    expect(DEFAULT_MIGRATION_TIMEOUTS.statementTimeoutMs).toBe(0);
    const release = [CreateNotes1700000001000, AddNoteText1700000002000, SlowBackfill1700000003000];
    await expect(
      migrateAll([source(release)], { statementTimeoutMs: 100, lockTimeoutMs: 10_000 }),
    ).rejects.toThrow(/statement timeout/);
    expect(await migrateAll([source(release)])).toEqual([`${SCHEMA}: SlowBackfill1700000003000`]);
  });

  it('should build an index CONCURRENTLY when its migration opts out of the transaction, and retry a failed build', async () => {
    const release = [
      CreateNotes1700000001000,
      AddNoteText1700000002000,
      IndexNoteText1700000005000,
    ];
    const reader = new Client({ connectionString: db.url });
    const writer = new Client({ connectionString: db.url });
    const validity = async () =>
      (
        await reader.query<{ valid: boolean }>(
          `SELECT i.indisvalid AS valid FROM pg_index i
           WHERE i.indexrelid = to_regclass('${SCHEMA}.notes_text')`,
        )
      ).rows.map((r) => r.valid);
    await reader.connect();
    await writer.connect();
    try {
      // A write of the running release still open: the build waits for it, past the lock timeout.
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO ${SCHEMA}.notes (id) VALUES (100)`);
      await expect(
        migrateAll([source(release)], { statementTimeoutMs: 0, lockTimeoutMs: 300 }),
      ).rejects.toThrow(/lock timeout/);
      expect(await validity()).toEqual([false]);
      await writer.query('COMMIT');

      expect(await migrateAll([source(release)])).toEqual([
        `${SCHEMA}: IndexNoteText1700000005000`,
      ]);
      expect(await validity()).toEqual([true]);
      expect((await migrationStatus([source(release)]))[0].pending).toEqual([]);
    } finally {
      await writer.end();
      await reader.end();
    }
  });
});
