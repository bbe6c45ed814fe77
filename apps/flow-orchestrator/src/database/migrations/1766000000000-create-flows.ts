import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Workflows, runs, their steps, their waiting upload edges and their files. Postgres holds every
 * run's truth and every deadline (a PutURL's TTL); BullMQ only schedules.
 */
export class CreateFlows1766000000000 implements MigrationInterface {
  name = 'CreateFlows1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workflows (
        id               uuid PRIMARY KEY,
        org_id           uuid NOT NULL,
        org_key          text NOT NULL,
        name             text NOT NULL,
        flow             jsonb,
        starting_step_id text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT workflows_org_name UNIQUE (org_id, name)
      )`);
    await q.query(`
      CREATE TABLE runs (
        id              uuid PRIMARY KEY,
        workflow_id     uuid NOT NULL REFERENCES workflows (id),
        org_id          uuid NOT NULL,
        org_key         text NOT NULL,
        workflow_name   text NOT NULL,
        status          text NOT NULL CHECK (status IN ('QUEUED','RUNNING','WAITING','COMPLETE','ERROR','EXPIRED')),
        reason          text,
        definition      jsonb NOT NULL,
        payload         jsonb,
        current_step_id text,
        actor           jsonb NOT NULL,
        version         int NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX runs_workflow ON runs (workflow_id, id)`);
    // The reconciler's sweep: runs that should be on the queue.
    await q.query(
      `CREATE INDEX runs_active ON runs (updated_at) WHERE status IN ('QUEUED','RUNNING','WAITING')`,
    );
    await q.query(`
      CREATE TABLE run_edges (
        run_id          uuid NOT NULL REFERENCES runs (id),
        edge            text NOT NULL,
        store           text NOT NULL,
        object_name     text NOT NULL,
        filename        text NOT NULL,
        object_key      text NOT NULL UNIQUE,
        put_url         text NOT NULL,
        expires_at      timestamptz NOT NULL,
        filled_at       timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, edge)
      )`);
    await q.query(`
      CREATE TABLE run_steps (
        run_id       uuid NOT NULL REFERENCES runs (id),
        step_id      text NOT NULL,
        status       text NOT NULL CHECK (status IN ('RUNNING','COMPLETE')),
        attempts     int NOT NULL,
        output_keys  jsonb NOT NULL,
        started_at   timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (run_id, step_id)
      )`);
    // The run's recorded files: its inputs and artifacts (the resource URL fallback for artifacts URIs).
    await q.query(`
      CREATE TABLE run_files (
        object_key   text PRIMARY KEY,
        run_id       uuid NOT NULL REFERENCES runs (id),
        workflow_id  uuid NOT NULL,
        direction    text NOT NULL CHECK (direction IN ('input','output')),
        edge         text NOT NULL,
        step_id      text,
        filename     text NOT NULL,
        size_bytes   bigint NOT NULL,
        content_type text,
        etag         text,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX run_files_lookup ON run_files (workflow_id, direction, filename, created_at DESC)`,
    );
    await q.query(`CREATE INDEX run_files_run ON run_files (run_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE run_files`);
    await q.query(`DROP TABLE run_steps`);
    await q.query(`DROP TABLE run_edges`);
    await q.query(`DROP TABLE runs`);
    await q.query(`DROP TABLE workflows`);
  }
}
