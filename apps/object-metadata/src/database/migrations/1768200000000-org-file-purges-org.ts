import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The org of each pending purge: storage removes bytes only for the org a call names. Expand-only: a
 * nullable column. Rows recorded before it name no org; the purge sweep skips them, and `sweep-orphans`
 * removes their bytes (no record names them).
 */
export class OrgFilePurgesOrg1768200000000 implements MigrationInterface {
  name = 'OrgFilePurgesOrg1768200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE org_file_purges ADD COLUMN org_id uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE org_file_purges DROP COLUMN org_id`);
  }
}
