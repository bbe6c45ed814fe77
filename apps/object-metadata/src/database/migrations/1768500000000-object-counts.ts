import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many objects each org has per state, content type and publication, so that `total_count` without a
 * `name` or `search` filter is a sum over a few rows instead of a count of every matching object (~5 s at
 * 1,000,000 objects).
 *
 * `object_counts` is append-only for writers: statement-level triggers on `objects` insert one row per
 * (org, published, state, content type) group a statement changed, with the group's net change (+n for
 * inserted rows, -n for deleted ones, both for an UPDATE that moves rows between groups). They never update
 * or lock an existing row (there is no key to conflict on), so concurrent writers of one org never wait for
 * each other here and cannot deadlock, however their statements are batched. A count is the sum of a
 * group's rows; `ObjectsRepository.compactCounts` folds them into one row per group in the background.
 * A TRUNCATE of `objects` empties `object_counts` too.
 *
 * The functions keep the search path they were created with (`SET search_path FROM CURRENT`): a write to
 * `object_metadata.objects` from a connection on another search path (the CLI, the benches) is counted in
 * this schema as well.
 *
 * Expand-only: a new table, its indexes, functions and triggers. It is filled from `objects` under a lock
 * that holds writes to `objects` back (reads go on) from before the triggers exist until the commit, so no
 * write is missed or counted twice; the scan takes about a second per million objects.
 */
export class ObjectCounts1768500000000 implements MigrationInterface {
  name = 'ObjectCounts1768500000000';

  async up(q: QueryRunner): Promise<void> {
    // No primary key on purpose: a group has any number of rows until it is compacted.
    await q.query(`
      CREATE TABLE object_counts (
        org_id        uuid    NOT NULL,
        is_public     boolean NOT NULL,
        state         text    NOT NULL,
        content_type  text    NOT NULL,
        delta         bigint  NOT NULL
      )`);
    // An org's count (state = or <>, content type or not), and list_public's over every org.
    await q.query(
      `CREATE INDEX object_counts_org ON object_counts (org_id, state, content_type) INCLUDE (delta)`,
    );
    await q.query(
      `CREATE INDEX object_counts_public ON object_counts (state, content_type) INCLUDE (delta)
       WHERE is_public`,
    );
    // One function for the three kinds of statement: each trigger names only its own transition tables,
    // and PL/pgSQL plans a branch when it first runs it.
    await q.query(`
      CREATE FUNCTION object_counts_record() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO object_counts (org_id, is_public, state, content_type, delta)
          SELECT org_id, is_public, state, content_type, count(*) FROM added
          GROUP BY org_id, is_public, state, content_type;
        ELSIF TG_OP = 'DELETE' THEN
          INSERT INTO object_counts (org_id, is_public, state, content_type, delta)
          SELECT org_id, is_public, state, content_type, -count(*) FROM removed
          GROUP BY org_id, is_public, state, content_type;
        ELSE
          -- Rows whose group did not change cancel out: most updates record nothing.
          INSERT INTO object_counts (org_id, is_public, state, content_type, delta)
          SELECT org_id, is_public, state, content_type, sum(delta) FROM (
            SELECT org_id, is_public, state, content_type, -1 AS delta FROM removed
            UNION ALL
            SELECT org_id, is_public, state, content_type, 1 FROM added
          ) changes
          GROUP BY org_id, is_public, state, content_type
          HAVING sum(delta) <> 0;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION object_counts_clear() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        TRUNCATE object_counts;
        RETURN NULL;
      END $$`);
    // The lock CREATE TRIGGER takes itself (so it is not upgraded halfway): writes to objects wait from
    // here to the commit, reads do not. The backfill below then sees exactly the rows the triggers did not.
    await q.query(`LOCK TABLE objects IN SHARE ROW EXCLUSIVE MODE`);
    // Postgres allows transition tables on triggers of one event only: one trigger per event.
    await q.query(`
      CREATE TRIGGER object_counts_insert AFTER INSERT ON objects
      REFERENCING NEW TABLE AS added
      FOR EACH STATEMENT EXECUTE FUNCTION object_counts_record()`);
    await q.query(`
      CREATE TRIGGER object_counts_update AFTER UPDATE ON objects
      REFERENCING OLD TABLE AS removed NEW TABLE AS added
      FOR EACH STATEMENT EXECUTE FUNCTION object_counts_record()`);
    await q.query(`
      CREATE TRIGGER object_counts_delete AFTER DELETE ON objects
      REFERENCING OLD TABLE AS removed
      FOR EACH STATEMENT EXECUTE FUNCTION object_counts_record()`);
    await q.query(`
      CREATE TRIGGER object_counts_truncate AFTER TRUNCATE ON objects
      FOR EACH STATEMENT EXECUTE FUNCTION object_counts_clear()`);
    await q.query(`
      INSERT INTO object_counts (org_id, is_public, state, content_type, delta)
      SELECT org_id, is_public, state, content_type, count(*) FROM objects
      GROUP BY org_id, is_public, state, content_type`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER object_counts_truncate ON objects`);
    await q.query(`DROP TRIGGER object_counts_delete ON objects`);
    await q.query(`DROP TRIGGER object_counts_update ON objects`);
    await q.query(`DROP TRIGGER object_counts_insert ON objects`);
    await q.query(`DROP FUNCTION object_counts_clear()`);
    await q.query(`DROP FUNCTION object_counts_record()`);
    await q.query(`DROP TABLE object_counts`);
  }
}
