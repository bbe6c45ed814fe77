import { type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '@lib/s3';
import { s3ObjectExists, startTestPlatform, TestOrg, TestPlatform, waitFor } from '@lib/testing';
import { Client } from 'pg';
import { bytesOf, objectsClient } from '../../support/fault-load';
import { HoldingReceiver } from '../../support/holding-receiver';

const RECONCILE_INTERVAL_MS = 1_000;
const TTL_OBJECTS = 40;
const RUNS = 12;

// Fault family 2: Redis flushed (every key of the platform's BullMQ prefix) while TTL jobs and queued runs
// are pending. Postgres holds every deadline and every run; the reconcilers (TTL_RECONCILE_INTERVAL_MS,
// RUN_RECONCILE_INTERVAL_MS, 1 s here) enqueue again what Redis lost: every object still expires (bytes
// gone) and every run still runs to COMPLETE.
describe('fault: Redis flushed with TTL jobs and queued runs pending', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let db: Client;
  let s3: S3Client;
  let receiver: HoldingReceiver;
  let hookUrl: string;

  beforeAll(async () => {
    receiver = new HoldingReceiver();
    hookUrl = await receiver.start();
    t = await startTestPlatform({
      env: {
        TTL_RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
        RUN_RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
        RUN_CONCURRENCY: '1', // one run holds the worker: the others wait in the queue
        RUN_LOCK_DURATION_MS: '2000',
        HTTP_STEP_ALLOW_PRIVATE_NETWORKS: 'true', // the receiver listens on loopback
      },
    });
    org = await t.createOrg();
    db = new Client({ connectionString: t.db.url });
    await db.connect();
    s3 = createS3Client(t.s3.settings);
  });

  afterAll(async () => {
    s3?.destroy();
    await db?.end();
    await t?.stop();
    await receiver?.stop();
  });

  const bytesExist = (key: string) => s3ObjectExists(s3, t.s3.settings.bucket, key);

  it('should still expire every object and run every queued run', async () => {
    const objects = objectsClient(t, org);
    // Objects with deadlines a few seconds away, half of them with bytes: their expiry jobs are delayed
    // jobs in Redis when it is flushed.
    const ids: string[] = [];
    for (let i = 0; i < TTL_OBJECTS; i++) {
      const created = await objects.create({
        name: `ttl-${i}.txt`,
        content_type: 'text',
        ttl_ms: 4_000 + (i % 10) * 200,
      });
      expect(created.status).toBe(200);
      if (i % 2 === 0) {
        expect(await objects.put(created.body.upload_url!, bytesOf(64))).toBe(200);
        expect((await objects.complete(created.body.id)).status).toBe(200);
      }
      ids.push(created.body.id);
    }

    // Runs: the first holds the only worker slot in its http step; the others are queued jobs.
    const flow = {
      Flow: {
        Steps: [{ ID: 'call', Type: 'http', Config: { URL: hookUrl } }],
        StartingStepID: 'call',
      },
    };
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const res = await fetch(`${t.gatewayUrl}/api/v1/flow/redis-flush`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(flow),
      });
      expect(res.status).toBe(200);
      runIds.push(((await res.json()) as { ID: string }).ID);
    }
    await waitFor('the first run to hold the worker', () => receiver.runIds.length > 0);
    const pending = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM flow.runs WHERE id = ANY($1) AND status = 'QUEUED'`,
      [runIds],
    );
    expect(Number(pending.rows[0].n)).toBeGreaterThan(0);
    const live = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM object_metadata.objects WHERE id = ANY($1) AND state <> 'DELETED'`,
      [ids],
    );
    expect(Number(live.rows[0].n)).toBe(TTL_OBJECTS); // nothing expired yet: the jobs are pending

    await t.flushRedis();
    receiver.release();

    await waitFor(
      'every object to expire',
      async () => {
        const { rows } = await db.query<{ n: string }>(
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
    const keys = await db.query<{ object_key: string }>(
      `SELECT object_key FROM object_metadata.objects WHERE id = ANY($1)`,
      [ids],
    );
    await waitFor(
      'the expired objects’ bytes to be removed',
      async () => {
        for (const { object_key } of keys.rows) if (await bytesExist(object_key)) return false;
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    await waitFor(
      'every run to complete',
      async () => {
        const { rows } = await db.query<{ status: string }>(
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
