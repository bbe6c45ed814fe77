import { randomUUID } from 'node:crypto';
import { createServer, Server, ServerResponse } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo, Socket } from 'node:net';
import { Queue } from 'bullmq';
import { FLOW_LIMITS, parseFlowDefinition, QueueName } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { EVENTS_PUBLISHER_ENTITIES, OutboxWriter } from '@lib/events';
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
import { RunQueue } from '../src/runs/run-queue.service';
import { RunsRepository } from '../src/runs/runs.repository';
import { RunStateMachine } from '../src/runs/run-state-machine.service';
import { RunTriggersService } from '../src/runs/run-triggers.service';
import { RunViews } from '../src/runs/run-views';
import { WorkflowDefinitionsService } from '../src/runs/workflow-definitions.service';
import { isPublicAddress, Resolve, systemResolve } from '../src/steps/http-target';
import { UNREACHABLE } from '../src/steps/http.step';
import { StepRegistry } from '../src/steps/step-registry';

const ORG = randomUUID();
const caller = { orgId: ORG, orgKey: 'org-http', actor: { type: 'system' as const, id: 'test' } };
const LONG = 60_000;

/**
 * A target on loopback, the stand-in for an internal service: it counts the connections it accepts and
 * the requests it reads, and answers by path.
 */
class Target {
  readonly connections: Socket[] = [];
  readonly requests: string[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.requests.push(req.url!);
        this.answer(req.url!, res);
      });
    });
    this.server.on('connection', (socket: Socket) => this.connections.push(socket));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private answer(path: string, res: ServerResponse): void {
    switch (path) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"internal":"secret"}');
        return;
      case '/unavailable':
        res.writeHead(503).end();
        return;
      case '/redirect':
        res.writeHead(302, { location: `http://127.0.0.1:${this.port}/ok` }).end();
        return;
      case '/big': {
        // One byte over the limit, in 64 KiB chunks.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let left = FLOW_LIMITS.httpResponseBytes + 1;
        const more = () => {
          while (left > 0) {
            const piece = chunk.subarray(0, Math.min(left, chunk.length));
            left -= piece.length;
            if (!res.write(piece)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
        return;
      }
      case '/drip': {
        // Headers at once, then a byte now and then, for ever: no idle timeout ever fires.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('.'), 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      default: // '/hold': never answers
        return;
    }
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** A resolver whose answers change: each call returns the next of `answers` (the last one for ever after). */
function rebinding(...answers: string[]): Resolve & { calls: number } {
  const resolve = Object.assign(
    () => {
      const address = answers[Math.min(resolve.calls++, answers.length - 1)];
      return Promise.resolve<LookupAddress[]>([{ address, family: 4 }]);
    },
    { calls: 0 },
  );
  return resolve;
}

// The `http` step through the run executor, against real Postgres, Redis and S3 and a real local server:
// where it may connect (checked on the address each connection dials), what a failed run's reason says,
// the response limit, and the step and run deadlines.
describe('http steps: targets, reasons, limits and deadlines', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let s3: TestS3;
  let redis: { prefix: string; cleanup(): Promise<void> };
  let runsQueue: Queue;
  let watchQueue: Queue;
  let repo: RunsRepository;
  let bytes: RunBytes;
  let states: RunStateMachine;
  let triggers: RunTriggersService;
  let target: Target;

  const files = { recordRunFile: () => Promise.resolve() } as unknown as ObjectMetadataClient;

  const executor = (
    opts: { allowPrivateNetworks: boolean; resolve?: Resolve; stepMs?: number; runMs?: number } = {
      allowPrivateNetworks: true,
    },
  ) =>
    new RunExecutor(
      repo,
      states,
      bytes,
      files,
      StepRegistry.builtIn({
        allowPrivateNetworks: opts.allowPrivateNetworks,
        resolve: opts.resolve ?? systemResolve,
      }),
      new RunDeadlines(opts.stepMs ?? LONG, opts.runMs ?? LONG),
    );

  /** A run of one `http` step calling `url`. */
  const trigger = async (url: string) => {
    const name = `call-${randomUUID()}`;
    const wf = await repo.transaction((m) =>
      repo.upsertWorkflow(m, {
        id: randomUUID(),
        orgId: ORG,
        orgKey: caller.orgKey,
        name,
        flow: parseFlowDefinition({
          Flow: {
            Steps: [{ ID: 'call', Type: 'http', Config: { URL: url } }],
            StartingStepID: 'call',
          },
        }),
      }),
    );
    return (await triggers.trigger(wf.id, null, caller)).runId;
  };

  /** Runs `url` as the job's last attempt (whatever fails ends the run) and answers the run. */
  const runOnce = async (sut: RunExecutor, url: string) => {
    const runId = await trigger(url);
    await sut.execute(runId, true);
    return { ...(await repo.findRun(runId))!, artifacts: await repo.runFiles(runId) };
  };

  beforeAll(async () => {
    db = await createTestDatabase('httpstep');
    dataSource = await new DataSource(
      dataSourceOptions({ url: db.url, schema: FLOW_SCHEMA, entities: EVENTS_PUBLISHER_ENTITIES }),
    ).initialize();
    s3 = await startTestS3();
    redis = testRedisPrefix('httpstep');
    const connection = queueConnection(TEST_REDIS_URL);
    runsQueue = new Queue(QueueName.Runs, { connection, prefix: redis.prefix });
    watchQueue = new Queue(QueueName.UploadWatch, { connection, prefix: redis.prefix });
    repo = new RunsRepository(dataSource);
    const credentials = await SigningCredentials.load(s3CredentialProvider(s3.settings));
    bytes = new RunBytes(
      new ObjectStore(s3.settings, credentials),
      new Presigner(s3.settings, credentials),
    );
    const queue = new RunQueue(runsQueue, watchQueue);
    const outbox = new OutboxWriter({ source: '/test' });
    states = new RunStateMachine(repo, outbox, queue, bytes);
    triggers = new RunTriggersService(
      repo,
      outbox,
      queue,
      new WorkflowDefinitionsService(repo),
      states,
      new RunViews(repo),
    );
    target = new Target();
    await target.start();
  });

  afterAll(async () => {
    await target?.stop();
    await runsQueue?.close();
    await watchQueue?.close();
    await redis?.cleanup();
    await dataSource?.destroy();
    await db?.drop();
    await s3?.stop();
  });

  beforeEach(() => {
    target.connections.length = 0;
    target.requests.length = 0;
  });

  describe('targets', () => {
    it('should refuse a name that resolved to a public address when checked and to loopback when dialled', async () => {
      const url = target.url('/ok', 'rebind.example');

      // The attack, on a connect path that does not check (what the step did before): a check resolves
      // the name to a public address and lets it through, then the connection resolves it again and dials
      // the loopback server, whose answer becomes an artifact the tenant downloads.
      const unguarded = rebinding('93.184.215.14', '127.0.0.1');
      const [checked] = await unguarded('rebind.example');
      expect(isPublicAddress(checked.address)).toBe(true);
      const leaked = await runOnce(
        executor({ allowPrivateNetworks: true, resolve: unguarded }),
        url,
      );
      expect(leaked.status).toBe('COMPLETE');
      expect(target.requests).toEqual(['/ok']);
      const body = await (await bytes.read(leaked.artifacts[0].objectKey)).toArray();
      expect(Buffer.concat(body).toString()).toBe('{"internal":"secret"}');

      // The same resolver against the guarded step: the address dialled is checked, and refused.
      target.requests.length = 0;
      target.connections.length = 0;
      const resolve = rebinding('93.184.215.14', '127.0.0.1');
      const [first] = await resolve('rebind.example');
      expect(isPublicAddress(first.address)).toBe(true);
      const run = await runOnce(executor({ allowPrivateNetworks: false, resolve }), url);
      expect(resolve.calls).toBe(2); // the connection's own lookup
      expect(run.status).toBe('ERROR');
      expect(run.reason).toBe(UNREACHABLE);
      expect(run.artifacts).toEqual([]);
      expect(target.connections).toHaveLength(0);
    });

    it.each([
      ['an IPv4 literal', (port: number) => `http://127.0.0.1:${port}/ok`],
      ['an IPv6 literal', (port: number) => `http://[::1]:${port}/ok`],
      ['an IPv4-mapped IPv6 literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/ok`],
      ['a hexadecimal IPv4 literal', (port: number) => `http://0x7f000001:${port}/ok`],
      ['localhost', (port: number) => `http://localhost:${port}/ok`],
    ])('should refuse loopback written as %s, saying nothing of it', async (_, url) => {
      const run = await runOnce(executor({ allowPrivateNetworks: false }), url(target.port));
      expect(run.status).toBe('ERROR');
      expect(run.reason).toBe(UNREACHABLE);
      expect(target.connections).toHaveLength(0);
    });

    it('should refuse a name with any non-public address, and give the same reason as a closed port', async () => {
      for (const address of ['10.0.0.1', '169.254.169.254', '198.18.0.1', '100.64.0.1']) {
        const resolve = rebinding(address);
        const run = await runOnce(
          executor({ allowPrivateNetworks: false, resolve }),
          `http://internal.example:6379/`,
        );
        expect([run.reason, resolve.calls]).toEqual([UNREACHABLE, 1]);
      }
      // Nothing listens on a port of a closed server: the run says what it says for a refused address.
      const closed = new Target();
      await closed.start();
      await closed.stop();
      const run = await runOnce(executor(), closed.url('/ok'));
      expect(run.reason).toBe(UNREACHABLE);
    });

    it('should not follow a redirect', async () => {
      const run = await runOnce(executor(), target.url('/redirect'));
      expect(run.reason).toBe('http step: the target answered 302');
      expect(target.requests).toEqual(['/redirect']);
    });
  });

  describe('limits and deadlines', () => {
    it('should end the run at once when the response is over the limit', async () => {
      const runId = await trigger(target.url('/big'));
      await executor().execute(runId, false); // not the last attempt: the step is not retried
      const run = (await repo.findRun(runId))!;
      expect(run.status).toBe('ERROR');
      expect(run.reason).toBe(
        `http step: the response is larger than ${FLOW_LIMITS.httpResponseBytes} bytes`,
      );
      expect(await repo.runFiles(runId)).toEqual([]);
    });

    it('should end a step whose target drips its answer at the step deadline, and close the connection', async () => {
      const runId = await trigger(target.url('/drip'));
      await executor({ allowPrivateNetworks: true, stepMs: 1000 }).execute(runId, false);
      const run = (await repo.findRun(runId))!;
      expect(run.status).toBe('ERROR');
      expect(run.reason).toBe("step 'call' exceeded its deadline (1 s)");
      await waitFor('the dripping connection to close', () =>
        target.connections.every((s) => s.destroyed),
      );
    });

    it('should end a run whose steps outlast the run deadline', async () => {
      const runId = await trigger(target.url('/hold'));
      await executor({ allowPrivateNetworks: true, runMs: 1000 }).execute(runId, false);
      const run = (await repo.findRun(runId))!;
      expect(run.status).toBe('ERROR');
      expect(run.reason).toBe("the run exceeded its deadline (1 s) in step 'call'");
    });

    it('should count the run deadline from the first step, across retries', async () => {
      const runId = await trigger(target.url('/unavailable'));
      const sut = executor();
      await expect(sut.execute(runId, false)).rejects.toThrow('answered 503'); // retried later
      expect(target.requests).toHaveLength(1);
      await dataSource.query(
        `UPDATE run_steps SET started_at = now() - interval '1 hour' WHERE run_id = $1`,
        [runId],
      );
      await sut.execute(runId, false);
      const run = (await repo.findRun(runId))!;
      expect(run.status).toBe('ERROR');
      expect(run.reason).toBe(`the run exceeded its deadline (${LONG / 1000} s) in step 'call'`);
      expect(target.requests).toHaveLength(1); // the retry sent nothing
    });
  });
});
