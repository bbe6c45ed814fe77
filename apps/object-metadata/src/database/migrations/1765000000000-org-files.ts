import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Org storage: a folder tree and the files in it. Files point at their folder by id and folders
 * at their parent by id; no row stores a full path, so renaming or moving a folder changes one row
 * whatever it holds. Paths resolve by walking the tree from the org's root (one indexed step per name).
 */
export class OrgFiles1765000000000 implements MigrationInterface {
  name = 'OrgFiles1765000000000';

  async up(q: QueryRunner): Promise<void> {
    // `file_count` / `byte_count`: the folder's own files (not its subfolders'), kept by every change, so
    // stats sum folders, never files.
    await q.query(`
      CREATE TABLE org_folders (
        id          uuid PRIMARY KEY,
        org_id      uuid NOT NULL,
        parent_id   uuid REFERENCES org_folders (id),
        name        text NOT NULL,
        version     integer NOT NULL DEFAULT 1,
        file_count  bigint NOT NULL DEFAULT 0,
        byte_count  bigint NOT NULL DEFAULT 0,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT org_folders_root_unnamed CHECK ((parent_id IS NULL) = (name = ''))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX org_folders_root ON org_folders (org_id) WHERE parent_id IS NULL`,
    );
    await q.query(`CREATE UNIQUE INDEX org_folders_child ON org_folders (parent_id, name)`);
    await q.query(`
      CREATE TABLE org_files (
        id            text PRIMARY KEY,
        org_id        uuid NOT NULL,
        org_key       text NOT NULL,
        folder_id     uuid NOT NULL REFERENCES org_folders (id),
        name          text NOT NULL,
        object_key    text NOT NULL UNIQUE,
        size_bytes    bigint NOT NULL,
        content_type  text,
        s3_etag       text,
        version       integer NOT NULL,
        created_by    uuid,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX org_files_folder_name ON org_files (folder_id, name)`);
    await q.query(`CREATE INDEX org_files_org_id ON org_files (org_id, id)`);
    // Bytes no file points at any more (overwritten or deleted files): removed after the commit, and
    // retried by a sweeper until storage confirms.
    await q.query(`
      CREATE TABLE org_file_purges (
        object_key  text PRIMARY KEY,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // Folder renames and moves whose per-file \`moved\` events are still to be published (in batches, by
    // a background worker): the request itself only changes the folder row.
    await q.query(`
      CREATE TABLE org_folder_moves (
        id             bigserial PRIMARY KEY,
        org_id         uuid NOT NULL,
        folder_id      uuid NOT NULL,
        actor          jsonb NOT NULL,
        after_file_id  text NOT NULL DEFAULT '',
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE org_folder_moves`);
    await q.query(`DROP TABLE org_file_purges`);
    await q.query(`DROP TABLE org_files`);
    await q.query(`DROP TABLE org_folders`);
  }
}
