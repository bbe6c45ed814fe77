import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Objects per org, state and content type, kept by a trigger on `objects`, so that the Objects API's
 * `total_count` of an org's listing (no filter, `state`, `content_type`) is a sum over a few rows instead
 * of a count of every object (~5 s at 1,000,000 objects). Eight shards per group (by backend process) keep
 * concurrent writers of one org off each other's counter row; a count sums them.
 *
 * The function keeps the schema it was created in (`SET search_path FROM CURRENT`): a write to
 * `object_metadata.objects` from a connection on another search path counts in this schema too.
 *
 * Expand-only: a new table and triggers. Filled from `objects` in the migration's transaction, which holds
 * writes to `objects` back for the time of one scan (about a second per million rows).
 */
export class ObjectCounts1768400000000 implements MigrationInterface {
  name = 'ObjectCounts1768400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE object_counts (
        org_id        uuid     NOT NULL,
        state         text     NOT NULL,
        content_type  text     NOT NULL,
        shard         smallint NOT NULL,
        n             bigint   NOT NULL,
        PRIMARY KEY (org_id, state, content_type, shard)
      )`);
    await q.query(`
      CREATE FUNCTION object_counts_apply() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      DECLARE
        writer_shard smallint := (pg_backend_pid() % 8)::smallint;
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          INSERT INTO object_counts AS c
          VALUES (OLD.org_id, OLD.state, OLD.content_type, writer_shard, -1)
          ON CONFLICT (org_id, state, content_type, shard) DO UPDATE SET n = c.n - 1;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO object_counts AS c
          VALUES (NEW.org_id, NEW.state, NEW.content_type, writer_shard, 1)
          ON CONFLICT (org_id, state, content_type, shard) DO UPDATE SET n = c.n + 1;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`LOCK TABLE objects IN SHARE ROW EXCLUSIVE MODE`);
    await q.query(`
      CREATE TRIGGER object_counts_insert_delete AFTER INSERT OR DELETE ON objects
      FOR EACH ROW EXECUTE FUNCTION object_counts_apply()`);
    await q.query(`
      CREATE TRIGGER object_counts_update AFTER UPDATE OF org_id, state, content_type ON objects
      FOR EACH ROW
      WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.state IS DISTINCT FROM NEW.state
            OR OLD.content_type IS DISTINCT FROM NEW.content_type)
      EXECUTE FUNCTION object_counts_apply()`);
    await q.query(`
      INSERT INTO object_counts (org_id, state, content_type, shard, n)
      SELECT org_id, state, content_type, 0, count(*) FROM objects
      GROUP BY org_id, state, content_type`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER object_counts_update ON objects`);
    await q.query(`DROP TRIGGER object_counts_insert_delete ON objects`);
    await q.query(`DROP FUNCTION object_counts_apply()`);
    await q.query(`DROP TABLE object_counts`);
  }
}
