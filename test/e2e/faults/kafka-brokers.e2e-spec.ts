import { ALL_TOPICS, Topic, TOPIC_PARTITIONS } from '@lib/contracts';
import { createKafka } from '@lib/kafka';
import { readTopics, waitFor, type AppName, type KafkaNode, type TestOrg } from '@lib/testing';
import { AssignerProtocol, logLevel, type Admin } from 'kafkajs';
import {
  bytesOf,
  metricAt,
  objectsClient,
  orgStorageClient,
  runPool,
  type FaultPlatform,
  startFaultPlatform,
} from '../../support/fault-load';
import { expectUsageIsTruth } from '../../support/usage-truth';

/** The usage-aggregator's consumer group (its app name). */
const USAGE_GROUP = 'usage-aggregator';

// Fault family 1: Kafka brokers, on one platform over a 3-node KRaft cluster (every node a broker and a
// controller; topics replicated 3 times, min.insync.replicas 2). Each case has an org of its own and ends
// with the cluster whole again (every replica in sync). Requests never wait for Kafka (the outbox commits
// each event with its change), so whatever the brokers do, writes answer 2xx; afterwards every
// storage_file.updated of the org is read back from the topic (by event id, and per file every version)
// and usage equals the truth of object-metadata's records.

describe('fault: Kafka brokers (3 nodes, replication factor 3, min.insync.replicas 2)', () => {
  let f: FaultPlatform;
  let admin: Admin;

  /** The value of an app's metric `name` (its only series) on its management port's `/metrics`. */
  const metric = (app: AppName, name: string) => metricAt(f.t.platform.managementUrls[app], name);

  // Three Kafka nodes, S3 and the apps: more than the default 120 s hook timeout on a loaded machine (a node's
  // start alone may take up to 90 s).
  beforeAll(async () => {
    f = await startFaultPlatform({
      kafkaNodes: 3,
      apps: ['object-metadata', 'storage', 'usage-aggregator', 'gateway'],
    });
    // Quiet: it asks for metadata while brokers are down.
    admin = createKafka({
      brokers: f.t.kafka.brokers,
      clientId: 'test-admin',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
  }, 240_000);

  afterAll(async () => {
    await admin?.disconnect();
    await f?.stop();
  });

  /** Waits until every replica of the platform's topics and of the group offsets is in sync. */
  const everyReplicaInSync = () =>
    waitFor(
      'every replica in sync',
      async () => {
        const { topics } = await admin.fetchTopicMetadata({
          topics: [...ALL_TOPICS, '__consumer_offsets'],
        });
        return topics.every((t) =>
          t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length),
        );
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );

  /**
   * Every storage_file.updated event of the org's outbox rows, once all are published, read back from the
   * topic by a new subscriber (by event id); per file, the versions on the topic are 1..n without a gap, n
   * being its record's version. Returns the event ids and the number of files (records) of the org.
   */
  const expectEveryEventOnTheTopic = async (org: TestOrg) => {
    await waitFor(
      'the outbox to be drained',
      async () =>
        (
          await f.db.query<{ n: string }>(
            `SELECT count(*) AS n FROM object_metadata.outbox WHERE published_at IS NULL`,
          )
        ).rows[0].n === '0',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const { rows } = await f.db.query<{ event_id: string }>(
      `SELECT event_id FROM object_metadata.outbox
       WHERE topic = $1 AND payload -> 'data' ->> 'orgId' = $2`,
      [Topic.StorageFileUpdated, org.orgId],
    );
    const wanted = rows.map((r) => r.event_id);
    const reader = await readTopics(f.t.kafka.brokers, [Topic.StorageFileUpdated]);
    try {
      const seen = new Set<string>();
      await waitFor(
        'every outbox event on the topic',
        () => {
          for (const m of reader.messages) seen.add((JSON.parse(m.value) as { id: string }).id);
          return wanted.every((id) => seen.has(id));
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      ).catch((err: unknown) => {
        const missing = wanted.filter((id) => !seen.has(id));
        throw new Error(`${(err as Error).message}: ${missing.length} missing of ${wanted.length}`);
      });

      const versions = new Map<string, Set<number>>();
      for (const m of reader.messages) {
        const { data } = JSON.parse(m.value) as {
          data: { orgId: string; objectId: string; version: number };
        };
        if (data.orgId !== org.orgId) continue;
        const set = versions.get(data.objectId) ?? new Set<number>();
        set.add(data.version);
        versions.set(data.objectId, set);
      }
      const records = await f.db.query<{ id: string; version: number }>(
        `SELECT id, version FROM object_metadata.objects WHERE org_id = $1
         UNION ALL SELECT id, version FROM object_metadata.org_files WHERE org_id = $1`,
        [org.orgId],
      );
      const gaps = records.rows.filter((r) => {
        const got = versions.get(r.id);
        if (!got) return true;
        for (let v = 1; v <= r.version; v++) if (!got.has(v)) return true;
        return false;
      });
      expect(gaps).toEqual([]);
      return { events: wanted, files: records.rows.length };
    } finally {
      await reader.stop();
    }
  };

  /**
   * Objects API writes of one org through the gateway: `write(i)` creates an object and, for even i, uploads
   * its bytes and completes it (so usage has sizes). Non-2xx answers and request errors are collected.
   */
  const objectWrites = (org: TestOrg) => {
    const objects = objectsClient(f.t, org);
    const failures: string[] = [];
    let started = 0;
    let finished = 0;
    const write = async (i: number) => {
      started++;
      try {
        const created = await objects.create({ name: `w-${i}.txt`, content_type: 'text' });
        if (created.status !== 200) {
          failures.push(`create ${i} → ${created.status} ${JSON.stringify(created.body)}`);
          return;
        }
        if (i % 2 !== 0) return;
        const put = await objects.put(created.body.upload_url!, bytesOf(10 + (i % 500)));
        if (put !== 200) return void failures.push(`put ${i} → ${put}`);
        const done = await objects.complete(created.body.id);
        if (done.status !== 200) {
          failures.push(`complete ${i} → ${done.status} ${JSON.stringify(done.body)}`);
        }
      } catch (err) {
        failures.push(`write ${i}: ${(err as Error).message}`);
      } finally {
        finished++;
      }
    };
    return {
      write,
      failures,
      get started() {
        return started;
      },
      /** Writes done, answered or not. */
      get finished() {
        return finished;
      },
    };
  };

  it('should answer every write while every broker is down for 30 s, then publish every event', async () => {
    const OPERATIONS = 1_000;
    const OUTAGE_MS = 30_000;
    const BEFORE_OUTAGE = 150;
    /** Operations started during the outage at most (the rest run after it). */
    const DURING_OUTAGE_MAX = 700;
    const org = f.org;
    const objects = objectsClient(f.t, org);
    const storage = orgStorageClient(f.t, org);
    let ops = 0;
    const failures: string[] = [];
    const expect2xx = (what: string, status: number, body?: unknown) => {
      ops++;
      if (status < 200 || status > 299)
        failures.push(`${what} → ${status} ${JSON.stringify(body)}`);
    };

    // One unit of work: an Objects API object's life (create, upload, complete, delete one in three), or an
    // org storage file's (upload, overwrite, rename or copy, delete one in three): 3 to 4 operations each.
    const unit = async (i: number) => {
      if (i % 2 === 0) {
        const created = await objects.create({ name: `o-${i}.txt`, content_type: 'text' });
        expect2xx('create', created.status, created.body);
        if (created.status !== 200) return;
        const put = await objects.put(created.body.upload_url!, bytesOf(10 + (i % 500)));
        expect2xx('put', put);
        const done = await objects.complete(created.body.id);
        expect2xx('complete', done.status, done.body);
        if (i % 3 === 0) {
          const del = await objects.remove(created.body.id);
          expect2xx('delete', del.status, del.body);
        }
      } else {
        const folder = `load/d${i % 7}`;
        const first = await storage.upload(`f-${i}.bin`, bytesOf(20 + (i % 300)), folder);
        expect2xx('upload', first.status, first.body);
        const again = await storage.upload(`f-${i}.bin`, bytesOf(5 + (i % 900)), folder);
        expect2xx('overwrite', again.status, again.body);
        const path = `${folder}/f-${i}.bin`;
        const next =
          i % 4 === 1
            ? await storage.rename(path, `r-${i}.bin`)
            : await storage.copy(path, folder, `c-${i}.bin`);
        expect2xx(i % 4 === 1 ? 'rename' : 'copy', next.status, next.body);
        if (i % 3 === 0) {
          const del = await storage.remove(i % 4 === 1 ? `${folder}/r-${i}.bin` : path);
          expect2xx('delete', del.status, del.body);
        }
      }
    };

    let units = 0;
    const run = (more: () => boolean) =>
      runPool(6, more, (i) => unit(units + i)).then((n) => (units += n));

    await run(() => ops < BEFORE_OUTAGE);
    // SIGKILL: the whole cluster crashes at once (a controlled shutdown needs a controller quorum, which
    // nodes stopping together take away from each other). They keep their data.
    await Promise.all(f.t.kafka.nodes.map((node) => node.kill()));
    const outageEnds = Date.now() + OUTAGE_MS;
    try {
      await run(() => Date.now() < outageEnds && ops < BEFORE_OUTAGE + DURING_OUTAGE_MAX);
      expect(ops).toBeGreaterThan(BEFORE_OUTAGE);
      // The outbox holds what waits, on /metrics; a usage-aggregator (re)started without Kafka starts,
      // stays up and says it does not consume.
      expect(await metric('object-metadata', 'outbox_backlog_events')).toBeGreaterThan(0);
      expect(await metric('object-metadata', 'outbox_oldest_event_age_seconds')).toBeGreaterThan(0);
      await f.t.platform.kill('usage-aggregator');
      await f.t.platform.restart('usage-aggregator');
      expect(await metric('usage-aggregator', 'events_consumer_consuming')).toBe(0);
      const rest = outageEnds - Date.now();
      // The outage lasts its full 30 s even when the load finished early.
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    } finally {
      // Together: the controllers elect a leader only once two of the three run.
      await Promise.all(f.t.kafka.nodes.map((node) => node.start()));
    }
    await run(() => ops < OPERATIONS);
    expect(failures).toEqual([]);
    expect(ops).toBeGreaterThanOrEqual(OPERATIONS);

    const { files } = await expectEveryEventOnTheTopic(org);
    expect(files).toBeGreaterThan(units / 2);
    await expectUsageIsTruth(f.t, org, 90_000);
    expect(await metric('usage-aggregator', 'events_consumer_consuming')).toBe(1);
    expect(await metric('usage-aggregator', 'events_consumer_processed_total')).toBeGreaterThan(0);
    await waitFor(
      'the outbox to drain on /metrics',
      async () => (await metric('object-metadata', 'outbox_backlog_events')) === 0,
    );
    await everyReplicaInSync();
  }, 240_000);

  it('should lose no event when a broker is killed during 1,000 writes and restarted on its data', async () => {
    const OBJECTS = 1_000;
    const org = await f.t.createOrg();
    const writes = objectWrites(org);
    const load = runPool(10, () => writes.started < OBJECTS, writes.write);

    // The broker that leads the most storage_file.updated partitions: the relay's sends must fail over.
    const { topics } = await admin.fetchTopicMetadata({ topics: [Topic.StorageFileUpdated] });
    const led = (node: KafkaNode) =>
      topics[0].partitions.filter((p) => p.leader === node.id).length;
    const victim = [...f.t.kafka.nodes].sort((a, b) => led(b) - led(a) || a.id - b.id)[0];

    await waitFor('a quarter of the writes', () => writes.finished >= OBJECTS / 4, {
      timeoutMs: 60_000,
    });
    await victim.kill();
    const killedAt = writes.finished;
    try {
      // The controllers fence the silent broker: its partitions get leaders among the other two replicas
      // (still min.insync.replicas, so acks=all writes go on), while the writes go on too.
      await waitFor(
        `leadership to move off broker ${victim.id}`,
        async () => {
          const meta = await admin.fetchTopicMetadata({ topics: [...ALL_TOPICS] });
          return meta.topics.every((t) =>
            t.partitions.every((p) => p.leader >= 0 && p.leader !== victim.id),
          );
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await waitFor('100 writes with the broker down', () => writes.finished >= killedAt + 100, {
        timeoutMs: 60_000,
      });
    } finally {
      await victim.start();
    }
    await load;
    expect(writes.failures).toEqual([]);

    // The restarted broker caught up from its own log and is back in every ISR.
    await everyReplicaInSync();
    const { files } = await expectEveryEventOnTheTopic(org);
    expect(files).toBe(OBJECTS);
    await expectUsageIsTruth(f.t, org, 90_000);
  }, 240_000);

  it('should change no usage figure and apply no event twice when the consumer group rebalances', async () => {
    const org = await f.t.createOrg();
    const writes = objectWrites(org);
    let writing = true;
    const load = runPool(6, () => writing, writes.write);
    const waitForWrites = (n: number) =>
      waitFor(`${n} writes`, () => writes.finished >= n, { timeoutMs: 60_000 });

    /** The group's members when it is stable: member id → the storage_file.updated partitions it owns. */
    const members = async () => {
      const {
        groups: [group],
      } = await admin.describeGroups([USAGE_GROUP]);
      if (group.state !== 'Stable') return undefined;
      return new Map(
        group.members.map((m) => [
          m.memberId,
          AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[
            Topic.StorageFileUpdated
          ] ?? [],
        ]),
      );
    };
    const committed = async () => {
      const [{ partitions }] = await admin.fetchOffsets({
        groupId: USAGE_GROUP,
        topics: [Topic.StorageFileUpdated],
      });
      return new Map(partitions.map((p) => [p.partition, BigInt(p.offset)]));
    };

    try {
      await waitForWrites(100);
      const first = await waitFor(
        'the group stable with one aggregator',
        async () => {
          const now = await members();
          return now?.size === 1 ? [...now.keys()][0] : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );

      // A second aggregator joins the group while events flow: the partitions are shared out anew.
      const second = await f.t.platform.startInstance('usage-aggregator');
      try {
        const secondOwns = await waitFor(
          'the second aggregator to own storage_file.updated partitions',
          async () => {
            const now = await members();
            if (now?.size !== 2 || !now.get(first)?.length) return undefined;
            const [, owns] = [...now].find(([id]) => id !== first)!;
            return owns.length > 0 ? owns : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 250 },
        );
        // It applies events: only the owner of a partition commits offsets on it.
        const before = await committed();
        await waitFor(
          'the second aggregator to commit offsets of its partitions',
          async () => {
            const now = await committed();
            return secondOwns.some((p) => (now.get(p) ?? -1n) > (before.get(p) ?? -1n));
          },
          { timeoutMs: 60_000, intervalMs: 250 },
        );
      } finally {
        // It crashes: a batch it applied without committing its offsets yet is delivered again, to the
        // first, whose processed_events drop it.
        await second.kill('SIGKILL');
      }
      await waitFor(
        'one aggregator to own every partition again (after the session timeout)',
        async () => {
          const now = await members();
          return now?.size === 1 && [...now.values()][0].length === TOPIC_PARTITIONS;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await waitForWrites(writes.finished + 100);
    } finally {
      writing = false;
      await load;
    }
    expect(writes.failures).toEqual([]);

    const { events } = await expectEveryEventOnTheTopic(org);
    await expectUsageIsTruth(f.t, org, 90_000);
    // Every event was applied, once: the transaction that applies an event records its id in processed_events.
    const { rows } = await f.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM usage.processed_events WHERE event_id = ANY($1::uuid[])`,
      [events],
    );
    expect(Number(rows[0].n)).toBe(events.length);
  }, 240_000);
});
