import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The full Objects API: publishing, the byte purge after a delete, the ETag recorded on
 * complete, and the indexes of the list filters.
 */
export class ObjectsApi1764100000000 implements MigrationInterface {
  name = 'ObjectsApi1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE objects
        ADD COLUMN is_public     boolean NOT NULL DEFAULT false,
        ADD COLUMN purge_pending boolean NOT NULL DEFAULT false,
        ADD COLUMN etag          text,
        ADD COLUMN late_purge_at_ms bigint,
        ADD CONSTRAINT objects_content_type_check
          CHECK (content_type IN ('unspecified', 'text', 'binary', 'gzip', 'tar', 'tgz'))`);
    // The default listing (every state but DELETED) of one org, newest first: deleted rows accumulate
    // and must not slow the keyset scan down. state=DELETED listings use objects_org_id_id.
    await q.query(
      `CREATE INDEX objects_org_live_id ON objects (org_id, id DESC) WHERE state <> 'DELETED'`,
    );
    // list_public: the few published objects across orgs, newest first.
    await q.query(`CREATE INDEX objects_public_id ON objects (id DESC) WHERE is_public`);
    // The reconciler's purge sweeps: deleted objects whose bytes are not confirmed gone yet, and deleted
    // objects whose upload URL was still valid (their bytes are removed again once it has expired).
    await q.query(`CREATE INDEX objects_purge_pending ON objects (id) WHERE purge_pending`);
    await q.query(
      `CREATE INDEX objects_late_purge ON objects (late_purge_at_ms) WHERE late_purge_at_ms IS NOT NULL`,
    );
    // `name` (partial, case-insensitive) and `search` filters are ILIKE '%…%', which no btree can serve; a
    // trigram GIN index can (pg_trgm is a trusted extension: the schema owner may create it). When the
    // extension already lives in another schema, its operator class is taken from there.
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA object_metadata`);
    const [{ schema }] = (await q.query(
      `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
       WHERE e.extname = 'pg_trgm'`,
    )) as { schema: string }[];
    await q.query(
      `CREATE INDEX objects_name_trgm ON objects USING gin (name "${schema}".gin_trgm_ops)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX objects_name_trgm`);
    await q.query(`DROP INDEX objects_late_purge`);
    await q.query(`DROP INDEX objects_purge_pending`);
    await q.query(`DROP INDEX objects_public_id`);
    await q.query(`DROP INDEX objects_org_live_id`);
    await q.query(`
      ALTER TABLE objects
        DROP CONSTRAINT objects_content_type_check,
        DROP COLUMN late_purge_at_ms,
        DROP COLUMN etag,
        DROP COLUMN purge_pending,
        DROP COLUMN is_public`);
  }
}
