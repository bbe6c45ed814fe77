import { Topic } from '@lib/contracts';
import { readTopics, TopicReader, waitFor } from '@lib/testing';
import {
  bytesOf,
  objectsClient,
  orgStorageClient,
  runPool,
  type FaultPlatform,
  startFaultPlatform,
} from '../../support/fault-load';
import { expectUsageIsTruth } from '../../support/usage-truth';

const OPERATIONS = 1_000;
const OUTAGE_MS = 30_000;
const BEFORE_OUTAGE = 150;
/** Operations started during the outage at most (the rest run after it). */
const DURING_OUTAGE_MAX = 700;

// Fault family 1: every Kafka broker down for 30 s while uploads and object changes go on. Requests never
// wait for Kafka (the outbox commits events with the change); once the brokers are back, every
// storage_file.updated reaches the topic (read back, per event id and per file version) and usage equals
// the truth of object-metadata's records.
describe('fault: Kafka brokers down for 30 s under load', () => {
  let f: FaultPlatform;
  let reader: TopicReader;

  beforeAll(async () => {
    f = await startFaultPlatform({
      apps: ['object-metadata', 'storage', 'usage-aggregator', 'gateway'],
    });
    reader = await readTopics(f.t.kafka.brokers, [Topic.StorageFileUpdated]);
  });

  afterAll(async () => {
    await reader?.stop();
    await f?.stop();
  });

  it('should lose no storage_file.updated and end with usage equal to the truth', async () => {
    const objects = objectsClient(f.t, f.org);
    const storage = orgStorageClient(f.t, f.org);
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
    await Promise.all(f.t.kafka.nodes.map((node) => node.stop()));
    const outageEnds = Date.now() + OUTAGE_MS;
    try {
      await run(() => Date.now() < outageEnds && ops < BEFORE_OUTAGE + DURING_OUTAGE_MAX);
      const opsDuringOutage = ops - BEFORE_OUTAGE;
      expect(opsDuringOutage).toBeGreaterThan(0);
      const rest = outageEnds - Date.now();
      // The outage lasts its full 30 s even when the load finished early.
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    } finally {
      await Promise.all(f.t.kafka.nodes.map((node) => node.start()));
    }
    await run(() => ops < OPERATIONS);
    expect(failures).toEqual([]);
    expect(ops).toBeGreaterThanOrEqual(OPERATIONS);

    // Every event the outbox holds is published and read back from the topic, none missing.
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
      `SELECT event_id FROM object_metadata.outbox WHERE topic = $1`,
      [Topic.StorageFileUpdated],
    );
    const wanted = new Set(rows.map((r) => r.event_id));
    const seen = new Set<string>();
    await waitFor(
      'every outbox event on the topic',
      () => {
        for (const m of reader.messages) seen.add((JSON.parse(m.value) as { id: string }).id);
        return [...wanted].every((id) => seen.has(id));
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    ).catch((err: unknown) => {
      const missing = [...wanted].filter((id) => !seen.has(id));
      throw new Error(`${(err as Error).message}: ${missing.length} missing of ${wanted.size}`);
    });

    // Per file, the versions on the topic are 1..n with no gap, n being the record's version.
    const versions = new Map<string, Set<number>>();
    for (const m of reader.messages) {
      const data = (JSON.parse(m.value) as { data: { objectId: string; version: number } }).data;
      const set = versions.get(data.objectId) ?? new Set<number>();
      set.add(data.version);
      versions.set(data.objectId, set);
    }
    const records = await f.db.query<{ id: string; version: number }>(
      `SELECT id, version FROM object_metadata.objects WHERE org_id = $1
       UNION ALL SELECT id, version FROM object_metadata.org_files WHERE org_id = $1`,
      [f.org.orgId],
    );
    expect(records.rows.length).toBeGreaterThan(units / 2);
    const gaps = records.rows.filter((r) => {
      const got = versions.get(r.id);
      if (!got) return true;
      for (let v = 1; v <= r.version; v++) if (!got.has(v)) return true;
      return false;
    });
    expect(gaps).toEqual([]);

    await expectUsageIsTruth(f.t, f.org, 90_000);
  });
});
