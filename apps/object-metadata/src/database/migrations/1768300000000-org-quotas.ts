import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-org storage quotas, and what counts against them: the org's live files of every kind (Objects API
 * objects from their create, org files, run files) and their bytes, changed in the transaction of every
 * change of a file (`StorageQuotas`). Expand-only: a new table, filled from the records as they are.
 */
export class OrgQuotas1768300000000 implements MigrationInterface {
  name = 'OrgQuotas1768300000000';

  async up(q: QueryRunner): Promise<void> {
    // A row per org that stores or stored files, or has a quota; NULL limits are unlimited.
    await q.query(`
      CREATE TABLE org_quotas (
        org_id      uuid PRIMARY KEY,
        max_bytes   bigint CHECK (max_bytes >= 0),
        max_files   bigint CHECK (max_files >= 0),
        used_bytes  bigint NOT NULL DEFAULT 0,
        used_files  bigint NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO org_quotas (org_id, used_bytes, used_files)
      SELECT org_id, sum(bytes), sum(files) FROM (
        SELECT org_id, coalesce(sum(size_bytes), 0) AS bytes, count(*) AS files
        FROM objects WHERE state <> 'DELETED' GROUP BY org_id
        UNION ALL
        SELECT f.org_id, sum(f.size_bytes), count(*)
        FROM org_files f JOIN org_folders d ON d.id = f.folder_id AND d.deleted_by IS NULL
        GROUP BY f.org_id
        UNION ALL
        SELECT org_id, sum(size_bytes), count(*) FROM run_files GROUP BY org_id
      ) live
      GROUP BY org_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE org_quotas`);
  }
}
