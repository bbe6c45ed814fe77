import { MigrationInterface, QueryRunner } from 'typeorm';

/** Run files: the inputs uploaded to a run's edges and the artifacts its steps wrote. */
export class CreateRunFiles1766000000100 implements MigrationInterface {
  name = 'CreateRunFiles1766000000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE run_files (
        id           uuid PRIMARY KEY,
        org_id       uuid NOT NULL,
        org_key      text NOT NULL,
        workflow_id  text NOT NULL,
        run_id       text NOT NULL,
        edge         text NOT NULL,
        direction    text NOT NULL CHECK (direction IN ('input', 'output')),
        object_key   text NOT NULL UNIQUE,
        filename     text NOT NULL,
        size_bytes   bigint NOT NULL,
        content_type text,
        etag         text,
        created_by   uuid,
        version      int NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
    // Resource URLs: the newest file of a workflow with a name, per direction.
    await q.query(
      `CREATE INDEX run_files_lookup ON run_files (org_id, workflow_id, direction, filename, created_at DESC)`,
    );
    await q.query(`CREATE INDEX run_files_org_id ON run_files (org_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE run_files`);
  }
}
