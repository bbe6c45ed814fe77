import { Topic } from '@lib/contracts';
import { createKafka, producerConfig } from '@lib/kafka';
import {
  readTopics,
  startTestPlatform,
  TestOrg,
  TestPlatform,
  TopicReader,
  waitFor,
} from '@lib/testing';
import { logLevel } from 'kafkajs';
import { Client } from 'pg';

interface CloudEvent {
  specversion: string;
  id: string;
  type: string;
  source: string;
  subject: string;
  data: { objectId: string; orgId: string; change: string; version: number };
}

interface Usage {
  orgKey: string;
  totalBytes: number;
  fileCount: number;
}

// One real path end to end: an authenticated request through the gateway → object-metadata writes the row
// and its outbox event in one transaction → the relay publishes to Kafka → the usage-aggregator consumes it
// idempotently and the usage endpoint shows it.
describe('walking skeleton', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let reader: TopicReader;

  const createObject = async (name: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.gatewayUrl}/v1/objects`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${org.apiKey}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({ name, content_type: 'text' }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { id: string; state: string; upload_url: string };
  };

  const usage = async (): Promise<Usage> => {
    const res = await fetch(`${t.gatewayUrl}/api/v1/objects/storage-usage`, {
      headers: { authorization: `Bearer ${org.adminJwt}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Usage;
  };

  const eventsOf = (objectId: string) =>
    reader.messages.filter((m) => m.topic === Topic.StorageFileUpdated && m.key === objectId);

  beforeAll(async () => {
    t = await startTestPlatform();
    org = await t.createOrg();
    reader = await readTopics(t.kafka.brokers, [Topic.StorageFileUpdated]);
  });

  afterAll(async () => {
    await reader?.stop();
    await t?.stop();
  });

  it('should publish storage_file.updated and update usage when an object is created', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const object = await createObject('report.txt', {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(object.state).toBe('UPLOADING');

    const [message] = await reader.waitFor((m) => m.key === object.id);
    const event = JSON.parse(message.value) as CloudEvent;
    expect(event).toMatchObject({
      specversion: '1.0',
      source: '/object-metadata',
      subject: object.id,
      data: { objectId: object.id, orgId: org.orgId, change: 'created', version: 1 },
    });
    // The trace started by the client's request continues through gateway, service and Kafka.
    expect(message.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));

    await waitFor('usage to count the object', async () => (await usage()).fileCount === 1);
    expect(await usage()).toMatchObject({ orgKey: org.orgKey, fileCount: 1, totalBytes: 0 });
  });

  it('should apply an event once when Kafka delivers it twice', async () => {
    const object = await createObject('twice.txt');
    const [original] = await reader.waitFor((m) => m.key === object.id);
    await waitFor('usage to count the object', async () => (await usage()).fileCount === 2);

    // Deliver the very same CloudEvent again, as an at-least-once relay may.
    const producer = createKafka({
      brokers: t.kafka.brokers,
      clientId: 'e2e',
      logLevel: logLevel.NOTHING,
    }).producer(producerConfig());
    await producer.connect();
    const [sent] = await producer.send({
      topic: Topic.StorageFileUpdated,
      messages: [{ key: original.key, value: original.value, headers: original.headers }],
    });
    await producer.disconnect();

    // Wait until the aggregator has consumed past the duplicate, then check nothing changed.
    const db = new Client({ connectionString: t.db.url });
    await db.connect();
    try {
      await waitFor('the usage-aggregator to commit past the duplicate', async () => {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM usage.processed_events WHERE event_id = $1`,
          [(JSON.parse(original.value) as CloudEvent).id],
        );
        return rows[0].n === '1' && eventsOf(object.id).length === 2;
      });
      expect(sent.errorCode).toBe(0);
    } finally {
      await db.end();
    }
    await new Promise((r) => setTimeout(r, 500)); // let a wrong double count show up
    expect((await usage()).fileCount).toBe(2);
  });

  it('should lose no event when every broker is down during the writes and comes back', async () => {
    const before = (await usage()).fileCount;
    await Promise.all(t.kafka.nodes.map((node) => node.stop()));
    // Writes keep succeeding: the events wait in the outbox, committed with the rows.
    const created: string[] = [];
    for (let i = 0; i < 20; i++) created.push((await createObject(`outage-${i}.txt`)).id);
    await new Promise((r) => setTimeout(r, 3_000)); // the relay retries against the dead brokers
    await Promise.all(t.kafka.nodes.map((node) => node.start()));

    for (const id of created) {
      await reader.waitFor((m) => m.key === id, 1, 60_000);
    }
    await waitFor(
      'usage to count every object created during the outage',
      async () => (await usage()).fileCount === before + created.length,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    for (const id of created) expect(eventsOf(id)).toHaveLength(1);
  });
});
