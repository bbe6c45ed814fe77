import { randomUUID } from 'node:crypto';
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import {
  FLOW_LIMITS,
  FlowDefinition,
  parseFlowDefinition,
  QueueName,
  type RecordRunFileCommand,
  type ServicePrincipal,
  TriggerResultView,
} from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { EVENTS_PUBLISHER_ENTITIES, OutboxWriter } from '@lib/events';
import { Metrics } from '@lib/observability';
import { queueConnection } from '@lib/queue';
import { ObjectStore, Presigner, s3CredentialProvider, SigningCredentials } from '@lib/s3';
import {
  createTestDatabase,
  startTestS3,
  TEST_REDIS_URL,
  TestDatabase,
  testRedisPrefix,
  TestS3,
  waitFor,
} from '@lib/testing';
import { DataSource } from 'typeorm';
import { RunBytes } from '../src/bytes/run-bytes';
import type { ObjectMetadataClient } from '@lib/clients';
import { FLOW_SCHEMA } from '../src/database/migrations';
import { RunDeadlines } from '../src/runs/run-deadlines';
import { RunExecutor } from '../src/runs/run-executor.service';
import { RunExpiryService } from '../src/runs/run-expiry.service';
import { RunQueue } from '../src/runs/run-queue.service';
import { RunStateMachine } from '../src/runs/run-state-machine.service';
import { RunTriggersService } from '../src/runs/run-triggers.service';
import { RunUploadEdgesService } from '../src/runs/run-upload-edges.service';
import { RunViews } from '../src/runs/run-views';
import { RunsReconciler } from '../src/runs/runs-reconciler.service';
import { WorkflowNotFoundException } from '../src/runs/runs.exception';
import { RunsRepository } from '../src/runs/runs.repository';
import { WorkflowDefinitionsService } from '../src/runs/workflow-definitions.service';
import type { FlowOrchestratorConfig } from '../src/config/flow-orchestrator.config';
import { CopyStep } from '../src/steps/copy.step';
import { StepRunContext } from '../src/steps/step';
import { StepRegistry } from '../src/steps/step-registry';
import { UploadWatchProcessor } from '../src/uploads/upload-watch.processor';

const ORG = randomUUID();
const deadlines = new RunDeadlines(60_000, 600_000);
const caller = { orgId: ORG, orgKey: 'org-int', actor: { type: 'system' as const, id: 'test' } };

/** object-metadata's record API, as the flow-orchestrator sees it: once per key. */
class RecordingRunFiles implements Pick<ObjectMetadataClient, 'recordRunFile'> {
  readonly calls: RecordRunFileCommand[] = [];
  readonly byKey = new Map<string, RecordRunFileCommand>();

  recordRunFile(_principal: ServicePrincipal, file: RecordRunFileCommand) {
    this.calls.push(file);
    const created = !this.byKey.has(file.objectKey);
    if (created) this.byKey.set(file.objectKey, file);
    return Promise.resolve({ objectId: file.objectKey, created });
  }
}

/** `copy`, whose worker "dies" once after writing its output and before the run records it. */
class CrashingCopy extends CopyStep {
  crashes = 0;
  keys: string[][] = [];

  override async run(ctx: StepRunContext) {
    this.keys.push([...ctx.outputKeys]);
    const out = await super.run(ctx);
    if (this.crashes++ === 0) throw new Error('worker died mid-step');
    return out;
  }
}

// The run state machine against real Postgres, Redis (BullMQ) and the verifying S3: statuses and their
// events, waiting edges, resuming, a step retried after a crash between its effect and its commit, ERROR on
// the last attempt, EXPIRED past the TTL, concurrent upload notices.
describe(`The run services and ${RunExecutor.name}`, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let s3: TestS3;
  let redis: { prefix: string; cleanup(): Promise<void> };
  let runsQueue: Queue;
  let watchQueue: Queue;
  let repo: RunsRepository;
  let files: RecordingRunFiles;
  let bytes: RunBytes;
  let copy: CrashingCopy;
  let states: RunStateMachine;
  let triggers: RunTriggersService;
  let uploads: RunUploadEdgesService;
  let expiry: RunExpiryService;
  let executor: RunExecutor;

  const events = async (runId: string) =>
    (
      await dataSource.query<{ topic: string; payload: { data: Record<string, unknown> } }[]>(
        `SELECT topic, payload FROM outbox WHERE message_key = $1 ORDER BY id`,
        [runId],
      )
    ).map((r) =>
      r.topic === 'run.created'
        ? `created:${String(r.payload.data.status)}`
        : `${String(r.payload.data.status)}@${String(r.payload.data.version)}`,
    );

  const workflow = async (name: string, flow: unknown) => {
    const definition: FlowDefinition = parseFlowDefinition(flow);
    return repo.transaction((m) =>
      repo.upsertWorkflow(m, {
        id: randomUUID(),
        orgId: ORG,
        orgKey: 'org-int',
        name,
        flow: definition,
      }),
    );
  };

  const upload = async (runId: string, edge: string, body: string) => {
    const row = (await repo.findEdge(runId, edge))!;
    const res = await fetch(row.putUrl, { method: 'PUT', body });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    db = await createTestDatabase('flows');
    dataSource = await new DataSource(
      dataSourceOptions({ url: db.url, schema: FLOW_SCHEMA, entities: EVENTS_PUBLISHER_ENTITIES }),
    ).initialize();
    s3 = await startTestS3();
    redis = testRedisPrefix('flows');
    const connection = queueConnection(TEST_REDIS_URL);
    runsQueue = new Queue(QueueName.Runs, { connection, prefix: redis.prefix });
    watchQueue = new Queue(QueueName.UploadWatch, { connection, prefix: redis.prefix });
    repo = new RunsRepository(dataSource);
    files = new RecordingRunFiles();
    const credentials = await SigningCredentials.load(s3CredentialProvider(s3.settings));
    bytes = new RunBytes(
      new ObjectStore(s3.settings, credentials),
      new Presigner(s3.settings, credentials),
    );
    copy = new CrashingCopy();
    const queue = new RunQueue(runsQueue, watchQueue);
    const runFiles = files as unknown as ObjectMetadataClient;
    // Run inputs of the upload endpoints' size at most (RUN_INPUT_MAX_BYTES).
    const limits = {
      runs: { inputMaxBytes: FLOW_LIMITS.uploadBytes },
    } as unknown as FlowOrchestratorConfig;
    const outbox = new OutboxWriter({ source: '/test' });
    const views = new RunViews(repo);
    states = new RunStateMachine(repo, outbox, queue, bytes);
    triggers = new RunTriggersService(
      repo,
      outbox,
      queue,
      new WorkflowDefinitionsService(repo),
      states,
      views,
    );
    uploads = new RunUploadEdgesService(repo, queue, bytes, runFiles, views, limits);
    expiry = new RunExpiryService(repo, states);
    executor = new RunExecutor(repo, states, bytes, runFiles, new StepRegistry([copy]), deadlines);
  });

  afterAll(async () => {
    await runsQueue?.close();
    await watchQueue?.close();
    await redis?.cleanup();
    await dataSource?.destroy();
    await db?.drop();
    await s3?.stop();
  });

  it('should go QUEUED → RUNNING → WAITING → RUNNING → COMPLETE, retrying a crashed step without a second effect', async () => {
    const wf = await workflow('copying', {
      Flow: {
        DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'data.txt' }],
        Steps: [{ ID: 'copy', Type: 'copy', Inputs: ['in'], Output: 'out' }],
        StartingStepID: 'copy',
      },
    });
    const { runId, result } = await triggers.trigger(wf.id, { n: 1 }, caller);
    expect(result).toEqual({ jobId: `run.execute.${runId}`, queue: 'runs', state: 'waiting' });
    expect((await repo.findRun(runId))!.status).toBe('QUEUED');

    await executor.execute(runId, false);
    expect((await repo.findRun(runId))!.status).toBe('WAITING');
    expect(await watchQueue.getJob(`upload.watch.${runId}.in`)).toBeDefined();
    expect(await uploads.fillEdge(runId, 'in')).toBe('not-uploaded');

    await upload(runId, 'in', 'payload');
    await runsQueue.remove(`run.execute.${runId}`); // what a finished job leaves: nothing
    expect(await uploads.fillEdge(runId, 'in')).toBe('filled');
    expect(await uploads.fillEdge(runId, 'in')).toBe('already-filled');
    expect(await runsQueue.getJob(`run.execute.${runId}`)).toBeDefined(); // resumed

    // The step writes its output, then its worker dies before the commit: BullMQ retries the job.
    await expect(executor.execute(runId, false)).rejects.toThrow('worker died mid-step');
    await executor.execute(runId, false);

    const run = (await repo.findRun(runId))!;
    expect(run.status).toBe('COMPLETE');
    expect(copy.keys[0]).toEqual(copy.keys[1]); // the retry wrote the same key
    const outputs = (await repo.runFiles(runId)).filter((f) => f.direction === 'output');
    expect(outputs.map((f) => [f.objectKey, f.sizeBytes])).toEqual([[copy.keys[0][0], 7]]);
    expect(
      new Set(files.calls.filter((c) => c.direction === 'output').map((c) => c.objectKey)).size,
    ).toBe(1);
    expect(await repo.steps(runId)).toEqual([
      expect.objectContaining({ stepId: 'copy', status: 'COMPLETE', attempts: 2 }),
    ]);
    expect(await events(runId)).toEqual([
      'created:QUEUED',
      'RUNNING@2',
      'WAITING@3',
      'RUNNING@4',
      'COMPLETE@5',
    ]);

    await executor.execute(runId, false); // a stale duplicate job changes nothing
    expect(await events(runId)).toHaveLength(5);
  });

  it('should create concurrent triggers in shared batches, each with its own run, event and job', async () => {
    const wf = await workflow('burst', {
      Flow: {
        Steps: [{ ID: 'call', Type: 'http', Config: { URL: 'http://127.0.0.1:9/' } }],
        StartingStepID: 'call',
      },
    });
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => triggers.trigger(wf.id, { i }, caller)),
    );
    const ids = answers.map((a) => a.runId);
    expect(new Set(ids).size).toBe(300);
    for (const { runId, result } of answers) {
      expect(result).toEqual({ jobId: `run.execute.${runId}`, queue: 'runs', state: 'waiting' });
    }
    const [{ count }] = await dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM outbox WHERE topic = 'run.created' AND message_key = ANY($1)`,
      [ids],
    );
    expect(count).toBe(300);
    const payloads = await dataSource.query<{ id: string; payload: { i: number } }[]>(
      `SELECT id, payload FROM runs WHERE id = ANY($1)`,
      [ids],
    );
    const byId = new Map(payloads.map((r) => [r.id, r.payload.i]));
    answers.forEach((a, i) => expect(byId.get(a.runId)).toBe(i));
    expect(await runsQueue.getJob(`run.execute.${ids[299]}`)).toBeDefined();
  });

  it('should answer each trigger of a shared batch on its own: a run, or its workflow not found', async () => {
    const wf = await workflow('mixed', {
      Flow: {
        Steps: [{ ID: 'call', Type: 'http', Config: { URL: 'http://127.0.0.1:9/' } }],
        StartingStepID: 'call',
      },
    });
    const missing = randomUUID();
    const otherOrg = { ...caller, orgId: randomUUID() };
    const answers = await Promise.allSettled([
      triggers.trigger(wf.id, { n: 1 }, caller),
      triggers.trigger(missing, {}, caller),
      triggers.trigger(wf.id, {}, otherOrg), // another org's workflow: not found
      triggers.trigger(wf.id, { n: 2 }, caller),
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect((answers[1] as PromiseRejectedResult).reason).toBeInstanceOf(WorkflowNotFoundException);
    expect((answers[1] as PromiseRejectedResult).reason.message).toBe(`No workflow '${missing}'`);
    expect((answers[2] as PromiseRejectedResult).reason.message).toBe(`No workflow '${wf.id}'`);
    for (const [i, n] of [
      [0, 1],
      [3, 2],
    ]) {
      const { runId } = (answers[i] as PromiseFulfilledResult<TriggerResultView>).value;
      expect((await repo.findRun(runId))!.payload).toEqual({ n });
    }
  });

  it('should start concurrent runs that await uploads in shared batches, each with its events and edge', async () => {
    const wf = await workflow('waiting-burst', {
      Flow: {
        DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: '${RUN_ID}.bin' }],
        Steps: [{ ID: 'copy', Type: 'copy', Inputs: ['in'] }],
        StartingStepID: 'copy',
      },
    });
    const runs = await Promise.all(
      Array.from({ length: 40 }, () => triggers.trigger(wf.id, null, caller)),
    );
    await Promise.all(runs.map((r) => executor.execute(r.runId, false)));
    for (const { runId } of runs) {
      expect((await repo.findRun(runId))!.status).toBe('WAITING');
      expect(await events(runId)).toEqual(['created:QUEUED', 'RUNNING@2', 'WAITING@3']);
      const [edge] = await repo.edges(runId);
      expect(edge.objectName).toBe(`${runId}.bin`);
      expect(await watchQueue.getJob(`upload.watch.${runId}.in`)).toBeDefined();
    }
    await executor.execute(runs[0].runId, false); // a duplicate job: still waiting, nothing new
    expect(await events(runs[0].runId)).toHaveLength(3);
  });

  it('should end the run in ERROR with the reason on the last attempt', async () => {
    const wf = await workflow('doomed', {
      Flow: {
        Steps: [{ ID: 'call', Type: 'http', Config: { URL: 'http://127.0.0.1:9/' } }],
        StartingStepID: 'call',
      },
    });
    const { runId } = await triggers.trigger(wf.id, null, caller);
    // The real http step; nothing listens on port 9.
    const registry = StepRegistry.builtIn({ allowPrivateNetworks: true });
    const real = new RunExecutor(
      repo,
      states,
      bytes,
      files as unknown as ObjectMetadataClient,
      registry,
      deadlines,
    );
    await expect(real.execute(runId, false)).rejects.toThrow();
    expect((await repo.findRun(runId))!.status).toBe('RUNNING');
    await real.execute(runId, true);
    const run = (await repo.findRun(runId))!;
    expect(run.status).toBe('ERROR');
    expect(run.reason).toBeTruthy();
    expect((await events(runId)).at(-1)).toBe('ERROR@3');
  });

  it('should expire a waiting run once its PutURL passed the TTL, and only then', async () => {
    const wf = await workflow('late', {
      Flow: {
        DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: '${RUN_ID}.bin' }],
      },
    });
    const view = await triggers.startByName('late', null, caller);
    expect(view.WorkflowID).toBe(wf.id);
    expect(view.Status).toBe('WAITING');
    expect(view.WaitingURLs![0].Artifact.ObjectName).toBe(`${view.ID}.bin`);
    expect(await expiry.expireIfOverdue(view.ID, 'in')).toBe(false);
    await dataSource.query(
      `UPDATE run_edges SET expires_at = now() - interval '1 ms' WHERE run_id = $1`,
      [view.ID],
    );
    expect(await expiry.expireIfOverdue(view.ID, 'in')).toBe(true);
    expect(await expiry.expireIfOverdue(view.ID, 'in')).toBe(false);
    const run = (await repo.findRun(view.ID))!;
    expect(run.status).toBe('EXPIRED');
    expect(await events(view.ID)).toEqual([
      'created:QUEUED',
      'RUNNING@2',
      'WAITING@3',
      'EXPIRED@4',
    ]);
    expect(await uploads.fillEdge(view.ID, 'in')).toBe('not-waiting');
  });

  it('should re-enqueue runs and upload watches that Redis lost', async () => {
    const queued = await workflow('lost', {
      Flow: {
        DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'x.bin' }],
        Steps: [{ ID: 'copy', Type: 'copy', Inputs: ['in'] }],
        StartingStepID: 'copy',
      },
    });
    const { runId } = await triggers.trigger(queued.id, null, caller);
    const waiting = await triggers.startByName('lost', null, caller);
    await runsQueue.obliterate({ force: true }); // a Redis flush
    await watchQueue.obliterate({ force: true });
    await dataSource.query(`UPDATE runs SET updated_at = now() - interval '1 minute'`);
    const config = { runs: { reconcileIntervalMs: 60_000 } } as FlowOrchestratorConfig;
    const reconciler = new RunsReconciler(repo, new RunQueue(runsQueue, watchQueue), config);
    await reconciler.runOnce();
    expect(await runsQueue.getJob(`run.execute.${runId}`)).toBeDefined();
    expect(await watchQueue.getJob(`upload.watch.${waiting.ID}.in`)).toBeDefined();
    const [runs, watches] = [await runsQueue.getWaitingCount(), await watchQueue.getWaitingCount()];
    await reconciler.runOnce(); // what Redis holds is not added twice
    expect(await runsQueue.getWaitingCount()).toBe(runs);
    expect(await watchQueue.getWaitingCount()).toBe(watches);
  });

  it('should fill an edge once when notices race', async () => {
    await workflow('racing', {
      Flow: { DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'x.bin' }] },
    });
    const view = await triggers.startByName('racing', null, caller);
    await upload(view.ID, 'in', 'bytes');
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => uploads.fillEdge(view.ID, 'in')));
    expect(outcomes.filter((o) => o === 'filled')).toHaveLength(1);
    const inputs = (await repo.runFiles(view.ID)).filter((f) => f.direction === 'input');
    expect(inputs).toHaveLength(1);
    // Every notice recorded the one copy that claimed the edge.
    expect(new Set(files.calls.filter((c) => c.runId === view.ID).map((c) => c.objectKey))).toEqual(
      new Set([inputs[0].objectKey]),
    );
  });

  it('should keep the input it noticed when the PutURL uploads other bytes after the fill', async () => {
    await workflow('overwritten', {
      Flow: { DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'x.bin' }] },
    });
    const view = await triggers.startByName('overwritten', null, caller);
    await upload(view.ID, 'in', 'noticed');
    expect(await uploads.fillEdge(view.ID, 'in')).toBe('filled');
    // The attack: the PutURL stays valid for the rest of its hour.
    await upload(view.ID, 'in', 'replaced by a longer body');
    expect(await uploads.fillEdge(view.ID, 'in')).toBe('already-filled');

    const inputs = (await repo.runFiles(view.ID)).filter((f) => f.direction === 'input');
    expect(inputs).toEqual([expect.objectContaining({ sizeBytes: 7 })]);
    const chunks: Buffer[] = [];
    for await (const chunk of await bytes.read(inputs[0].objectKey)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('noticed'); // what the steps read
    expect(files.byKey.get(inputs[0].objectKey)).toMatchObject({ sizeBytes: 7 }); // what usage counts
    // The input is a copy no PutURL names; the upload key's late bytes are nobody's.
    const edge = (await repo.findEdge(view.ID, 'in'))!;
    expect(inputs[0].objectKey).toBe(edge.inputKey);
    expect(edge.inputKey).not.toBe(edge.objectKey);
  });

  it('should answer an upload endpoint call whose bytes the watcher noticed first with the run', async () => {
    await workflow('noticed', {
      Flow: { DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'x.bin' }] },
    });
    const view = await triggers.startByName('noticed', null, caller);
    await uploads.uploadTarget(ORG, view.ID, 'in'); // the endpoint's check before the first byte
    await upload(view.ID, 'in', 'bytes');
    expect(await uploads.fillEdge(view.ID, 'in')).toBe('filled'); // the watcher was faster
    const answer = await uploads.completeUpload(ORG, view.ID, 'in', caller.actor);
    expect(answer.ID).toBe(view.ID);
    await expect(uploads.completeUpload(randomUUID(), view.ID, 'in', caller.actor)).rejects.toThrow(
      'No run',
    );
    await expect(uploads.uploadTarget(ORG, view.ID, 'in')).rejects.toThrow('is already filled');
  });
  it('should check waiting edges from one read per batch: wait, fill, expire, or let go', async () => {
    await workflow('watched', {
      Flow: {
        DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: '${RUN_ID}.bin' }],
      },
    });
    const start = () => triggers.startByName('watched', null, caller);
    const [waiting, uploaded, overdue, filled] = await Promise.all([
      start(),
      start(),
      start(),
      start(),
    ]);
    await upload(uploaded.ID, 'in', 'bytes');
    await upload(filled.ID, 'in', 'bytes');
    expect(await uploads.fillEdge(filled.ID, 'in')).toBe('filled');
    await dataSource.query(
      `UPDATE run_edges SET expires_at = now() - interval '1 ms' WHERE run_id = $1`,
      [overdue.ID],
    );
    const reads = jest.spyOn(repo, 'watchedEdges');
    const metrics = new Metrics({ service: 'flow-orchestrator', defaultMetrics: false });
    const config = { uploads: { watchMaxDelayMs: 5_000 } } as unknown as FlowOrchestratorConfig;
    const watcher = new UploadWatchProcessor(repo, uploads, expiry, bytes, metrics, config);
    // The job as BullMQ hands it to the worker: only moveToDelayed is BullMQ's own business here.
    const job = (runId: string) =>
      ({
        name: 'upload.watch',
        data: { runId, edge: 'in' },
        moveToDelayed: jest.fn().mockResolvedValue(undefined),
      }) as unknown as Job<{ runId: string; edge: string }> & { moveToDelayed: jest.Mock };
    const jobs = [waiting, uploaded, overdue, filled].map((v) => job(v.ID));
    const checked = Date.now();
    const outcomes = await Promise.allSettled(jobs.map((j) => watcher.process(j, 'token')));

    expect(reads).toHaveBeenCalledTimes(1); // four concurrent checks, one query
    reads.mockRestore();
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: expect.any(DelayedError) });
    const [[nextAt, token]] = jobs[0].moveToDelayed.mock.calls as [number, string][];
    expect(token).toBe('token');
    expect(nextAt).toBeGreaterThan(checked); // later, however long the checks took
    expect(outcomes.slice(1).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    for (const j of jobs.slice(1)) expect(j.moveToDelayed).not.toHaveBeenCalled();
    expect((await repo.findRun(waiting.ID))!.status).toBe('WAITING');
    expect((await repo.findEdge(uploaded.ID, 'in'))!.filledAt).not.toBeNull();
    expect((await repo.runFiles(uploaded.ID)).filter((f) => f.direction === 'input')).toHaveLength(
      1,
    );
    expect((await repo.findRun(overdue.ID))!.status).toBe('EXPIRED');
    const counted = await metrics.registry.getSingleMetricAsString('upload_watch_checks_total');
    for (const outcome of ['waiting', 'filled', 'expired', 'gone'])
      expect(counted).toContain(
        `upload_watch_checks_total{outcome="${outcome}",service="flow-orchestrator"} 1`,
      );
    expect((await repo.runFiles(filled.ID)).filter((f) => f.direction === 'input')).toHaveLength(1);
  });

  it('should retry a run job that used up its attempts when the reconciler sweeps', async () => {
    const wf = await workflow('failing-job', {
      Flow: {
        Steps: [{ ID: 'c', Type: 'http', Config: { URL: 'http://127.0.0.1:9/' } }],
        StartingStepID: 'c',
      },
    });
    const { runId } = await triggers.trigger(wf.id, null, caller);
    const jobId = `run.execute.${runId}`;
    // A worker that fails every job once (the test queue's jobs have one attempt): Redis keeps it failed.
    const worker = new Worker(QueueName.Runs, () => Promise.reject(new Error('boom')), {
      connection: queueConnection(TEST_REDIS_URL),
      prefix: redis.prefix,
    });
    try {
      await waitFor('the job to fail', async () => (await runsQueue.getJob(jobId))?.isFailed());
    } finally {
      await worker.close();
    }
    await dataSource.query(
      `UPDATE runs SET updated_at = now() - interval '1 minute' WHERE id = $1`,
      [runId],
    );
    const reconciler = new RunsReconciler(repo, new RunQueue(runsQueue, watchQueue), {
      runs: { reconcileIntervalMs: 60_000 },
    } as FlowOrchestratorConfig);
    for (let page = 0; page < 10 && !(await (await runsQueue.getJob(jobId))?.isWaiting()); page++) {
      await reconciler.runOnce();
    }
    expect(await (await runsQueue.getJob(jobId))!.getState()).toBe('waiting');
  });
});
