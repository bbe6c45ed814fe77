import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Folder deletes in batches: the request marks the folder's subtree (`deleted_by`, the job that removes it)
 * and queues one `org_folder_deletes` row; a background worker then deletes its files a batch per
 * transaction, with their `deleted` events, and finally the folders. Expand-only: a nullable column and a
 * new table.
 */
export class OrgFolderDeletes1768000000000 implements MigrationInterface {
  name = 'OrgFolderDeletes1768000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE org_folder_deletes (
        id          bigserial PRIMARY KEY,
        org_id      uuid NOT NULL,
        folder_id   uuid NOT NULL,
        path        text NOT NULL,
        actor       jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // NULL for a live folder; else the delete that removes it. A marked folder is out of every listing,
    // walk and stats, and no write lands in it.
    await q.query(`ALTER TABLE org_folders ADD COLUMN deleted_by bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE org_folders DROP COLUMN deleted_by`);
    await q.query(`DROP TABLE org_folder_deletes`);
  }
}
