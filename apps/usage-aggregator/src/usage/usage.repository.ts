import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  ALL_USERS,
  ALL_WORKFLOWS,
  type FileState,
  type UsageBucket,
  type UsageDelta,
} from './usage-delta';

/** A live file as object-metadata's census lists it (`GET /internal/files/live`). */
export type TruthFile = Omit<FileState, 'live'>;

export interface UsageTotalsRow extends UsageDelta {
  workflowId: string;
  workflowName: string | null;
}

/** A workflow's name as of one `run.created`. */
export interface WorkflowName {
  workflowId: string;
  orgId: string;
  name: string;
  namedAt: string;
}

interface FileUsageRow {
  object_id: string;
  org_id: string;
  org_key: string;
  workflow_id: string | null;
  created_by: string | null;
  direction: FileState['direction'];
  size_bytes: string;
  live: boolean;
  version: number;
}

/** Every bucket of every live file, summed: `usage_totals` recomputed from `file_usage`. */
const TOTALS_FROM_FILES = `
  SELECT f.org_id, u.user_id, w.workflow_id,
         sum(f.size_bytes),
         coalesce(sum(f.size_bytes) FILTER (WHERE f.direction = 'input'), 0),
         coalesce(sum(f.size_bytes) FILTER (WHERE f.direction = 'output'), 0),
         count(*)
  FROM file_usage f
  CROSS JOIN LATERAL (VALUES ('${ALL_USERS}'::uuid), (f.created_by)) AS u(user_id)
  CROSS JOIN LATERAL (VALUES ('${ALL_WORKFLOWS}'::text), (f.workflow_id)) AS w(workflow_id)
  WHERE f.live AND u.user_id IS NOT NULL AND w.workflow_id IS NOT NULL`;

/** The only place that touches the usage tables. */
@Injectable()
export class UsageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Known states of these files, locked until the transaction ends (concurrent partitions stay exact). */
  async lockFiles(manager: EntityManager, objectIds: string[]): Promise<Map<string, FileState>> {
    const rows: FileUsageRow[] = await manager.query(
      `SELECT * FROM file_usage WHERE object_id = ANY($1) ORDER BY object_id FOR UPDATE`,
      [objectIds],
    );
    return new Map(
      rows.map((r) => [
        r.object_id,
        {
          objectId: r.object_id,
          orgId: r.org_id,
          orgKey: r.org_key,
          workflowId: r.workflow_id,
          createdBy: r.created_by,
          direction: r.direction,
          sizeBytes: Number(r.size_bytes),
          live: r.live,
          version: r.version,
        },
      ]),
    );
  }

  /**
   * Writes a batch's result in one statement (one round trip): the files' newest states (a stored state with a
   * higher version is never overwritten) and the summed delta of each `usage_totals` row (locked in a fixed
   * order). Rows travel as one JSON document per table, which the driver sends as is.
   */
  async saveBatch(
    manager: EntityManager,
    files: FileState[],
    deltas: { bucket: UsageBucket; delta: UsageDelta }[],
  ): Promise<void> {
    const totals = deltas
      .filter(({ delta: d }) => d.totalBytes || d.inputBytes || d.outputBytes || d.fileCount)
      .sort((a, b) => compareBuckets(a.bucket, b.bucket));
    if (files.length === 0 && totals.length === 0) return;
    await manager.query(
      `WITH files AS (
         INSERT INTO file_usage (object_id, org_id, org_key, workflow_id, created_by, direction, size_bytes, live, version)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS f(
           "objectId" text, "orgId" uuid, "orgKey" text, "workflowId" text, "createdBy" uuid, direction text,
           "sizeBytes" bigint, live bool, version int)
         ON CONFLICT (object_id) DO UPDATE SET
           org_key = EXCLUDED.org_key, workflow_id = EXCLUDED.workflow_id, created_by = EXCLUDED.created_by,
           direction = EXCLUDED.direction, size_bytes = EXCLUDED.size_bytes, live = EXCLUDED.live,
           version = EXCLUDED.version
         WHERE file_usage.version <= EXCLUDED.version
       ), totals AS (
         INSERT INTO usage_totals (org_id, user_id, workflow_id, total_bytes, input_bytes, output_bytes, file_count)
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS t(
           "orgId" uuid, "userId" uuid, "workflowId" text, "totalBytes" bigint, "inputBytes" bigint,
           "outputBytes" bigint, "fileCount" bigint)
         ON CONFLICT (org_id, user_id, workflow_id) DO UPDATE SET
           total_bytes = usage_totals.total_bytes + EXCLUDED.total_bytes,
           input_bytes = usage_totals.input_bytes + EXCLUDED.input_bytes,
           output_bytes = usage_totals.output_bytes + EXCLUDED.output_bytes,
           file_count = usage_totals.file_count + EXCLUDED.file_count
       )
       SELECT 1`,
      [
        JSON.stringify(files),
        JSON.stringify(totals.map(({ bucket, delta }) => ({ ...bucket, ...delta }))),
      ],
    );
  }

  /** Records workflow names; an older `run.created` never replaces a newer one's name. */
  async saveWorkflowNames(manager: EntityManager, names: WorkflowName[]): Promise<void> {
    const newest = new Map<string, WorkflowName>();
    for (const n of names) {
      const known = newest.get(n.workflowId);
      if (!known || known.namedAt <= n.namedAt) newest.set(n.workflowId, n);
    }
    const rows = [...newest.values()].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO workflows (workflow_id, org_id, name, named_at)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[])
       ON CONFLICT (workflow_id) DO UPDATE SET name = EXCLUDED.name, named_at = EXCLUDED.named_at
       WHERE workflows.named_at <= EXCLUDED.named_at`,
      [
        rows.map((r) => r.workflowId),
        rows.map((r) => r.orgId),
        rows.map((r) => r.name),
        rows.map((r) => r.namedAt),
      ],
    );
  }

  /**
   * The org's (or one user's) totals and per-workflow rows: reads the few `usage_totals` rows of
   * (org, user), by primary key prefix, whatever the number of files.
   */
  async findTotals(orgId: string, userId: string): Promise<UsageTotalsRow[]> {
    const rows: Record<string, string | null>[] = await this.dataSource.query(
      `SELECT t.workflow_id, w.name, t.total_bytes, t.input_bytes, t.output_bytes, t.file_count
       FROM usage_totals t LEFT JOIN workflows w ON w.workflow_id = t.workflow_id AND t.workflow_id <> ''
       WHERE t.org_id = $1 AND t.user_id = $2 AND (t.file_count <> 0 OR t.workflow_id = '')
       ORDER BY t.workflow_id`,
      [orgId, userId],
    );
    return rows.map((r) => ({
      workflowId: r.workflow_id!,
      workflowName: r.name,
      totalBytes: Number(r.total_bytes),
      inputBytes: Number(r.input_bytes),
      outputBytes: Number(r.output_bytes),
      fileCount: Number(r.file_count),
    }));
  }

  /** Deletes up to `limit` processed event ids recorded before `before`; returns how many. */
  async pruneProcessedEvents(before: Date, limit: number): Promise<number> {
    const rows: unknown[] = await this.dataSource.query(
      `DELETE FROM processed_events WHERE event_id IN (
         SELECT event_id FROM processed_events WHERE processed_at < $1 LIMIT $2)
       RETURNING 1`,
      [before, limit],
    );
    return rows.length;
  }

  /**
   * Starts a rebuild in the caller's transaction: no statement limit, the usage tables locked against the
   * consumer (reads go on), and an empty `truth_files` table dropped at the commit.
   */
  async beginRebuild(manager: EntityManager): Promise<void> {
    // A rebuild of millions of files outlasts the per-statement limit every service sets.
    await manager.query(`SET LOCAL statement_timeout = 0`);
    await manager.query(`SET LOCAL idle_in_transaction_session_timeout = '10min'`);
    await manager.query(`LOCK TABLE file_usage, usage_totals IN EXCLUSIVE MODE`);
    await manager.query(`
      CREATE TEMPORARY TABLE truth_files (
        object_id text PRIMARY KEY, org_id uuid NOT NULL, org_key text NOT NULL, workflow_id text,
        created_by uuid, direction text NOT NULL, size_bytes bigint NOT NULL, version int NOT NULL
      ) ON COMMIT DROP`);
  }

  /** Adds a page of the census to `truth_files` (a file listed twice counts once). */
  async addTruthFiles(manager: EntityManager, files: readonly TruthFile[]): Promise<void> {
    await manager.query(
      `INSERT INTO truth_files
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::bigint[], $8::int[])
       ON CONFLICT DO NOTHING`,
      [
        files.map((f) => f.objectId),
        files.map((f) => f.orgId),
        files.map((f) => f.orgKey),
        files.map((f) => f.workflowId),
        files.map((f) => f.createdBy),
        files.map((f) => f.direction),
        files.map((f) => f.sizeBytes),
        files.map((f) => f.version),
      ],
    );
  }

  /**
   * Replaces the file states of org `orgId` with the truth (in `truth_files`, a temporary table of the
   * transaction) and recomputes its totals from them. Files absent from the truth stay known (their version
   * keeps late events out) but count no more.
   */
  async replaceWithTruth(manager: EntityManager, orgId: string): Promise<void> {
    await manager.query(
      `UPDATE file_usage SET live = false
       WHERE live AND org_id = $1 AND object_id NOT IN (SELECT object_id FROM truth_files)`,
      [orgId],
    );
    await manager.query(
      `INSERT INTO file_usage (object_id, org_id, org_key, workflow_id, created_by, direction, size_bytes, live, version)
       SELECT object_id, org_id, org_key, workflow_id, created_by, direction, size_bytes, true, version
       FROM truth_files
       ON CONFLICT (object_id) DO UPDATE SET
         org_id = EXCLUDED.org_id, org_key = EXCLUDED.org_key, workflow_id = EXCLUDED.workflow_id,
         created_by = EXCLUDED.created_by, direction = EXCLUDED.direction, size_bytes = EXCLUDED.size_bytes,
         live = true, version = EXCLUDED.version
       WHERE file_usage.version <= EXCLUDED.version`,
    );
    await manager.query(`DELETE FROM usage_totals WHERE org_id = $1`, [orgId]);
    await manager.query(
      `INSERT INTO usage_totals (org_id, user_id, workflow_id, total_bytes, input_bytes, output_bytes, file_count)
       ${TOTALS_FROM_FILES} AND f.org_id = $1
       GROUP BY 1, 2, 3`,
      [orgId],
    );
  }
}

function compareBuckets(a: UsageBucket, b: UsageBucket): number {
  return (
    a.orgId.localeCompare(b.orgId) ||
    a.userId.localeCompare(b.userId) ||
    a.workflowId.localeCompare(b.workflowId)
  );
}
