import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateObjects1764000000000 implements MigrationInterface {
  name = 'CreateObjects1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE objects (
        id                   text PRIMARY KEY,
        org_id               uuid NOT NULL,
        org_key              text NOT NULL,
        name                 text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 1024),
        content_type         text NOT NULL,
        state                text NOT NULL CHECK (state IN ('UPLOADING', 'READ_ONLY', 'DELETED', 'ERROR')),
        size_bytes           bigint CHECK (size_bytes >= 0),
        metadata             jsonb,
        object_key           text NOT NULL UNIQUE,
        created_by           uuid,
        create_time_ms       bigint NOT NULL,
        delete_after_time_ms bigint,
        version              int NOT NULL DEFAULT 1
      )`);
    // Keyset pagination of one org's objects, newest first.
    await q.query(`CREATE INDEX objects_org_id_id ON objects (org_id, id DESC)`);
    // The TTL reconciler's sweep: live objects whose deadline has passed.
    await q.query(
      `CREATE INDEX objects_due ON objects (delete_after_time_ms) WHERE state <> 'DELETED' AND delete_after_time_ms IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE objects`);
  }
}
