import { waitFor } from '@lib/testing';
import {
  bytesOf,
  objectsClient,
  type FaultPlatform,
  startFaultPlatform,
} from '../../support/fault-load';
import { HoldingReceiver } from '../../support/holding-receiver';

const RECONCILE_INTERVAL_MS = 1_000;
const TTL_OBJECTS = 40;
const RUNS = 12;

// Fault family 2: Redis flushed (every key of the platform's BullMQ prefix) while TTL deadlines and queued
// runs are pending. Postgres holds every deadline and every run: the TTL sweeper reads deadlines from it
// (none is a Redis job), and the reconcilers (TTL_RECONCILE_INTERVAL_MS for purges, RUN_RECONCILE_INTERVAL_MS,
// 1 s here) enqueue again what Redis lost: every object still expires (bytes gone) and every run still runs
// to COMPLETE.
describe('fault: Redis flushed with TTL deadlines and queued runs pending', () => {
  let f: FaultPlatform;
  let receiver: HoldingReceiver;
  let hookUrl: string;

  beforeAll(async () => {
    receiver = new HoldingReceiver();
    hookUrl = await receiver.start();
    f = await startFaultPlatform({
      env: {
        TTL_RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
        RUN_RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
        RUN_CONCURRENCY: '1', // one run holds the worker: the others wait in the queue
        RUN_LOCK_DURATION_MS: '2000',
        HTTP_STEP_ALLOW_PRIVATE_NETWORKS: 'true', // the receiver listens on loopback
      },
    });
  });

  afterAll(async () => {
    await f?.stop();
    await receiver?.stop();
  });

  it('should still expire every object and run every queued run', async () => {
    // Runs: the first holds the only worker slot in its http step; the others are queued jobs.
    const flow = {
      Flow: {
        Steps: [{ ID: 'call', Type: 'http', Config: { URL: hookUrl } }],
        StartingStepID: 'call',
      },
    };
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const res = await fetch(`${f.t.gatewayUrl}/api/v1/flow/redis-flush`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.org.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(flow),
      });
      expect(res.status).toBe(200);
      runIds.push(((await res.json()) as { ID: string }).ID);
    }
    await waitFor('the first run to hold the worker', () => receiver.runIds.length > 0);
    const pending = await f.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM flow.runs WHERE id = ANY($1) AND status = 'QUEUED'`,
      [runIds],
    );
    expect(Number(pending.rows[0].n)).toBeGreaterThan(0);
    const objects = objectsClient(f.t, f.org);
    // Objects with deadlines several seconds away (created after the runs, so no other work delays the
    // flush past them), half of them with bytes: still live when Redis is flushed.
    const ids: string[] = [];
    for (let i = 0; i < TTL_OBJECTS; i++) {
      const created = await objects.create({
        name: `ttl-${i}.txt`,
        content_type: 'text',
        ttl_ms: 8_000 + (i % 10) * 200,
      });
      expect(created.status).toBe(200);
      if (i % 2 === 0) {
        expect(await objects.put(created.body.upload_url!, bytesOf(64))).toBe(200);
        expect((await objects.complete(created.body.id)).status).toBe(200);
      }
      ids.push(created.body.id);
    }

    const live = await f.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM object_metadata.objects WHERE id = ANY($1) AND state <> 'DELETED'`,
      [ids],
    );
    // Their deadlines are pending (on a normal machine all of them; a stalled one may let a few pass).
    expect(Number(live.rows[0].n)).toBeGreaterThan(TTL_OBJECTS / 2);

    await f.t.flushRedis();
    receiver.release();

    await waitFor(
      'every object to expire',
      async () => {
        const { rows } = await f.db.query<{ n: string }>(
          `SELECT count(*) AS n FROM object_metadata.objects WHERE id = ANY($1) AND state <> 'DELETED'`,
          [ids],
        );
        return rows[0].n === '0';
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    for (const id of ids) {
      const got = await objects.get(id);
      expect(got.body.state).toBe('DELETED');
    }
    const keys = await f.db.query<{ object_key: string }>(
      `SELECT object_key FROM object_metadata.objects WHERE id = ANY($1)`,
      [ids],
    );
    await waitFor(
      'the expired objects’ bytes to be removed',
      async () => {
        for (const { object_key } of keys.rows) if (await f.bytesExist(object_key)) return false;
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    await waitFor(
      'every run to complete',
      async () => {
        const { rows } = await f.db.query<{ status: string }>(
          `SELECT status FROM flow.runs WHERE id = ANY($1)`,
          [runIds],
        );
        if (rows.some((r) => r.status === 'ERROR' || r.status === 'EXPIRED'))
          throw new Error(`a run failed: ${JSON.stringify(rows)}`);
        return rows.length === RUNS && rows.every((r) => r.status === 'COMPLETE');
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    expect(new Set(receiver.runIds)).toEqual(new Set(runIds));
  });
});
