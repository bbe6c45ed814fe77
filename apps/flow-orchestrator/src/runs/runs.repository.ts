import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { EventActor, FlowDefinition, RunStatus } from '@lib/contracts';
import { DataSource, EntityManager } from 'typeorm';

export interface Workflow {
  id: string;
  orgId: string;
  orgKey: string;
  name: string;
  flow: FlowDefinition | null;
  startingStepId: string | null;
}

export interface Run {
  id: string;
  workflowId: string;
  orgId: string;
  orgKey: string;
  workflowName: string;
  status: RunStatus;
  reason: string | null;
  definition: FlowDefinition;
  payload: unknown;
  currentStepId: string | null;
  actor: EventActor;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface RunEdge {
  runId: string;
  edge: string;
  store: string;
  objectName: string;
  filename: string;
  /** The key the PutURL names: uploads land here. */
  objectKey: string;
  putUrl: string;
  expiresAt: Date;
  /** The key the upload was copied to once noticed (no PutURL names it): the run's input. */
  inputKey: string | null;
  filledAt: Date | null;
  createdAt: Date;
}

/** An edge as the upload watcher sees it: with its run's status. */
export interface WatchedEdge extends RunEdge {
  runStatus: RunStatus;
}

export interface RunStep {
  runId: string;
  stepId: string;
  status: 'RUNNING' | 'COMPLETE';
  attempts: number;
  outputKeys: Record<string, string>;
}

export interface RunFile {
  objectKey: string;
  runId: string;
  workflowId: string;
  direction: 'input' | 'output';
  edge: string;
  stepId: string | null;
  filename: string;
  sizeBytes: number;
  contentType: string | null;
  etag: string | null;
  createdAt: Date;
}

/** snake_case row → camelCase object (bigint sizes as numbers). */
function camel<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] =
      k === 'size_bytes' ? Number(v) : v;
  }
  return out as T;
}

const rows = <T>(result: unknown): T[] =>
  (result as Record<string, unknown>[]).map((r) => camel<T>(r));

/** The only file touching the `flow` schema: workflows, runs, edges, steps and run files. */
@Injectable()
export class RunsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  private q(manager?: EntityManager) {
    return manager ?? this.db.manager;
  }

  async upsertWorkflow(
    manager: EntityManager,
    w: { id: string; orgId: string; orgKey: string; name: string; flow: FlowDefinition },
  ): Promise<Workflow> {
    const [row] = rows<Workflow>(
      await manager.query(
        `INSERT INTO workflows (id, org_id, org_key, name, flow, starting_step_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (org_id, name) DO UPDATE
           SET flow = EXCLUDED.flow, starting_step_id = EXCLUDED.starting_step_id, updated_at = now()
         RETURNING id, org_id, org_key, name, flow, starting_step_id`,
        [w.id, w.orgId, w.orgKey, w.name, JSON.stringify(w.flow), w.flow.StartingStepID],
      ),
    );
    return row;
  }

  async findWorkflowByName(orgId: string, name: string): Promise<Workflow | null> {
    const [row] = rows<Workflow>(
      await this.db.query(
        `SELECT id, org_id, org_key, name, flow, starting_step_id FROM workflows
         WHERE org_id = $1 AND name = $2`,
        [orgId, name],
      ),
    );
    return row ?? null;
  }

  async findWorkflow(orgId: string, id: string): Promise<Workflow | null> {
    const [row] = rows<Workflow>(
      await this.db.query(
        `SELECT id, org_id, org_key, name, flow, starting_step_id FROM workflows
         WHERE org_id = $1 AND id = $2`,
        [orgId, id],
      ),
    );
    return row ?? null;
  }

  /** Workflows by id (one query for a batch of triggers). */
  async findWorkflowsById(ids: readonly string[]): Promise<Workflow[]> {
    return rows<Workflow>(
      await this.db.query(
        `SELECT id, org_id, org_key, name, flow, starting_step_id FROM workflows WHERE id = ANY($1::uuid[])`,
        [ids],
      ),
    );
  }

  async insertRun(manager: EntityManager, run: Run): Promise<void> {
    await this.insertRuns(manager, [run]);
  }

  /** Many runs in one INSERT (a batch of triggers). */
  async insertRuns(manager: EntityManager, runs: readonly Run[]): Promise<void> {
    const COLUMNS = 13;
    const params: unknown[] = [];
    // A batch's runs mostly share their workflow's definition object: serialized once each.
    const definitions = new Map<FlowDefinition, string>();
    const definitionJson = (d: FlowDefinition) => {
      let json = definitions.get(d);
      if (json === undefined) definitions.set(d, (json = JSON.stringify(d)));
      return json;
    };
    const values = runs.map((run, i) => {
      params.push(
        run.id,
        run.workflowId,
        run.orgId,
        run.orgKey,
        run.workflowName,
        run.status,
        run.reason,
        definitionJson(run.definition),
        run.payload === undefined ? null : JSON.stringify(run.payload),
        run.currentStepId,
        JSON.stringify(run.actor),
        run.version,
        run.createdAt,
      );
      const p = (n: number) => `$${i * COLUMNS + n}`;
      return `(${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map(p).join(', ')}, ${p(13)})`;
    });
    await manager.query(
      `INSERT INTO runs (id, workflow_id, org_id, org_key, workflow_name, status, reason, definition,
                         payload, current_step_id, actor, version, created_at, updated_at)
       VALUES ${values.join(', ')}`,
      params,
    );
  }

  async findRun(id: string, manager?: EntityManager, lock = false): Promise<Run | null> {
    const [row] = rows<Run>(
      await this.q(manager).query(`SELECT * FROM runs WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [
        id,
      ]),
    );
    return row ?? null;
  }

  /**
   * Moves a run from one of `from` to `to` in one statement (row-locked), returning it with its previous
   * status; `{run: null, previous}` when it is not in `from` (a lost race), `null` when there is no run.
   */
  async setStatus(
    manager: EntityManager,
    id: string,
    from: readonly RunStatus[],
    to: RunStatus,
    reason: string | null,
  ): Promise<{ run: Run | null; previous: RunStatus } | null> {
    const result = await manager.query<Record<string, unknown>[]>(
      `WITH old AS (SELECT id, status FROM runs WHERE id = $1 FOR UPDATE),
            moved AS (
              UPDATE runs r SET status = $3, reason = $4, version = r.version + 1, updated_at = now()
              FROM old WHERE r.id = old.id AND old.status = ANY($2) RETURNING r.*)
       SELECT old.status AS previous_status, to_jsonb(moved.*) AS moved FROM old LEFT JOIN moved ON true`,
      [id, from, to, reason],
    );
    if (result.length === 0) return null;
    const [{ previous_status, moved }] = result as {
      previous_status: RunStatus;
      moved: Record<string, unknown> | null;
    }[];
    if (!moved) return { run: null, previous: previous_status };
    const run = camel<Run>(moved);
    run.createdAt = new Date(run.createdAt);
    run.updatedAt = new Date(run.updatedAt);
    return { run, previous: previous_status };
  }

  /**
   * Tells why a waiting run's last upload was refused (`Reason` of its status), without moving it: its
   * edges go on waiting for another upload. The next status change replaces the reason.
   */
  async noteRefusedUpload(id: string, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE runs SET reason = $2, updated_at = now() WHERE id = $1 AND status = 'WAITING'`,
      [id, reason],
    );
  }

  async setCurrentStep(manager: EntityManager, id: string, stepId: string | null): Promise<void> {
    await manager.query(`UPDATE runs SET current_step_id = $2, updated_at = now() WHERE id = $1`, [
      id,
      stepId,
    ]);
  }

  async insertEdges(manager: EntityManager, edges: readonly RunEdge[]): Promise<void> {
    const COLUMNS = 9;
    for (let from = 0; from < edges.length; from += 500) {
      const chunk = edges.slice(from, from + 500);
      const params: unknown[] = [];
      const values = chunk.map((e, i) => {
        params.push(
          e.runId,
          e.edge,
          e.store,
          e.objectName,
          e.filename,
          e.objectKey,
          e.putUrl,
          e.expiresAt,
          e.createdAt,
        );
        return `(${Array.from({ length: COLUMNS }, (_, n) => `$${i * COLUMNS + n + 1}`).join(', ')})`;
      });
      await manager.query(
        `INSERT INTO run_edges (run_id, edge, store, object_name, filename, object_key, put_url,
                                expires_at, created_at)
         VALUES ${values.join(', ')} ON CONFLICT (run_id, edge) DO NOTHING`,
        params,
      );
    }
  }

  /**
   * QUEUED → WAITING for those of `ids` still QUEUED that await uploads, in one statement: the run passes
   * through RUNNING within the transaction, so its version grows by two (one event each).
   */
  async startWaiting(manager: EntityManager, ids: readonly string[]): Promise<Run[]> {
    const [updated] = await manager.query<[Record<string, unknown>[], number]>(
      `UPDATE runs SET status = 'WAITING', version = version + 2, updated_at = now()
       WHERE id = ANY($1) AND status = 'QUEUED' AND jsonb_array_length(definition->'DataWells') > 0
       RETURNING *`,
      [ids],
    );
    return rows<Run>(updated);
  }

  async edges(runId: string, manager?: EntityManager): Promise<RunEdge[]> {
    return rows<RunEdge>(
      await this.q(manager).query(`SELECT * FROM run_edges WHERE run_id = $1 ORDER BY edge`, [
        runId,
      ]),
    );
  }

  /** The edges still waiting for an upload of these runs (one query for the reconciler's page). */
  async openEdges(runIds: readonly string[]): Promise<{ runId: string; edge: string }[]> {
    if (runIds.length === 0) return [];
    return rows(
      await this.db.query(
        `SELECT run_id, edge FROM run_edges WHERE run_id = ANY($1::uuid[]) AND filled_at IS NULL
         ORDER BY run_id, edge`,
        [runIds],
      ),
    );
  }

  async findEdge(runId: string, edge: string): Promise<RunEdge | null> {
    const [row] = rows<RunEdge>(
      await this.db.query(`SELECT * FROM run_edges WHERE run_id = $1 AND edge = $2`, [runId, edge]),
    );
    return row ?? null;
  }

  /**
   * The upload watcher's view of these edges: each edge with its run's status, in one query for a batch of
   * watch checks (a missing key: no such edge).
   */
  async watchedEdges(keys: readonly { runId: string; edge: string }[]): Promise<WatchedEdge[]> {
    if (keys.length === 0) return [];
    return rows<WatchedEdge>(
      await this.db.query(
        `SELECT e.*, r.status AS run_status
         FROM unnest($1::uuid[], $2::text[]) AS k(run_id, edge)
         JOIN run_edges e ON e.run_id = k.run_id AND e.edge = k.edge
         JOIN runs r ON r.id = e.run_id`,
        [keys.map((k) => k.runId), keys.map((k) => k.edge)],
      ),
    );
  }

  async findEdgeByKey(objectKey: string): Promise<RunEdge | null> {
    const [row] = rows<RunEdge>(
      await this.db.query(`SELECT * FROM run_edges WHERE object_key = $1`, [objectKey]),
    );
    return row ?? null;
  }

  /**
   * Makes `inputKey` the edge's input key unless one was set before (by another notice of the upload):
   * answers the key the edge has now.
   */
  async claimInputKey(runId: string, edge: string, inputKey: string): Promise<string> {
    const [, count] = await this.db.query<[unknown, number]>(
      `UPDATE run_edges SET input_key = $3 WHERE run_id = $1 AND edge = $2 AND input_key IS NULL`,
      [runId, edge, inputKey],
    );
    return count === 1 ? inputKey : (await this.findEdge(runId, edge))!.inputKey!;
  }

  /**
   * Takes back an open edge's input key (its copy was refused and removed): the next upload gets a copy of
   * its own. Answers the key taken back, or null when the edge had none or was filled meanwhile.
   */
  async releaseInputKey(runId: string, edge: string): Promise<string | null> {
    // An UPDATE answers [rows, count] through TypeORM's Postgres driver.
    const [rows] = await this.db.query<[{ input_key: string }[], number]>(
      `WITH old AS (
         SELECT run_id, edge, input_key FROM run_edges
         WHERE run_id = $1 AND edge = $2 AND filled_at IS NULL AND input_key IS NOT NULL FOR UPDATE)
       UPDATE run_edges e SET input_key = NULL FROM old
       WHERE e.run_id = old.run_id AND e.edge = old.edge
       RETURNING old.input_key`,
      [runId, edge],
    );
    return rows[0]?.input_key ?? null;
  }

  /** Marks an edge filled; false when it already was (another notice won). */
  async fillEdge(manager: EntityManager, runId: string, edge: string): Promise<boolean> {
    const [, count] = await manager.query<[unknown, number]>(
      `UPDATE run_edges SET filled_at = now() WHERE run_id = $1 AND edge = $2 AND filled_at IS NULL`,
      [runId, edge],
    );
    return count === 1;
  }

  /** The step's row, created on its first attempt (with the output keys it will write) and counted after. */
  async beginStep(
    runId: string,
    stepId: string,
    outputKeys: Record<string, string>,
  ): Promise<RunStep> {
    const [row] = rows<RunStep>(
      await this.db.query(
        `INSERT INTO run_steps (run_id, step_id, status, attempts, output_keys)
         VALUES ($1, $2, 'RUNNING', 1, $3)
         ON CONFLICT (run_id, step_id) DO UPDATE
           SET attempts = run_steps.attempts + (CASE WHEN run_steps.status = 'RUNNING' THEN 1 ELSE 0 END)
         RETURNING run_id, step_id, status, attempts, output_keys`,
        [runId, stepId, JSON.stringify(outputKeys)],
      ),
    );
    return row;
  }

  /** When the run's first step began (its deadline counts from then); null before any step. */
  async firstStepStartedAt(runId: string): Promise<Date | null> {
    const [{ started_at }] = await this.db.query<{ started_at: Date | null }[]>(
      `SELECT min(started_at) AS started_at FROM run_steps WHERE run_id = $1`,
      [runId],
    );
    return started_at;
  }

  async completeStep(manager: EntityManager, runId: string, stepId: string): Promise<void> {
    await manager.query(
      `UPDATE run_steps SET status = 'COMPLETE', completed_at = now()
       WHERE run_id = $1 AND step_id = $2`,
      [runId, stepId],
    );
  }

  async steps(runId: string): Promise<RunStep[]> {
    return rows<RunStep>(
      await this.db.query(
        `SELECT run_id, step_id, status, attempts, output_keys FROM run_steps WHERE run_id = $1`,
        [runId],
      ),
    );
  }

  /** Records a run file once (by key); true when it is new. */
  async insertRunFile(manager: EntityManager, f: Omit<RunFile, 'createdAt'>): Promise<boolean> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO run_files (object_key, run_id, workflow_id, direction, edge, step_id, filename,
                              size_bytes, content_type, etag)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (object_key) DO NOTHING
       RETURNING object_key`,
      [
        f.objectKey,
        f.runId,
        f.workflowId,
        f.direction,
        f.edge,
        f.stepId,
        f.filename,
        f.sizeBytes,
        f.contentType,
        f.etag,
      ],
    );
    return inserted.length === 1;
  }

  async runFiles(runId: string): Promise<RunFile[]> {
    return rows<RunFile>(
      await this.db.query(
        `SELECT * FROM run_files WHERE run_id = $1 ORDER BY created_at, object_key`,
        [runId],
      ),
    );
  }

  /** The newest recorded file of a workflow with this name and direction (the resource URL lookup). */
  async latestRunFile(
    workflowId: string,
    direction: 'input' | 'output',
    filename: string,
  ): Promise<RunFile | null> {
    const [row] = rows<RunFile>(
      await this.db.query(
        `SELECT * FROM run_files WHERE workflow_id = $1 AND direction = $2 AND filename = $3
         ORDER BY created_at DESC LIMIT 1`,
        [workflowId, direction, filename],
      ),
    );
    return row ?? null;
  }

  /**
   * Runs that should be on a queue (QUEUED, RUNNING) or watching uploads (WAITING), unchanged for 5 s, in id
   * order after `afterId` (the reconciler walks them all, a page per sweep).
   */
  async activeRuns(afterId: string | null, limit: number): Promise<Pick<Run, 'id' | 'status'>[]> {
    return rows(
      await this.db.query(
        `SELECT id, status FROM runs WHERE status IN ('QUEUED','RUNNING','WAITING')
         AND updated_at < now() - interval '5 seconds' AND ($1::uuid IS NULL OR id > $1)
         ORDER BY id LIMIT $2`,
        [afterId, limit],
      ),
    );
  }
}
