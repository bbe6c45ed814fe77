import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  newKeyToken,
  Topic,
  type RunCreatedEvent,
  type StorageFileUpdatedEvent,
} from '@lib/contracts';
import { buildCloudEvent, eventHeaders } from '@lib/events';
import { createKafka, producerConfig } from '@lib/kafka';
import {
  readTopics,
  REPO_ROOT,
  startTestPlatform,
  TestOrg,
  TestPlatform,
  TopicReader,
  waitFor,
} from '@lib/testing';
import { logLevel, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { expectUsageIsTruth as expectTruth, type Usage } from '../support/usage-truth';

const RATE_LIMIT = 400;

// Storage usage and public download end to end: storage usage fed by storage_file.updated / run.created through the real Kafka
// (idempotent and order-safe), compared with the truth of object-metadata's records; rebuild-usage; and the
// public download of Objects API files (302 with Content-Disposition, stream with Range, 400/404/429).
describe('usage and public download', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let other: TestOrg;
  let producer: Producer;
  let reader: TopicReader;
  let db: Client;

  const usage = async (jwt: string, query = '') => {
    const res = await fetch(`${t.gatewayUrl}/api/v1/objects/storage-usage${query}`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    return { status: res.status, body: (await res.json()) as Usage & { error?: { code: string } } };
  };
  const usageOf = async (o: TestOrg, createdBy?: string) => {
    const res = await usage(o.adminJwt, createdBy ? `?createdBy=${createdBy}` : '');
    expect(res.status).toBe(200);
    return res.body;
  };

  /** Usage equals the truth of object-metadata's records (waiting for the consumer to catch up). */
  const expectUsageIsTruth = (o: TestOrg) => expectTruth(t, o);

  const processedCount = async (ids: string[]) => {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM usage.processed_events WHERE event_id = ANY($1)`,
      [ids],
    );
    return Number(rows[0].n);
  };

  /** Sends events and waits until the aggregator has applied them (their ids are processed). */
  const send = async (
    messages: { topic: Topic; key: string; value: string; headers: Record<string, string> }[],
    waitForIds: string[] = messages.map((m) => (JSON.parse(m.value) as { id: string }).id),
  ) => {
    for (const topic of [Topic.StorageFileUpdated, Topic.RunCreated]) {
      const batch = messages.filter((m) => m.topic === topic);
      if (batch.length > 0) {
        await producer.send({
          topic,
          messages: batch.map(({ key, value, headers }) => ({ key, value, headers })),
        });
      }
    }
    await waitFor(
      'the usage-aggregator to apply the events',
      async () => (await processedCount(waitForIds)) === waitForIds.length,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  };

  const fileEvent = (data: StorageFileUpdatedEvent) => {
    const event = buildCloudEvent(Topic.StorageFileUpdated, data, {
      source: '/e2e',
      subject: data.objectId,
      id: randomUUID(),
    });
    return {
      topic: Topic.StorageFileUpdated,
      key: data.objectId,
      value: JSON.stringify(event),
      headers: eventHeaders(event),
    };
  };
  const runEvent = (data: RunCreatedEvent) => {
    const event = buildCloudEvent(Topic.RunCreated, data, {
      source: '/e2e',
      subject: data.runId,
      id: randomUUID(),
    });
    return {
      topic: Topic.RunCreated,
      key: data.runId,
      value: JSON.stringify(event),
      headers: eventHeaders(event),
    };
  };

  /** A synthetic run file's event (as flow-orchestrator would publish it). */
  const runFile = (
    o: TestOrg,
    over: Partial<StorageFileUpdatedEvent> & { objectId: string; version: number },
  ): StorageFileUpdatedEvent => ({
    orgId: o.orgId,
    orgKey: o.orgKey,
    objectKey: `${o.orgKey}/files/${newKeyToken()}`,
    direction: 'input',
    sizeBytes: 0,
    previousSizeBytes: 0,
    change: 'created',
    actor: { type: 'system', id: 'e2e' },
    createdBy: null,
    occurredAt: new Date().toISOString(),
    ...over,
  });

  // Objects API helpers.
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${t.gatewayUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${org.apiKey}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
  const storeObject = async (
    name: string,
    bytes: Buffer,
    opts: { ttl_ms?: number; complete?: boolean } = {},
  ) => {
    const res = await api('/v1/objects', {
      method: 'POST',
      body: JSON.stringify({
        name,
        content_type: 'text',
        ...(opts.ttl_ms ? { ttl_ms: opts.ttl_ms } : {}),
      }),
    });
    expect(res.status).toBe(200);
    const object = (await res.json()) as { id: string; upload_url: string };
    const put = await fetch(object.upload_url, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    if (opts.complete !== false) {
      expect(
        (await api(`/v1/objects/${object.id}/complete`, { method: 'POST', body: '{}' })).status,
      ).toBe(200);
    }
    const { rows } = await db.query<{ object_key: string }>(
      `SELECT object_key FROM object_metadata.objects WHERE id = $1`,
      [object.id],
    );
    return { id: object.id, objectKey: rows[0].object_key };
  };
  const download = (query: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${t.gatewayUrl}/api/v1/objects/download?${new URLSearchParams(query).toString()}`, {
      redirect: 'manual',
      headers,
    });

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        DOWNLOAD_RATE_LIMIT: String(RATE_LIMIT),
        DOWNLOAD_RATE_WINDOW_SECONDS: '3600',
        RATE_LIMIT_PREFIX: `e2e-${randomBytes(4).toString('hex')}`,
      },
    });
    [org, other] = [await t.createOrg(), await t.createOrg()];
    producer = createKafka({
      brokers: t.kafka.brokers,
      clientId: 'e2e',
      logLevel: logLevel.NOTHING,
    }).producer(producerConfig());
    await producer.connect();
    reader = await readTopics(t.kafka.brokers, [Topic.StorageFileUpdated, Topic.RunCreated]);
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });

  // After every test, the Objects API org's usage is the truth of object-metadata's records.
  afterEach(async () => {
    await expectUsageIsTruth(org);
  });

  afterAll(async () => {
    await db?.end();
    await producer?.disconnect();
    await reader?.stop();
    await t?.stop();
  });

  describe('storage usage', () => {
    const wfA = randomUUID();
    const wfB = randomUUID();

    it('should answer totals, input/output and a per-workflow breakdown with names when files are stored', async () => {
      await send([
        runEvent({
          orgId: other.orgId,
          orgKey: other.orgKey,
          runId: randomUUID(),
          workflowId: wfA,
          workflowName: 'ingest',
          status: 'QUEUED',
          actor: { type: 'system', id: 'e2e' },
          occurredAt: new Date().toISOString(),
        }),
        fileEvent(
          runFile(other, {
            objectId: 'f-in-1',
            version: 1,
            workflowId: wfA,
            direction: 'input',
            sizeBytes: 100,
            createdBy: other.adminUserId,
          }),
        ),
        fileEvent(
          runFile(other, {
            objectId: 'f-out-1',
            version: 1,
            workflowId: wfA,
            direction: 'output',
            sizeBytes: 40,
            createdBy: other.memberUserId,
          }),
        ),
        fileEvent(
          runFile(other, {
            objectId: 'f-in-2',
            version: 1,
            workflowId: wfB,
            direction: 'input',
            sizeBytes: 7,
            createdBy: other.memberUserId,
          }),
        ),
        fileEvent(
          runFile(other, {
            objectId: 'f-org',
            version: 1,
            direction: 'none',
            sizeBytes: 1000,
            createdBy: other.adminUserId,
          }),
        ),
      ]);
      const body = await usageOf(other);
      expect(body).toEqual({
        orgKey: other.orgKey,
        totalBytes: 1147,
        inputBytes: 107,
        outputBytes: 40,
        fileCount: 4,
        breakdown: [
          { workflowId: wfA, workflowName: 'ingest', bytes: 140, fileCount: 2 },
          { workflowId: wfB, workflowName: '', bytes: 7, fileCount: 1 },
        ].sort((a, b) => (a.workflowId < b.workflowId ? -1 : 1)),
        // The quota counts the org's file records, which these events (sent by the test) have none of.
        quota: {
          maxBytes: null,
          maxFiles: null,
          usedBytes: 0,
          usedFiles: 0,
          remainingBytes: null,
          remainingFiles: null,
        },
      });
    });

    it('should narrow to one user when an admin passes createdBy', async () => {
      expect(await usageOf(other, other.memberUserId)).toMatchObject({
        totalBytes: 47,
        inputBytes: 7,
        outputBytes: 40,
        fileCount: 2,
      });
      expect(await usageOf(other, randomUUID())).toMatchObject({
        totalBytes: 0,
        fileCount: 0,
        breakdown: [],
      });
    });

    it('should refuse createdBy from a member (403), a malformed one (400) and bad credentials (401)', async () => {
      const member = await usage(other.memberJwt, `?createdBy=${other.memberUserId}`);
      expect(member.status).toBe(403);
      expect(member.body.error?.code).toBe('FORBIDDEN');
      expect((await usage(other.memberJwt)).status).toBe(200);
      const malformed = await usage(other.adminJwt, '?createdBy=not-a-uuid');
      expect(malformed.status).toBe(400);
      expect(JSON.stringify(malformed.body)).toContain('createdBy');
      expect((await usage(other.adminJwt, '?unknown=1')).status).toBe(400);
      const none = await fetch(`${t.gatewayUrl}/api/v1/objects/storage-usage`);
      expect(none.status).toBe(401);
      expect((await usage(`${other.adminJwt.slice(0, -2)}xx`)).status).toBe(401);
    });

    it('should end with the same numbers whatever order the events of one file arrive in', async () => {
      const before = await usageOf(other);
      // File x: created 10, overwritten 30, deleted — delivered last event first.
      const x = [
        runFile(other, { objectId: 'x', version: 1, sizeBytes: 10, workflowId: wfB }),
        runFile(other, {
          objectId: 'x',
          version: 2,
          change: 'overwritten',
          sizeBytes: 30,
          previousSizeBytes: 10,
          workflowId: wfB,
        }),
        runFile(other, {
          objectId: 'x',
          version: 3,
          change: 'deleted',
          sizeBytes: 0,
          previousSizeBytes: 30,
          workflowId: wfB,
        }),
      ];
      // File y: created 5 then overwritten 50 — the overwrite arrives first, the create late.
      const y = [
        runFile(other, {
          objectId: 'y',
          version: 1,
          sizeBytes: 5,
          direction: 'output',
          workflowId: wfB,
        }),
        runFile(other, {
          objectId: 'y',
          version: 2,
          change: 'overwritten',
          sizeBytes: 50,
          previousSizeBytes: 5,
          direction: 'output',
          workflowId: wfB,
        }),
      ];
      await send([x[2], x[0], x[1], y[1]].map(fileEvent));
      await send([fileEvent(y[0])]);
      const after = await usageOf(other);
      expect(after).toMatchObject({
        totalBytes: before.totalBytes + 50,
        outputBytes: before.outputBytes + 50,
        fileCount: before.fileCount + 1,
      });
      expect(after.breakdown.find((b) => b.workflowId === wfB)).toMatchObject({
        bytes: 57,
        fileCount: 2,
      });
    });

    it('should change nothing when the whole topic is replayed twice', async () => {
      const objectsFile = await storeObject('replayed.txt', Buffer.from('0123456789'));
      await expectUsageIsTruth(org);
      const before = [
        await usageOf(org),
        await usageOf(other),
        await usageOf(other, other.memberUserId),
      ];
      await reader.waitFor((m) => m.key === objectsFile.id, 2);
      const history = reader.messages
        .filter((m) => m.topic === Topic.StorageFileUpdated || m.topic === Topic.RunCreated)
        .map((m) => ({ topic: m.topic as Topic, key: m.key!, value: m.value, headers: m.headers }));
      expect(history.length).toBeGreaterThan(10);
      // First the very same messages twice (same event ids: deduped), then once more under new event ids
      // (as a producer retrying with a new id would: only the per-file versions keep them out).
      const again = history.map((m) => {
        const event = JSON.parse(m.value) as { id: string };
        return { ...m, value: JSON.stringify({ ...event, id: randomUUID() }) };
      });
      await send([...history, ...history], []);
      await send(again);
      expect([
        await usageOf(org),
        await usageOf(other),
        await usageOf(other, other.memberUserId),
      ]).toEqual(before);
      await expectUsageIsTruth(org);
    });
  });

  describe('public download', () => {
    const content = Buffer.from('hello, world: 0123456789 abcdefghij');
    let file: { id: string; objectKey: string };

    beforeAll(async () => {
      file = await storeObject('résumé 報告 "q1".txt', content);
    });

    it('should redirect to a presigned GET that serves the bytes as an attachment named after the file', async () => {
      const res = await download({ objectKey: file.objectKey });
      expect(res.status).toBe(302);
      const location = res.headers.get('location')!;
      const got = await fetch(location);
      expect(got.status).toBe(200);
      expect(Buffer.from(await got.arrayBuffer())).toEqual(content);
      const disposition = got.headers.get('content-disposition')!;
      expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
      expect(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(disposition)![1])).toBe(
        'résumé 報告 "q1".txt',
      );
    });

    it('should present the file inline when type=inline', async () => {
      const res = await download({ objectKey: file.objectKey, type: 'inline' });
      expect(res.status).toBe(302);
      const got = await fetch(res.headers.get('location')!);
      expect(got.headers.get('content-disposition')).toMatch(/^inline; /);
      expect(got.headers.get('content-type')).toMatch(/^text\/plain/);
    });

    it('should stream the bytes through the gateway, with one Range, when stream=true', async () => {
      const full = await download({ objectKey: file.objectKey, stream: 'true' });
      expect(full.status).toBe(200);
      expect(Buffer.from(await full.arrayBuffer())).toEqual(content);
      expect(full.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(full.headers.get('accept-ranges')).toBe('bytes');
      expect(full.headers.get('x-content-type-options')).toBe('nosniff');

      const part = await download(
        { objectKey: file.objectKey, stream: 'true' },
        { range: 'bytes=7-11' },
      );
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 7-11/${content.length}`);
      expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('world');

      const tail = await download(
        { objectKey: file.objectKey, stream: 'true' },
        { range: 'bytes=-4' },
      );
      expect(tail.status).toBe(206);
      expect(Buffer.from(await tail.arrayBuffer()).toString()).toBe('ghij');

      const past = await download(
        { objectKey: file.objectKey, stream: 'true' },
        { range: 'bytes=9999-' },
      );
      expect(past.status).toBe(416);
      expect(((await past.json()) as { error: { code: string } }).error.code).toBe(
        'RANGE_NOT_SATISFIABLE',
      );
    });

    it('should answer 400 naming the problem when objectKey is missing or malformed or type is bad', async () => {
      const cases: [Record<string, string>, string][] = [
        [{}, 'objectKey'],
        [{ objectKey: '' }, 'objectKey'],
        [{ objectKey: '../../etc/passwd' }, 'objectKey'],
        [{ objectKey: `${org.orgKey}/files/short` }, 'objectKey'],
        [{ objectKey: 'x'.repeat(2000) }, 'objectKey'],
        [{ objectKey: file.objectKey, type: 'download' }, 'type'],
        [{ objectKey: file.objectKey, stream: 'yes' }, 'stream'],
      ];
      for (const [query, field] of cases) {
        const res = await download(query);
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(JSON.stringify(body.error)).toContain(field);
      }
    });

    it('should answer 404 when no live object has the key: never existed, not uploaded, deleted, expired', async () => {
      const never = `${org.orgKey}/objects/obj_${randomBytes(16).toString('hex')}/${newKeyToken()}`;
      const uploading = await storeObject('pending.txt', Buffer.from('x'), { complete: false });
      const deleted = await storeObject('gone.txt', Buffer.from('bye'));
      expect(
        (await api(`/v1/objects/${deleted.id}/delete`, { method: 'POST', body: '{}' })).status,
      ).toBe(200);
      const expiring = await storeObject('short-lived.txt', Buffer.from('tick'), { ttl_ms: 1500 });
      await waitFor(
        'the object to expire',
        async () => {
          const { rows } = await db.query<{ state: string }>(
            `SELECT state FROM object_metadata.objects WHERE id = $1`,
            [expiring.id],
          );
          return rows[0].state === 'DELETED';
        },
        { timeoutMs: 60_000 },
      );
      for (const key of [never, uploading.objectKey, deleted.objectKey, expiring.objectKey]) {
        for (const stream of ['false', 'true']) {
          const res = await download({ objectKey: key, stream });
          expect(res.status).toBe(404);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
            'FILE_NOT_FOUND',
          );
        }
      }
    });

    it('should answer 429 with Retry-After past the per-address limit, whatever X-Forwarded-For says', async () => {
      let status = 0;
      let sent = 0;
      while (sent <= RATE_LIMIT + 1) {
        // A forged X-Forwarded-For changes nothing: no proxy is trusted (TRUST_PROXY unset).
        const res = await download(
          { objectKey: `${org.orgKey}/files/${newKeyToken()}` },
          { 'x-forwarded-for': `10.0.${sent % 250}.${sent % 7}` },
        );
        sent += 1;
        status = res.status;
        if (status === 429) {
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
            'RATE_LIMITED',
          );
          break;
        }
        expect(status).toBe(404);
        await res.arrayBuffer();
      }
      expect(status).toBe(429);
    });
  });

  describe('rebuild-usage', () => {
    const cli = (args: string[]) =>
      promisify(execFile)('node', [join(REPO_ROOT, 'dist/tools/cli/main.js'), ...args], {
        env: {
          ...process.env,
          DATABASE_URL: t.db.url,
          OBJECT_METADATA_URL: t.platform.urls['object-metadata'],
          // The usage-aggregator's keys: the rebuild reads the census as that app.
          SERVICE_TOKEN_PRIVATE_KEY: t.serviceKeys.privateKeys['usage-aggregator'],
          SERVICE_TOKEN_PUBLIC_KEYS: t.serviceKeys.publicKeys,
        },
      });

    it('should recompute usage equal to the truth when the aggregates were wrong', async () => {
      await expectUsageIsTruth(org);
      const truth = await usageOf(org);
      await db.query(
        `UPDATE usage.usage_totals SET total_bytes = total_bytes + 12345, file_count = 99 WHERE org_id = $1`,
        [org.orgId],
      );
      expect((await usageOf(org)).fileCount).toBe(99);
      const { stdout } = await cli(['rebuild-usage', '--org', org.orgId]);
      expect(JSON.parse(stdout)).toEqual({ files: truth.fileCount });
      expect(await usageOf(org)).toEqual(truth);
      await expectUsageIsTruth(org);
      await expect(cli(['rebuild-usage', '--org', 'nope'])).rejects.toThrow(/UUID/);
    });

    it('should count only what object-metadata holds when every org is rebuilt', async () => {
      await cli(['rebuild-usage']);
      await expectUsageIsTruth(org);
      // `other` had synthetic files only: object-metadata holds none of them.
      expect(await usageOf(other)).toMatchObject({ totalBytes: 0, fileCount: 0, breakdown: [] });
    });
  });
});
