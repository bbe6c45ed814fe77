import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-workflow and per-user usage (storage usage's `breakdown` and `createdBy`), and workflow names from
 * `run.created`. `usage_totals` replaces `org_usage`: one row per (org, user, workflow), where the nil UUID
 * means "every user" and `''` "every workflow", so each answer reads a handful of rows whatever the number
 * of files.
 */
export class UsageBreakdown1767000000000 implements MigrationInterface {
  name = 'UsageBreakdown1767000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_totals (
        org_id       uuid   NOT NULL,
        user_id      uuid   NOT NULL,
        workflow_id  text   NOT NULL,
        total_bytes  bigint NOT NULL DEFAULT 0,
        input_bytes  bigint NOT NULL DEFAULT 0,
        output_bytes bigint NOT NULL DEFAULT 0,
        file_count   bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (org_id, user_id, workflow_id)
      )`);
    // Names shown in the breakdown; the newest run.created wins (`named_at`), whatever the delivery order.
    await q.query(`
      CREATE TABLE workflows (
        workflow_id text PRIMARY KEY,
        org_id      uuid NOT NULL,
        name        text NOT NULL,
        named_at    timestamptz NOT NULL
      )`);
    await q.query(`ALTER TABLE file_usage ADD COLUMN org_key text NOT NULL DEFAULT ''`);
    // Rebuilds and the truth check walk one org's files.
    await q.query(`CREATE INDEX file_usage_org ON file_usage (org_id) WHERE live`);
    await q.query(`
      INSERT INTO usage_totals (org_id, user_id, workflow_id, total_bytes, input_bytes, output_bytes, file_count)
      SELECT org_id, '00000000-0000-0000-0000-000000000000', '', total_bytes, input_bytes, output_bytes, file_count
      FROM org_usage`);
    await q.query(
      `UPDATE file_usage f SET org_key = o.org_key FROM org_usage o WHERE o.org_id = f.org_id`,
    );
    await q.query(`
      INSERT INTO usage_totals (org_id, user_id, workflow_id, total_bytes, input_bytes, output_bytes, file_count)
      SELECT org_id, coalesce(created_by, '00000000-0000-0000-0000-000000000000'), coalesce(workflow_id, ''),
             sum(size_bytes), coalesce(sum(size_bytes) FILTER (WHERE direction = 'input'), 0),
             coalesce(sum(size_bytes) FILTER (WHERE direction = 'output'), 0), count(*)
      FROM file_usage WHERE live AND (created_by IS NOT NULL OR workflow_id IS NOT NULL)
      GROUP BY 1, 2, 3
      ON CONFLICT DO NOTHING`);
    await q.query(`DROP TABLE org_usage`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE org_usage (
        org_id       uuid PRIMARY KEY,
        org_key      text NOT NULL,
        total_bytes  bigint NOT NULL DEFAULT 0,
        input_bytes  bigint NOT NULL DEFAULT 0,
        output_bytes bigint NOT NULL DEFAULT 0,
        file_count   bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`
      INSERT INTO org_usage
      SELECT t.org_id, coalesce((SELECT f.org_key FROM file_usage f WHERE f.org_id = t.org_id LIMIT 1), ''),
             t.total_bytes, t.input_bytes, t.output_bytes, t.file_count
      FROM usage_totals t
      WHERE t.user_id = '00000000-0000-0000-0000-000000000000' AND t.workflow_id = ''`);
    await q.query(`DROP INDEX file_usage_org`);
    await q.query(`ALTER TABLE file_usage DROP COLUMN org_key`);
    await q.query(`DROP TABLE workflows`);
    await q.query(`DROP TABLE usage_totals`);
  }
}
