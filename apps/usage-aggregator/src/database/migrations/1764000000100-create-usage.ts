import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsage1764000000100 implements MigrationInterface {
  name = 'CreateUsage1764000000100';

  async up(q: QueryRunner): Promise<void> {
    // The latest known state of each file, from its newest event (by `version`): makes the aggregates
    // order-safe, since an older event arriving late changes nothing.
    await q.query(`
      CREATE TABLE file_usage (
        object_id   text PRIMARY KEY,
        org_id      uuid NOT NULL,
        workflow_id text,
        created_by  uuid,
        direction   text NOT NULL,
        size_bytes  bigint NOT NULL,
        live        boolean NOT NULL,
        version     int NOT NULL
      )`);
    // Pre-aggregated totals: the usage endpoint reads one row (constant time).
    await q.query(`
      CREATE TABLE org_usage (
        org_id       uuid PRIMARY KEY,
        org_key      text NOT NULL,
        total_bytes  bigint NOT NULL DEFAULT 0,
        input_bytes  bigint NOT NULL DEFAULT 0,
        output_bytes bigint NOT NULL DEFAULT 0,
        file_count   bigint NOT NULL DEFAULT 0
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE org_usage`);
    await q.query(`DROP TABLE file_usage`);
  }
}
