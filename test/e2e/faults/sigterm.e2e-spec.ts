import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { orgFileKey, type ServicePrincipal, Topic } from '@lib/contracts';
import { createKafka } from '@lib/kafka';
import { AppName, waitFor } from '@lib/testing';
import { createS3Client } from '@lib/s3';
import { logLevel } from 'kafkajs';
import { Client } from 'pg';
import {
  bytesOf,
  objectsClient,
  orgStorageClient,
  type FaultPlatform,
  startFaultPlatform,
} from '../../support/fault-load';
import { HoldingReceiver } from '../../support/holding-receiver';
import { expectUsageIsTruth } from '../../support/usage-truth';

const IN_FLIGHT = 6;

// Fault family 4: SIGTERM on each app while requests are in flight in it (held deterministically: a table
// lock the test owns, or a request body the test has not finished sending), then the app restarted. Every
// in-flight request finishes with a 2xx (no error reaches a client), the app exits 0, the usage consumer's
// offsets are committed, and a BullMQ job running at the signal finishes (or returns to the queue).
describe('fault: SIGTERM on each app with requests in flight', () => {
  let f: FaultPlatform;
  let receiver: HoldingReceiver;
  let hookUrl: string;

  beforeAll(async () => {
    receiver = new HoldingReceiver();
    hookUrl = await receiver.start();
    f = await startFaultPlatform({
      env: {
        RUN_RECONCILE_INTERVAL_MS: '1000',
        HTTP_STEP_ALLOW_PRIVATE_NETWORKS: 'true',
        SHUTDOWN_GRACE_SECONDS: '20',
      },
    });
  });

  afterAll(async () => {
    await f?.stop();
    await receiver?.stop();
  });

  /**
   * The app's `http_server_requests_in_flight`, or for object-metadata the calls it holds: the gateway sends
   * concurrent creates to it as batched calls, several in one request (`internal_batch_calls_in_flight`).
   */
  const inFlight = async (app: AppName) => {
    const metric =
      app === 'object-metadata'
        ? 'internal_batch_calls_in_flight'
        : 'http_server_requests_in_flight';
    const text = await (await fetch(`${f.t.platform.managementUrls[app]}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(metric));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  /** Sends SIGTERM and resolves once the app stopped being ready (it is shutting down), with its exit. */
  const terminate = async (app: AppName) => {
    const exited = f.t.platform.kill(app, 'SIGTERM');
    await waitFor(`${app} to stop being ready`, async () => {
      try {
        return (await fetch(`${f.t.platform.urls[app]}/health/ready`)).status === 503;
      } catch {
        return true; // already closed its listener
      }
    });
    return { exited }; // wrapped: an async function returning the promise would wait for the exit
  };

  /**
   * POSTs a body sent in two parts around a SIGTERM of `app`: `first` once the request is in flight there,
   * then the signal, then `rest`. Answers the response and the app's exit.
   */
  const postAcrossSigterm = async (
    app: AppName,
    url: string,
    headers: Record<string, string>,
    first: Buffer[],
    rest: Buffer[],
  ) => {
    let finish!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of first) controller.enqueue(part);
        finish = () => {
          for (const part of rest) controller.enqueue(part);
          controller.close();
        };
      },
    });
    const pending = fetch(url, { method: 'POST', headers, body, duplex: 'half' });
    await waitFor(`the request to be in flight in ${app}`, async () => (await inFlight(app)) >= 1);
    const { exited } = await terminate(app);
    finish();
    return { res: await pending, exited };
  };

  /** Holds writes (or reads) of these tables until the returned release is called. */
  const lockTables = async (tables: string[], mode = 'EXCLUSIVE') => {
    const lock = new Client({ connectionString: f.t.db.url });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query(`LOCK TABLE ${tables.join(', ')} IN ${mode} MODE`);
    return async () => {
      await lock.query('COMMIT');
      await lock.end();
    };
  };

  const createObjects = (n: number) => {
    const objects = objectsClient(f.t, f.org);
    return Array.from({ length: n }, (_, i) =>
      objects.create({ name: `sigterm-${i}.txt`, content_type: 'text' }),
    );
  };

  it.each(['object-metadata', 'gateway'] as const)(
    'should finish the requests in flight in %s and exit 0',
    async (app) => {
      const release = await lockTables(['object_metadata.objects']);
      const pending = createObjects(IN_FLIGHT);
      await waitFor('the creates to be in flight', async () => (await inFlight(app)) >= IN_FLIGHT);
      const { exited } = await terminate(app);
      await release();
      const answers = await Promise.all(pending);
      const code = await exited;
      expect({ statuses: answers.map((a) => a.status), code }).toEqual({
        statuses: Array(IN_FLIGHT).fill(200),
        code: 0,
      });
      await f.t.platform.restart(app);
      const objects = objectsClient(f.t, f.org);
      for (const a of answers) expect((await objects.get(a.body.id)).status).toBe(200);
    },
  );

  it('should finish an upload whose body is still arriving when the gateway gets SIGTERM', async () => {
    const boundary = 'sigterm-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\nterm\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    );
    const first = Buffer.from(bytesOf(64 * 1024));
    const rest = Buffer.from(bytesOf(64 * 1024));
    const { res, exited } = await postAcrossSigterm(
      'gateway',
      `${f.t.gatewayUrl}/api/private/storage/upload`,
      {
        'api-key': f.org.orgPrivateKey,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      [head, first],
      [rest, Buffer.from(`\r\n--${boundary}--\r\n`)],
    );
    expect({ status: res.status, body: await res.text() }).toMatchObject({ status: 201 });
    expect(await exited).toBe(0);
    await f.t.platform.restart('gateway');
    const download = await orgStorageClient(f.t, f.org).download('term/slow.bin');
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.concat([first, rest]))).toBe(
      true,
    );
  });

  it('should finish a copy whose request is still arriving when storage gets SIGTERM', async () => {
    const up = await orgStorageClient(f.t, f.org).upload('source.bin', bytesOf(1000), 'term');
    expect(up.status).toBe(201);
    const to = orgFileKey(f.org.orgKey);
    const json = Buffer.from(
      JSON.stringify({ from: up.body.data.objectKey, to, maxBytes: 10_000 }),
    );
    // As object-metadata calls it (an org file copy), the body sent in two parts around the signal.
    const principal: ServicePrincipal = {
      orgId: f.org.orgId,
      orgKey: f.org.orgKey,
      userId: f.org.adminUserId,
      role: 'admin',
      actor: { type: 'user', id: f.org.adminUserId },
      workflowId: null,
    };
    const { res, exited } = await postAcrossSigterm(
      'storage',
      `${f.t.platform.urls.storage}/internal/bytes/copy`,
      {
        authorization: `Bearer ${f.t.serviceToken('object-metadata', 'storage', principal)}`,
        'content-type': 'application/json',
      },
      [json.subarray(0, 10)],
      [json.subarray(10)],
    );
    expect({ status: res.status, body: await res.json() }).toMatchObject({
      status: 200,
      body: { sizeBytes: 1000 },
    });
    expect(await exited).toBe(0);
    await f.t.platform.restart('storage');
    const s3 = createS3Client(f.t.s3.settings);
    try {
      const copied = await s3.send(
        new HeadObjectCommand({ Bucket: f.t.s3.settings.bucket, Key: to }),
      );
      expect(copied.ContentLength).toBe(1000);
    } finally {
      s3.destroy();
    }
  });

  it('should finish reads in flight in usage-aggregator and commit its Kafka offsets', async () => {
    // Some events to consume first.
    const objects = objectsClient(f.t, f.org);
    for (let i = 0; i < 5; i++) {
      const c = await objects.create({ name: `u-${i}.txt`, content_type: 'text' });
      await objects.put(c.body.upload_url!, bytesOf(100 + i));
      expect((await objects.complete(c.body.id)).status).toBe(200);
    }
    await expectUsageIsTruth(f.t, f.org);

    const release = await lockTables(['usage.usage_totals'], 'ACCESS EXCLUSIVE');
    const pending = Array.from({ length: IN_FLIGHT }, () =>
      fetch(`${f.t.gatewayUrl}/api/v1/objects/storage-usage`, {
        headers: { authorization: `Bearer ${f.org.adminJwt}` },
      }),
    );
    await waitFor(
      'the reads to be in flight',
      async () => (await inFlight('usage-aggregator')) >= IN_FLIGHT,
    );
    const { exited } = await terminate('usage-aggregator');
    await release();
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.status)).toEqual(Array(IN_FLIGHT).fill(200));
    expect(await exited).toBe(0);

    // Every consumed event's offset is committed: the group's offsets are the topic's ends.
    const kafka = createKafka({
      brokers: f.t.kafka.brokers,
      clientId: 'sigterm-test',
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(Topic.StorageFileUpdated);
      const [committed] = await admin.fetchOffsets({
        groupId: 'usage-aggregator',
        topics: [Topic.StorageFileUpdated],
      });
      const byPartition = new Map(committed.partitions.map((p) => [p.partition, p.offset]));
      // A partition that never had a message has no committed offset (-1): nothing to commit there.
      const lagging = ends.filter((end) => {
        const offset = byPartition.get(end.partition);
        return !(offset === end.offset || (end.offset === '0' && offset === '-1'));
      });
      expect({ lagging, committed: committed.partitions }).toEqual({
        lagging: [],
        committed: expect.any(Array),
      });
    } finally {
      await admin.disconnect();
    }
    await f.t.platform.restart('usage-aggregator');
    await expectUsageIsTruth(f.t, f.org);
  });

  it('should let a running run finish and answer the flow requests in flight in flow-orchestrator', async () => {
    const flow = {
      Flow: {
        Steps: [{ ID: 'call', Type: 'http', Config: { URL: hookUrl } }],
        StartingStepID: 'call',
      },
    };
    const start = () =>
      fetch(`${f.t.gatewayUrl}/api/v1/flow/sigterm`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.org.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(flow),
      });
    const first = await start();
    expect(first.status).toBe(200);
    const runId = ((await first.json()) as { ID: string }).ID;
    await waitFor('the run to hold its step', () => receiver.runIds.includes(runId));

    const release = await lockTables(['flow.runs']);
    const pending = Array.from({ length: 3 }, start);
    await waitFor(
      'the flow requests to be in flight',
      async () => (await inFlight('flow-orchestrator')) >= 3,
    );
    const { exited } = await terminate('flow-orchestrator');
    await release();
    receiver.release();
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await exited).toBe(0);
    await f.t.platform.restart('flow-orchestrator');

    const ids = [
      runId,
      ...(await Promise.all(answers.map(async (a) => ((await a.json()) as { ID: string }).ID))),
    ];
    await waitFor(
      'every run to complete',
      async () => {
        const { rows } = await f.db.query<{ status: string }>(
          `SELECT status FROM flow.runs WHERE id = ANY($1)`,
          [ids],
        );
        if (rows.some((r) => r.status === 'ERROR' || r.status === 'EXPIRED'))
          throw new Error(`a run failed: ${JSON.stringify(rows)}`);
        return rows.length === ids.length && rows.every((r) => r.status === 'COMPLETE');
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });
});
