import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  EventActor,
  expandKeyTemplate,
  FLOW_LIMITS,
  FlowDefinition,
  FlowDefinitionError,
  FlowRunView,
  parseFlowDefinition,
  QUOTA_EXCEEDED,
  runFileKey,
  RunStatus,
  Topic,
  TriggerResultView,
  workflowResourceUri,
} from '@lib/contracts';
import { DomainException } from '@lib/errors';
import { OutboxWriter, uuidv7 } from '@lib/events';
import { MicroBatcher } from '@lib/queue';
import { presignedUrlExpiry } from '@lib/s3';
import type { EntityManager } from 'typeorm';
import { isNoSuchKey, RunBytes, StoredObject } from '../bytes/run-bytes';
import { principalOfRun, RunFilesClient } from '../bytes/run-files.client';
import { FlowOrchestratorEnv } from '../config/flow-orchestrator.env';
import { RunQueue } from './run-queue.service';
import { runCreatedEvent, runUpdatedEvent } from './run-events';
import {
  EdgeNotWaitingException,
  InvalidFlowDefinitionException,
  RunNotFoundException,
  RunInputTooLargeException,
  RunNotWaitingException,
  UnknownEdgeException,
  WorkflowNotFoundException,
} from './runs.exception';
import { Run, RunEdge, RunsRepository, Workflow } from './runs.repository';

export const TERMINAL: readonly RunStatus[] = ['COMPLETE', 'ERROR', 'EXPIRED'];

/** Who changes a run when nobody asked: upload notices, the watcher, the workers. */
export const SYSTEM_ACTOR: EventActor = { type: 'system', id: 'flow-orchestrator' };

export interface StartCommand {
  orgId: string;
  orgKey: string;
  createdBy?: string | null;
  actor: EventActor;
}

/** One trigger waiting for its batch. */
interface PendingTrigger {
  workflowId: string;
  payload: unknown;
  cmd: StartCommand;
}

/**
 * What noticing an upload did: filled the edge (and resumed the run when it was the last), nothing, or
 * refused the upload (the error the upload endpoint answers: too large, or over the org's quota).
 */
export type FillOutcome =
  'filled' | 'not-uploaded' | 'already-filled' | 'not-waiting' | DomainException;

/**
 * Workflows and the life of runs: QUEUED → RUNNING → WAITING → RUNNING → COMPLETE, or ERROR,
 * or EXPIRED. Every creation publishes `run.created` and every status change `run.updated`, in the
 * transaction of the change.
 */
@Injectable()
export class RunsService {
  private readonly logger = new Logger(RunsService.name);
  /** The largest upload to an edge (`RUN_INPUT_MAX_BYTES`). */
  private readonly maxInputBytes: number;
  /**
   * Concurrent triggers, batched: one workflow lookup, one transaction and one BullMQ round trip per batch.
   * One batch at a time: triggers arriving meanwhile form the next one, so batches grow with the load.
   */
  private readonly triggers = new MicroBatcher<PendingTrigger, TriggerResultView | Error>({
    maxSize: 256,
    lingerMs: 2,
    maxInFlight: 1,
    run: (triggers) => this.createQueued(triggers),
  });

  constructor(
    private readonly repo: RunsRepository,
    private readonly outbox: OutboxWriter,
    private readonly queue: RunQueue,
    private readonly bytes: RunBytes,
    private readonly files: RunFilesClient,
    config: ConfigService<FlowOrchestratorEnv, true>,
  ) {
    this.maxInputBytes = config.get('RUN_INPUT_MAX_BYTES', { infer: true });
  }

  /**
   * `POST /api/v1/flow/{name}`: with a definition, creates or updates the workflow, then starts a run; with
   * none (`null`), runs the stored definition. A flow with upload data wells answers WAITING with its
   * PutURLs at once (the first step, awaiting inputs, runs inline); any other run is queued.
   */
  async startByName(name: string, body: unknown, cmd: StartCommand): Promise<FlowRunView> {
    let workflow: Workflow;
    if (body === null) {
      const found = await this.repo.findWorkflowByName(cmd.orgId, name);
      if (!found?.flow) {
        throw new WorkflowNotFoundException(
          `No workflow '${name}' with a stored flow definition: send one in the body`,
        );
      }
      workflow = found;
    } else {
      let flow: FlowDefinition;
      try {
        flow = parseFlowDefinition(body);
      } catch (err) {
        if (err instanceof FlowDefinitionError)
          throw new InvalidFlowDefinitionException(err.message);
        throw err;
      }
      workflow = await this.repo.transaction((m) =>
        this.repo.upsertWorkflow(m, {
          id: uuidv7(),
          orgId: cmd.orgId,
          orgKey: cmd.orgKey,
          name,
          flow,
        }),
      );
    }
    const run = await this.start(workflow, cmd);
    return this.view(run);
  }

  /** Org storage's trigger: a run of the workflow at its starting step, through the run queue. */
  async trigger(
    workflowId: string,
    payload: unknown,
    cmd: StartCommand,
  ): Promise<TriggerResultView> {
    const answer = await this.triggers.submit({ workflowId, payload: payload ?? null, cmd });
    if (answer instanceof Error) throw answer;
    return answer;
  }

  /**
   * Queued runs created together: concurrent triggers within a few milliseconds share their workflow lookup
   * (one query), one transaction (one INSERT, one outbox INSERT) and one BullMQ round trip; each caller
   * still gets its own run's answer, or its own 404.
   */
  private async createQueued(
    triggers: PendingTrigger[],
  ): Promise<Map<PendingTrigger, TriggerResultView | Error>> {
    const ids = [...new Set(triggers.map((t) => t.workflowId))];
    const workflows = new Map((await this.repo.findWorkflowsById(ids)).map((w) => [w.id, w]));
    const answers = new Map<PendingTrigger, TriggerResultView | Error>();
    const runs: Run[] = [];
    const runOf = new Map<PendingTrigger, Run>();
    for (const t of triggers) {
      const found = workflows.get(t.workflowId);
      const workflow = found?.orgId === t.cmd.orgId ? found : undefined; // another org's: not found
      if (!workflow) answers.set(t, new WorkflowNotFoundException(`No workflow '${t.workflowId}'`));
      else if (!workflow.flow) {
        answers.set(t, new WorkflowNotFoundException(`Workflow '${t.workflowId}' has no flow`));
      } else if (!workflow.startingStepId) {
        answers.set(
          t,
          new WorkflowNotFoundException(`Workflow '${t.workflowId}' has no starting_step_id`),
        );
      } else {
        const run = this.newRun(workflow, t.payload, t.cmd);
        runs.push(run);
        runOf.set(t, run);
      }
    }
    if (runs.length === 0) return answers;
    await this.repo.transaction(async (m) => {
      await this.repo.insertRuns(m, runs);
      await this.outbox.appendMany(
        m,
        runs.map((run) => ({ topic: Topic.RunCreated, key: run.id, data: runCreatedEvent(run) })),
      );
    });
    // Committed: if Redis fails now, the reconciler enqueues these runs.
    const results = await this.queue.executeMany(runs.map((r) => r.id));
    const resultOf = new Map(runs.map((run, i) => [run, results[i]]));
    for (const [t, run] of runOf) answers.set(t, { runId: run.id, result: resultOf.get(run)! });
    return answers;
  }

  private newRun(workflow: Workflow, payload: unknown, cmd: StartCommand): Run {
    const now = new Date();
    return {
      id: uuidv7(),
      workflowId: workflow.id,
      orgId: workflow.orgId,
      orgKey: workflow.orgKey,
      workflowName: workflow.name,
      status: 'QUEUED',
      reason: null,
      definition: workflow.flow!,
      payload,
      currentStepId: null,
      actor: cmd.actor,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  async workflow(orgId: string, workflowId: string): Promise<Workflow> {
    const workflow = await this.repo.findWorkflow(orgId, workflowId);
    if (!workflow) throw new WorkflowNotFoundException(`No workflow '${workflowId}'`);
    return workflow;
  }

  async workflowNamed(orgId: string, name: string): Promise<Workflow> {
    const workflow = await this.repo.findWorkflowByName(orgId, name);
    if (!workflow) throw new WorkflowNotFoundException(`No workflow '${name}'`);
    return workflow;
  }

  async workflowOfRun(orgId: string, runId: string): Promise<Workflow> {
    const run = await this.repo.findRun(runId);
    if (!run || run.orgId !== orgId) throw new RunNotFoundException(runId);
    return this.workflow(orgId, run.workflowId);
  }

  /** `POST /api/v1/flow/{name}`'s run: WAITING at once when the flow awaits uploads, else queued. */
  private async start(workflow: Workflow, cmd: StartCommand): Promise<Run> {
    let run = this.newRun(workflow, null, cmd);
    const waits = run.definition.DataWells.length > 0;
    run = await this.repo.transaction(async (m) => {
      await this.repo.insertRun(m, run);
      await this.outbox.append(m, Topic.RunCreated, run.id, runCreatedEvent(run));
      if (!waits) return run;
      const running = await this.transition(m, run.id, ['QUEUED'], 'RUNNING');
      return this.enterWaiting(m, running);
    });
    if (waits) await this.watchEdges(run.id);
    else await this.queue.execute(run.id);
    return run;
  }

  /** RUNNING → WAITING with one upload edge (and its PutURL) per data well. In the caller's transaction. */
  async enterWaiting(m: EntityManager, run: Run): Promise<Run> {
    await this.repo.insertEdges(m, this.edgesOf(run, new Date()));
    return this.transition(m, run.id, ['RUNNING'], 'WAITING');
  }

  /**
   * The workers' first stage for a batch of runs: every one still QUEUED that awaits uploads goes QUEUED →
   * RUNNING → WAITING with its edges, in one transaction for the batch (two `run.updated` each), and its
   * edges are watched. Returns the ids it moved; the others take the one-run path.
   */
  async startWaitingMany(ids: readonly string[]): Promise<Set<string>> {
    const now = new Date();
    const moved = await this.repo.transaction(async (m) => {
      const runs = await this.repo.startWaiting(m, ids);
      if (runs.length === 0) return runs;
      await this.repo.insertEdges(
        m,
        runs.flatMap((run) => this.edgesOf(run, now)),
      );
      await this.outbox.appendMany(
        m,
        runs.flatMap((run) => {
          const running: Run = { ...run, status: 'RUNNING', version: run.version - 1 };
          return [
            { topic: Topic.RunUpdated, key: run.id, data: runUpdatedEvent(running, 'QUEUED') },
            { topic: Topic.RunUpdated, key: run.id, data: runUpdatedEvent(run, 'RUNNING') },
          ];
        }),
      );
      return runs;
    });
    if (moved.length > 0) {
      try {
        await this.queue.watch(
          moved.flatMap((run) =>
            run.definition.DataWells.map((w) => ({ runId: run.id, edge: w.Edge })),
          ),
        );
      } catch (err) {
        this.logger.warn(`could not start watching uploads (the reconciler will): ${String(err)}`);
      }
    }
    return new Set(moved.map((r) => r.id));
  }

  private edgesOf(run: Run, now: Date): RunEdge[] {
    return run.definition.DataWells.map((well) => {
      const objectName = expandKeyTemplate(well.Key, {
        RUN_ID: run.id,
        WORKFLOW_ID: run.workflowId,
        WORKFLOW_NAME: run.workflowName,
        EDGE: well.Edge,
      });
      const filename = objectName.slice(objectName.lastIndexOf('/') + 1);
      const objectKey = runFileKey(run.orgKey, run.workflowId, run.id, 'inputs', filename);
      const putUrl = this.bytes.putUrl(objectKey, FLOW_LIMITS.uploadUrlSeconds);
      return {
        runId: run.id,
        edge: well.Edge,
        store: well.Store,
        objectName,
        filename,
        objectKey,
        putUrl,
        // The edge waits as long as its PutURL works (a role's credentials may make it short of the hour).
        expiresAt: presignedUrlExpiry(putUrl),
        inputKey: null,
        filledAt: null,
        createdAt: now,
      };
    });
  }

  async watchEdges(runId: string): Promise<void> {
    const edges = await this.repo.edges(runId);
    const open = edges.filter((e) => !e.filledAt).map((e) => ({ runId, edge: e.edge }));
    if (open.length === 0) return;
    try {
      await this.queue.watch(open);
    } catch (err) {
      // Postgres holds the edges: the reconciler starts the watch when Redis answers again.
      this.logger.warn(`could not start watching the uploads of ${runId}: ${String(err)}`);
    }
  }

  /** Moves a run and publishes `run.updated`; throws when the run is not in `from` (a lost race). */
  async transition(
    m: EntityManager,
    runId: string,
    from: readonly RunStatus[],
    to: RunStatus,
    reason: string | null = null,
  ): Promise<Run> {
    const moved = await this.repo.setStatus(m, runId, from, to, reason);
    if (!moved) throw new RunNotFoundException(runId);
    if (!moved.run) throw new RunNotWaitingException(runId, moved.previous);
    await this.outbox.append(
      m,
      Topic.RunUpdated,
      runId,
      runUpdatedEvent(moved.run, moved.previous),
    );
    return moved.run;
  }

  async status(orgId: string, runId: string): Promise<FlowRunView> {
    const run = await this.repo.findRun(runId);
    if (!run || run.orgId !== orgId) throw new RunNotFoundException(runId);
    return this.view(run);
  }

  async view(run: Run): Promise<FlowRunView> {
    const [edges, files] = await Promise.all([
      run.status === 'WAITING' ? this.repo.edges(run.id) : Promise.resolve([]),
      this.repo.runFiles(run.id),
    ]);
    const fileView = (direction: 'input' | 'output') =>
      files
        .filter((f) => f.direction === direction)
        .map((f) => ({
          Edge: f.edge,
          Name: f.filename,
          URI: workflowResourceUri(
            run.workflowId,
            direction === 'input' ? 'uploads' : 'artifacts',
            f.filename,
          ),
          ObjectKey: f.objectKey,
          SizeBytes: f.sizeBytes,
        }));
    const view: FlowRunView = {
      ID: run.id,
      Status: run.status,
      WorkflowID: run.workflowId,
      WorkflowName: run.workflowName,
      CurrentStep: run.currentStepId,
      Inputs: fileView('input'),
      Artifacts: fileView('output'),
      CreatedAt: new Date(run.createdAt).toISOString(),
      UpdatedAt: new Date(run.updatedAt).toISOString(),
    };
    if (run.reason) view.Reason = run.reason;
    if (run.status === 'WAITING') {
      view.WaitingURLs = edges
        .filter((e) => !e.filledAt)
        .map((e) => ({
          Artifact: { StoreName: e.store, ObjectName: e.objectName, EdgeName: e.edge },
          PutURL: e.putUrl,
          // Whole seconds, as the flows API shows it (rounded down: the URL is valid a little longer).
          TTL: new Date(e.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        }));
    }
    return view;
  }

  /**
   * An upload was noticed (watcher, S3 webhook, upload endpoint): copies it to the edge's input key
   * (`inputOf`), records the input file there (object-metadata first, idempotent by key; then the edge, in
   * one transaction with the check that the run still waits), removes the upload and resumes the run when
   * no edge waits any more. Safe to call twice, and concurrently.
   */
  async fillEdge(runId: string, edgeName: string, actor: EventActor = SYSTEM_ACTOR) {
    // The run before the edge: a run leaves WAITING only once its edges are filled (or it expired), so when
    // another filler (watcher, webhook, upload endpoint) got there first, a run seen past WAITING comes with
    // its edge seen filled: 'already-filled', not 'not-waiting' (a 409 to the upload that filled it).
    const run = await this.repo.findRun(runId);
    const edge = await this.repo.findEdge(runId, edgeName);
    if (!edge || !run) return 'not-waiting' as FillOutcome;
    if (edge.filledAt) return 'already-filled' as FillOutcome;
    if (run.status !== 'WAITING') return 'not-waiting' as FillOutcome;
    let input: { key: string; stored: StoredObject } | null;
    try {
      input = await this.inputOf(run, edge);
      if (input) {
        this.checkInputSize(edge, input.stored.sizeBytes);
        const creator = run.actor.type === 'user' ? run.actor.id : null;
        await this.files.record(principalOfRun(run, actor, creator), {
          workflowId: run.workflowId,
          runId,
          edge: edge.edge,
          direction: 'input',
          objectKey: input.key,
          filename: edge.filename,
          sizeBytes: input.stored.sizeBytes,
          contentType: input.stored.contentType,
          etag: input.stored.etag,
        });
      }
    } catch (err) {
      if (!isRefusal(err)) throw err;
      await this.refuseUpload(run, edge, err);
      return err;
    }
    if (!input) {
      // Nothing uploaded yet; or another filler filled the edge and removed the upload since the reads above.
      const now = await this.repo.findEdge(runId, edgeName);
      return (now?.filledAt ? 'already-filled' : 'not-uploaded') as FillOutcome;
    }
    const { key, stored } = input;
    const outcome = await this.repo.transaction(async (m): Promise<FillOutcome | 'resume'> => {
      const locked = await this.repo.findRun(runId, m, true);
      if (locked?.status !== 'WAITING') {
        // Another filler of this edge may have resumed the run since the reads above.
        const now = (await this.repo.edges(runId, m)).find((e) => e.edge === edgeName);
        return now?.filledAt ? 'already-filled' : 'not-waiting';
      }
      if (!(await this.repo.fillEdge(m, runId, edgeName))) return 'already-filled';
      await this.repo.insertRunFile(m, {
        objectKey: key,
        runId,
        workflowId: run.workflowId,
        direction: 'input',
        edge: edge.edge,
        stepId: null,
        filename: edge.filename,
        sizeBytes: stored.sizeBytes,
        contentType: stored.contentType,
        etag: stored.etag,
      });
      const edges = await this.repo.edges(runId, m);
      return edges.every((e) => e.filledAt) ? 'resume' : 'filled';
    });
    if (outcome !== 'resume' && outcome !== 'filled') return outcome;
    await this.discard(runId, edge.objectKey);
    if (outcome === 'resume') await this.queue.execute(runId);
    return 'filled' as FillOutcome;
  }

  /**
   * The edge's input: the upload copied inside S3 to a key no PutURL names. A PutURL stays valid until it
   * expires and nothing revokes it, so bytes PUT with it later land on the upload key, which nothing reads
   * once the edge is filled: the run's steps, the record and every download keep the bytes noticed here.
   * Concurrent notices each copy, the first to claim the edge's input key wins and the others remove their
   * copy, so the input key is written once; a notice after a crash finds it claimed. Null when nothing is
   * uploaded.
   */
  private async inputOf(
    run: Run,
    edge: RunEdge,
  ): Promise<{ key: string; stored: StoredObject } | null> {
    let key = edge.inputKey;
    if (key === null) {
      // The watcher's usual answer (nothing yet) costs one HEAD.
      const uploaded = await this.bytes.head(edge.objectKey);
      if (!uploaded) return null;
      // Refused before a copy is made of what would be refused anyway.
      this.checkInputSize(edge, uploaded.sizeBytes);
      const copy = runFileKey(run.orgKey, run.workflowId, run.id, 'inputs', edge.filename);
      let copied: StoredObject;
      try {
        copied = await this.bytes.copy(edge.objectKey, copy);
      } catch (err) {
        if (isNoSuchKey(err)) return null; // removed by a filler that won meanwhile
        throw err;
      }
      key = await this.repo.claimInputKey(run.id, edge.edge, copy);
      if (key === copy) return { key, stored: copied };
      await this.discard(run.id, copy);
    }
    const stored = await this.bytes.head(key);
    if (!stored)
      throw new Error(`the input of edge '${edge.edge}' of run ${run.id} is gone from S3`);
    return { key, stored };
  }

  /** Throws when an upload to `edge` is more than a run input may hold. */
  private checkInputSize(edge: RunEdge, sizeBytes: number): void {
    if (sizeBytes > this.maxInputBytes) {
      throw new RunInputTooLargeException(edge.edge, sizeBytes, this.maxInputBytes);
    }
  }

  /**
   * An upload refused (too large, over the org's quota): nothing was recorded, so nothing counts; its bytes
   * (and its copy, when one was made) are removed, and the run tells why in its `Reason` while its edges go
   * on waiting. It stays WAITING rather than failing: a PutURL cannot be revoked, and only a waiting run's
   * edges are watched, so whatever else lands on them is checked the same way until they expire.
   */
  private async refuseUpload(run: Run, edge: RunEdge, refusal: DomainException): Promise<void> {
    this.logger.warn(`run ${run.id}: upload to edge '${edge.edge}' refused: ${refusal.message}`);
    const reason = `the upload to edge '${edge.edge}' was refused and removed: ${refusal.message}`;
    await this.repo.noteRefusedUpload(run.id, reason.slice(0, 1000));
    const copy = await this.repo.releaseInputKey(run.id, edge.edge);
    for (const key of [edge.objectKey, copy]) if (key) await this.discard(run.id, key);
  }

  /** Removes bytes nothing names any more; when S3 fails, they are left to the orphan sweep. */
  private async discard(runId: string, key: string): Promise<void> {
    try {
      await this.bytes.delete(key);
    } catch (err) {
      this.logger.warn(
        `could not remove spare bytes of run ${runId} (the orphan sweep will): ${String(err)}`,
      );
    }
  }

  /**
   * `POST /api/v1/upload/{runId}/{edge}` after the bytes went to the edge's key: 404 for another org's run
   * or an unknown edge, 409 when the run does not wait or the edge is filled.
   */
  async uploadTarget(orgId: string, runId: string, edgeName: string): Promise<RunEdge> {
    const run = await this.repo.findRun(runId);
    if (!run || run.orgId !== orgId) throw new RunNotFoundException(runId);
    if (run.status !== 'WAITING') throw new RunNotWaitingException(runId, run.status);
    const edge = await this.repo.findEdge(runId, edgeName);
    if (!edge) throw new UnknownEdgeException(runId, edgeName);
    if (edge.filledAt) throw new EdgeNotWaitingException(runId, edgeName, 'is already filled');
    return edge;
  }

  async completeUpload(
    orgId: string,
    runId: string,
    edgeName: string,
    actor: EventActor,
  ): Promise<FlowRunView> {
    // Ownership only: the state was checked before the first byte (`uploadTarget`); since then the
    // watcher may have noticed these very bytes.
    const owner = await this.repo.findRun(runId);
    if (!owner || owner.orgId !== orgId) throw new RunNotFoundException(runId);
    if (!(await this.repo.findEdge(runId, edgeName)))
      throw new UnknownEdgeException(runId, edgeName);
    const outcome = await this.fillEdge(runId, edgeName, actor);
    if (outcome instanceof DomainException) throw outcome;
    if (outcome === 'not-uploaded') {
      throw new EdgeNotWaitingException(runId, edgeName, 'has no uploaded bytes');
    }
    // 'already-filled' here means the watcher or an S3 notification saw these bytes first: the edge was
    // open when this upload began (checked above, and before the first byte), so it is this upload's.
    const run = await this.repo.findRun(runId);
    if (outcome === 'not-waiting') throw new RunNotWaitingException(runId, run!.status);
    return this.view(run!);
  }

  /** WAITING → EXPIRED when an edge's PutURL expired unused (the watcher, past the TTL). */
  async expireIfOverdue(runId: string, edgeName: string): Promise<boolean> {
    return this.repo.transaction(async (m) => {
      const run = await this.repo.findRun(runId, m, true);
      if (run?.status !== 'WAITING') return false;
      const edge = (await this.repo.edges(runId, m)).find((e) => e.edge === edgeName);
      if (!edge || edge.filledAt || new Date(edge.expiresAt).getTime() > Date.now()) return false;
      await this.transition(
        m,
        runId,
        ['WAITING'],
        'EXPIRED',
        `no upload to edge '${edgeName}' before its PutURL expired at ${new Date(edge.expiresAt).toISOString()}`,
      );
      return true;
    });
  }

  /** S3 notification (webhook): the key of a created object; fills the edge waiting for it, if any. */
  async objectCreated(objectKey: string): Promise<FillOutcome | 'unknown-key'> {
    const edge = await this.repo.findEdgeByKey(objectKey);
    if (!edge) return 'unknown-key';
    return this.fillEdge(edge.runId, edge.edge);
  }
}

/** A refusal of an upload: larger than a run input may be, or over the org's storage quota (object-metadata). */
function isRefusal(err: unknown): err is DomainException {
  return (
    err instanceof RunInputTooLargeException ||
    (err instanceof DomainException && err.code === QUOTA_EXCEEDED)
  );
}
