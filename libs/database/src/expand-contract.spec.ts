import type { QueryRunner } from 'typeorm';
import {
  type ContractMarker,
  expandContractViolations,
  type MigrationRuleViolation,
  sqlStatements,
} from './expand-contract';

/** A migration class whose `up` sends `calls`, one query each. */
function fakeMigration(
  name: string,
  calls: string[],
  options: { transaction?: boolean; contract?: ContractMarker } = {},
) {
  const migration = class {
    name = name;
    transaction = options.transaction;
    async up(q: QueryRunner): Promise<void> {
      for (const sql of calls) await q.query(sql);
    }
  };
  return Object.assign(migration, options.contract ? { contract: options.contract } : {});
}

const problems = (violations: MigrationRuleViolation[]) =>
  violations.map((v) => `${v.rule}: ${v.problem}`);

describe(expandContractViolations.name, () => {
  const sut = expandContractViolations;

  it.each([
    ['DROP TABLE notes', 'expand: drops table notes'],
    ['DROP TABLE IF EXISTS "app".notes CASCADE', 'expand: drops table notes'],
    ['DROP VIEW note_titles', 'expand: drops view note_titles'],
    ['ALTER TABLE notes DROP COLUMN body', 'expand: drops a column of existing table notes'],
    [
      'ALTER TABLE notes ADD COLUMN x int, DROP body',
      'expand: drops a column of existing table notes',
    ],
    [
      'ALTER TABLE notes RENAME COLUMN body TO text',
      'expand: renames table notes or one of its columns',
    ],
    ['ALTER TABLE notes RENAME TO memos', 'expand: renames table notes or one of its columns'],
    ['ALTER INDEX notes_author RENAME TO notes_by', 'expand: renames an existing object'],
    [
      'ALTER TABLE notes ALTER COLUMN id TYPE bigint',
      'expand: changes the type of existing column notes.id',
    ],
    [
      'ALTER TABLE ONLY notes ALTER id SET DATA TYPE bigint',
      'expand: changes the type of existing column notes.id',
    ],
    [
      'ALTER TABLE notes ALTER COLUMN body SET NOT NULL',
      'expand: makes existing column notes.body NOT NULL without a default',
    ],
    [
      'ALTER TABLE notes ADD COLUMN author text NOT NULL',
      'expand: adds NOT NULL column author to notes without a default',
    ],
    [
      'CREATE INDEX notes_author ON notes (author)',
      'expand: builds an index on existing table notes without CONCURRENTLY',
    ],
    [
      'CREATE UNIQUE INDEX IF NOT EXISTS notes_author ON "app"."notes" USING btree (author)',
      'expand: builds an index on existing table notes without CONCURRENTLY',
    ],
    [
      "-- backfill first\nUPDATE notes SET body = ''; DROP TABLE old_notes",
      'expand: drops table old_notes',
    ],
  ])(
    'should refuse %j when the previous release may still use what it changes',
    async (sql, problem) => {
      expect(problems(await sut([fakeMigration('Breaking1700000000001', [sql])]))).toEqual([
        problem,
      ]);
    },
  );

  it('should name the migration and the statement when it refuses one', async () => {
    expect(
      await sut([
        fakeMigration('Breaking1700000000001', [
          `ALTER TABLE notes ADD COLUMN author text`,
          `\n      DROP TABLE   old_notes\n`,
        ]),
      ]),
    ).toEqual([
      {
        migration: 'Breaking1700000000001',
        statement: 'DROP TABLE old_notes',
        problem: 'drops table old_notes',
        rule: 'expand',
      },
    ]);
  });

  it('should accept new tables, nullable or defaulted columns and concurrent indexes when nothing existing changes', async () => {
    const expanding = fakeMigration('Expanding1700000000002', [
      `CREATE TABLE IF NOT EXISTS "app".tags (id int PRIMARY KEY, name text NOT NULL)`,
      `CREATE UNIQUE INDEX tags_name ON tags (name)`,
      `ALTER TABLE tags ADD COLUMN color text NOT NULL, RENAME COLUMN name TO label`,
      `ALTER TABLE notes
         ADD COLUMN tag_id int REFERENCES tags (id),
         ADD COLUMN pinned boolean NOT NULL DEFAULT false,
         ADD CONSTRAINT notes_pinned_check CHECK (pinned IS NOT NULL),
         DROP CONSTRAINT notes_old_check`,
      `ALTER TABLE notes ALTER COLUMN body SET DEFAULT '', ALTER COLUMN body SET NOT NULL`,
      `CREATE FUNCTION "app".touch() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN NEW.updated_at = now(); RETURN NEW; END $$`,
      `INSERT INTO tags VALUES (1, '; DROP TABLE notes')`,
      `-- DROP TABLE notes once nothing reads it`,
      `CREATE TABLE tags_staging (id int)`,
      `DROP TABLE tags_staging`,
    ]);
    const concurrent = fakeMigration(
      'ConcurrentIndex1700000000003',
      [
        `DROP INDEX CONCURRENTLY IF EXISTS notes_tag`,
        `CREATE INDEX CONCURRENTLY notes_tag ON notes (tag_id)`,
      ],
      { transaction: false },
    );
    expect(await sut([expanding, concurrent])).toEqual([]);
  });

  it('should refuse CONCURRENTLY when the migration runs in a transaction or sends it with other statements', async () => {
    expect(
      problems(
        await sut([
          fakeMigration('InTransaction1700000000004', [
            `CREATE INDEX CONCURRENTLY notes_tag ON notes (tag_id)`,
          ]),
          fakeMigration(
            'OneQuery1700000000005',
            [`CREATE INDEX CONCURRENTLY a ON notes (a); CREATE INDEX CONCURRENTLY b ON notes (b)`],
            { transaction: false },
          ),
        ]),
      ),
    ).toEqual([
      'runner: builds an index CONCURRENTLY in a transaction: set transaction = false',
      'runner: builds an index CONCURRENTLY in a query of several statements',
      'runner: builds an index CONCURRENTLY in a query of several statements',
    ]);
  });

  it('should let a contract step drop what it names a release for, but not run CONCURRENTLY in a transaction', async () => {
    const contract = fakeMigration(
      'DropOldNotes1700000000006',
      [`DROP TABLE old_notes`, `CREATE INDEX CONCURRENTLY notes_tag ON notes (tag_id)`],
      { contract: { unreadSince: '2026-12-07' } },
    );
    expect(problems(await sut([contract]))).toEqual([
      'runner: builds an index CONCURRENTLY in a transaction: set transaction = false',
    ]);
  });

  it('should refuse a contract marker when it names no release', async () => {
    const contract = fakeMigration('DropOldNotes1700000000007', [`DROP TABLE old_notes`], {
      contract: { unreadSince: ' ' },
    });
    expect(problems(await sut([contract]))).toEqual([
      'runner: is marked as a contract step without the release since which nothing reads it',
    ]);
  });

  it('should skip the expand rule for a grandfathered migration only', async () => {
    const old = fakeMigration('Released1700000000008', [`DROP TABLE old_notes`]);
    const next = fakeMigration('Next1700000000009', [`DROP TABLE older_notes`]);
    expect(problems(await sut([old, next], new Set(['Released1700000000008'])))).toEqual([
      'expand: drops table older_notes',
    ]);
  });

  it('should refuse a migration when it uses the QueryRunner API instead of SQL', async () => {
    const builder = class {
      name = 'Builder1700000000010';
      async up(q: QueryRunner): Promise<void> {
        await q.dropColumn('notes', 'body');
      }
    };
    expect(problems(await sut([builder]))).toEqual([
      'runner: uses QueryRunner.dropColumn: write migrations as SQL (query)',
    ]);
  });
});

describe(sqlStatements.name, () => {
  const sut = sqlStatements;

  it('should split on semicolons outside quotes and dollar-quoted bodies when given several statements', () => {
    expect(
      sut(`
        -- a comment; with a semicolon
        CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
        INSERT INTO t VALUES ('a;b', "c;d") /* ; */ ;
        SELECT $$;$$`),
    ).toEqual([
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
      `INSERT INTO t VALUES ('a;b', "c;d")`,
      'SELECT $$;$$',
    ]);
  });
});
