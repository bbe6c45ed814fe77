import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ALL_TOPICS, Topic } from '@lib/contracts';
import { startTestPlatform, waitFor, type TestOrg, type TestPlatform } from '@lib/testing';
import { Client } from 'pg';
import {
  messageContracts,
  parseAsyncApi,
  violations,
  type MessageContract,
} from '../../libs/events/test/asyncapi';
import { bytesOf, objectsClient } from '../support/fault-load';

/** One line of `kcat -J`: headers come as a flat list, name, value, name, value, ... */
interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  headers?: (string | null)[];
  payload: string | null;
}

interface Event {
  id: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

interface RunView {
  ID: string;
  Status: string;
  WaitingURLs?: { PutURL: string }[];
}

const execFileAsync = promisify(execFile);

/**
 * Every message of the platform's topics, read by kcat as another team's service would: a consumer group of
 * its own, from the earliest offsets, until the end of every partition (`-e`).
 */
async function readWithKcat(brokers: string[]): Promise<KcatMessage[]> {
  const { stdout } = await execFileAsync(
    'kcat',
    [
      '-b',
      brokers.join(','),
      '-G',
      'outside-team',
      '-X',
      'auto.offset.reset=earliest',
      '-e',
      '-J',
      '-q',
      ...ALL_TOPICS,
    ],
    { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as KcatMessage);
}

/** kcat's header list as an object. */
function headersOf(m: KcatMessage): Record<string, string | null> {
  const headers: Record<string, string | null> = {};
  const list = m.headers ?? [];
  for (let i = 0; i + 1 < list.length; i += 2) headers[list[i]!] = list[i + 1];
  return headers;
}

/** What is wrong with a message for a subscriber of docs/asyncapi.yaml: schemas, and the ids that must agree. */
function problemsOf(contract: MessageContract, m: KcatMessage): string[] {
  const headers = headersOf(m);
  let value: Event;
  try {
    value = JSON.parse(m.payload ?? '') as Event;
  } catch {
    return ['payload is not JSON'];
  }
  const problems = violations(contract, { key: m.key, headers, value });
  const aggregateId = m.topic === Topic.StorageFileUpdated ? 'objectId' : 'runId';
  if (m.key !== value.subject) problems.push(`key ${m.key} is not the subject ${value.subject}`);
  if (m.key !== value.data?.[aggregateId]) problems.push(`key ${m.key} is not data.${aggregateId}`);
  if (headers.ce_id !== value.id) problems.push(`ce_id ${headers.ce_id} is not the id ${value.id}`);
  if (headers.ce_type !== value.type) {
    problems.push(`ce_type ${headers.ce_type} is not the type ${value.type}`);
  }
  return problems;
}

const uploadFlow = {
  Flow: {
    DataWells: [
      { Edge: 'photo', Store: 's3-bucket', Source: 'upload', Key: '${RUN_ID}/photo.jpg' },
    ],
  },
};

// The platform's events as an outside team reads them: kcat (librdkafka), not the platform's own kafkajs
// clients, in a consumer group of its own, after an object was written and a flow ran. Every message
// validates against docs/asyncapi.yaml (key, headers, payload), and what it tells matches what happened.
describe('outside subscribers: kcat reads the storage and run topics', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let db: Client;
  let contracts: Map<string, MessageContract>;

  beforeAll(async () => {
    const { document, errors } = await parseAsyncApi();
    if (!document) throw new Error(`docs/asyncapi.yaml does not parse: ${errors.join('; ')}`);
    contracts = messageContracts(document);
    // The flow-orchestrator checks a waiting upload every 300 ms at most (default 5 s).
    t = await startTestPlatform({ env: { UPLOAD_WATCH_MAX_DELAY_MS: '300' } });
    org = await t.createOrg();
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await t?.stop();
  });

  it('should read every published event of an object and a run, each valid against docs/asyncapi.yaml', async () => {
    const objects = objectsClient(t, org);
    const created = await objects.create({ name: 'report.txt', content_type: 'text' });
    expect(created.status).toBe(200);
    expect(await objects.put(created.body.upload_url!, bytesOf(1_234))).toBe(200);
    expect((await objects.complete(created.body.id)).status).toBe(200);

    const flowRes = await fetch(`${t.gatewayUrl}/api/v1/flow/subscribers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(uploadFlow),
    });
    expect(flowRes.status).toBe(200);
    const run = (await flowRes.json()) as RunView;
    expect(run.Status).toBe('WAITING');
    const put = await fetch(run.WaitingURLs![0].PutURL, {
      method: 'PUT',
      body: randomBytes(2_048),
      headers: { 'content-type': 'image/jpeg' },
    });
    expect(put.status).toBe(200);
    await waitFor(
      `run ${run.ID} to complete`,
      async () => {
        const res = await fetch(`${t.gatewayUrl}/api/v1/flow/status/${run.ID}`, {
          headers: { authorization: `Bearer ${org.apiKey}` },
        });
        const { Status } = (await res.json()) as RunView;
        if (['ERROR', 'EXPIRED'].includes(Status)) throw new Error(`run ended ${Status}`);
        return Status === 'COMPLETE';
      },
      { timeoutMs: 60_000 },
    );

    // Everything the two relays published (acks=all: on the topics once acknowledged), per topic.
    const outbox = `SELECT topic, event_id, published_at FROM object_metadata.outbox
                    UNION ALL SELECT topic, event_id, published_at FROM flow.outbox`;
    const published = await waitFor(
      'both outboxes to be published',
      async () => {
        const { rows } = await db.query<{ topic: string; event_id: string; published_at: Date }>(
          outbox,
        );
        return rows.every((r) => r.published_at) ? rows : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    const messages = await readWithKcat(t.kafka.brokers);
    const problems = messages.flatMap((m) =>
      problemsOf(contracts.get(m.topic)!, m).map(
        (p) => `${m.topic}[${m.partition}]@${m.offset}: ${p}`,
      ),
    );
    expect(problems).toEqual([]);

    // A subscriber keeps the first copy of each event id (delivery is at least once). Each topic holds
    // every event published there, and nothing else.
    const events = new Map<string, { m: KcatMessage; event: Event }>();
    for (const m of messages) {
      const event = JSON.parse(m.payload!) as Event;
      if (!events.has(event.id)) events.set(event.id, { m, event });
    }
    const idsOn = (topic: string, of: { topic: string; id: string }[]) =>
      of
        .filter((e) => e.topic === topic)
        .map((e) => e.id)
        .sort();
    const read = [...events.values()].map(({ m, event }) => ({ topic: m.topic, id: event.id }));
    const sent = published.map((r) => ({ topic: r.topic, id: r.event_id }));
    for (const topic of ALL_TOPICS) {
      expect([topic, idsOn(topic, read)]).toEqual([topic, idsOn(topic, sent)]);
    }

    // What they tell, in each key's order (offsets of its one partition).
    const dataOf = (topic: string, key: (k: string | null) => boolean) =>
      [...events.values()]
        .filter(({ m }) => m.topic === topic && key(m.key))
        .sort((a, b) => a.m.offset - b.m.offset)
        .map(({ event }) => event.data);
    const objectId = created.body.id;
    expect(
      dataOf(Topic.StorageFileUpdated, (k) => k === objectId).map((d) => [
        d.change,
        d.version,
        d.sizeBytes,
      ]),
    ).toEqual([
      ['created', 1, 0],
      ['overwritten', 2, 1_234],
    ]);
    expect(dataOf(Topic.StorageFileUpdated, (k) => k !== objectId)).toEqual([
      expect.objectContaining({ runId: run.ID, direction: 'input', sizeBytes: 2_048 }),
    ]);
    expect(
      dataOf(Topic.RunCreated, (k) => k === run.ID).map((d) => [d.status, d.workflowName]),
    ).toEqual([['QUEUED', 'subscribers']]);
    expect(dataOf(Topic.RunUpdated, (k) => k === run.ID).map((d) => d.status)).toEqual([
      'RUNNING',
      'WAITING',
      'RUNNING',
      'COMPLETE',
    ]);
  });
});
