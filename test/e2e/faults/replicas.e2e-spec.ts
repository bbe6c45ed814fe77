import { AssignerProtocol, logLevel } from 'kafkajs';
import { ALL_TOPICS, TOPIC_PARTITIONS } from '@lib/contracts';
import { createKafka } from '@lib/kafka';
import { type AppName, readTopics, type TestOrg, type TopicReader, waitFor } from '@lib/testing';
import {
  attempt,
  bytesOf,
  metricAt,
  objectsClient,
  orgStorageClient,
  runPool,
  type FaultPlatform,
  startFaultPlatform,
  uploadObject,
} from '../../support/fault-load';
import { expectUsageIsTruth } from '../../support/usage-truth';

const REPLICAS = 2;
/** Successful operations between two kills (so each kill lands under load). */
const OPS_BETWEEN_KILLS = 15;
const TTL_MS = 3_000;

/** A run that waits for one upload, then copies it and checksums the copy: two artifacts, once each. */
const FLOW = {
  Flow: {
    DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'in.txt' }],
    Steps: [
      { ID: 'copy', Type: 'copy', Inputs: ['in'], Output: 'copied', Next: 'sum' },
      { ID: 'sum', Type: 'checksum', Inputs: ['copied'] },
    ],
    StartingStepID: 'copy',
  },
};

interface RunView {
  ID: string;
  Status: string;
  Reason?: string;
  WaitingURLs?: { PutURL: string }[];
  Artifacts: { Edge: string; Name: string }[];
}

interface CloudEvent {
  id: string;
  data: { objectId?: string; change?: string; runId?: string };
}

/**
 * Which replica of `app` a kill takes, and how: the outbox publishers lose their relay leader (so leadership
 * must move), the others alternate replicas; crashes and graceful stops alternate.
 */
const KILLS: { app: AppName; signal: NodeJS.Signals; relayLeader?: true }[] = [
  { app: 'object-metadata', signal: 'SIGKILL', relayLeader: true },
  { app: 'storage', signal: 'SIGTERM' },
  { app: 'flow-orchestrator', signal: 'SIGKILL', relayLeader: true },
  { app: 'usage-aggregator', signal: 'SIGKILL' },
  { app: 'gateway', signal: 'SIGTERM' },
];

// Production runs two to eight replicas of each app behind a Service. Here two of each run behind round-robin
// balancers (the apps call each other through them too) under mixed load, and one replica of each app is
// killed in turn, then started again as Kubernetes would. Requests may fail while a replica dies; what got a
// 2xx must hold, and the work that needs one actor (outbox relay, TTL, run steps, consumer partitions, count
// compaction) must move between replicas without being done twice to effect.
describe('fault: two replicas of every app, one of each killed in turn under load', () => {
  let f: FaultPlatform;
  let orgs: TestOrg[];
  let reader: TopicReader;

  /** A metric of one replica (its only series). */
  const metric = (app: AppName, replica: number, name: string) =>
    metricAt(f.t.platform.replicaManagementUrl(app, replica), name);

  /** The one replica of `app`, among `replicas` (default all), that publishes its outbox. */
  const relayLeader = (app: AppName, replicas = [...Array(REPLICAS).keys()]) =>
    waitFor(`one ${app} replica to lead its outbox relay`, async () => {
      const leading = [];
      for (const r of replicas)
        if ((await metric(app, r, 'outbox_relay_leader')) === 1) leading.push(r);
      return leading.length === 1 ? leading[0] : undefined;
    });

  beforeAll(async () => {
    f = await startFaultPlatform({
      replicas: REPLICAS,
      readyTimeoutMs: 60_000,
      env: {
        // Short enough that a killed worker's steps, lost jobs and purges come back within the test.
        RUN_LOCK_DURATION_MS: '2000',
        RUN_RECONCILE_INTERVAL_MS: '1000',
        TTL_RECONCILE_INTERVAL_MS: '1000',
        UPLOAD_WATCH_MAX_DELAY_MS: '300',
      },
    });
    orgs = [f.org, await f.t.createOrg()];
    reader = await readTopics(f.t.kafka.brokers, [...ALL_TOPICS]);
  }, 180_000);

  afterAll(async () => {
    await reader?.stop();
    await f?.stop();
  });

  it('should keep every acknowledged write and do each single-actor job once while replicas die', async () => {
    const completed = new Map<string, { org: TestOrg; size: number; ttl: boolean }>();
    const uploaded = new Map<string, { org: TestOrg; bytes: string }>();
    const runs = new Map<string, TestOrg>(); // run id → org, for runs whose upload S3 acknowledged
    let succeeded = 0;
    let running = true;

    const unit = async (i: number) => {
      const org = orgs[i % orgs.length];
      const objects = objectsClient(f.t, org);
      const storage = orgStorageClient(f.t, org);
      switch (i % 3) {
        case 0: {
          const ttl = i % 2 === 0;
          const bytes = bytesOf(10 + (i % 200));
          const params = {
            name: `r-${i}.txt`,
            content_type: 'text',
            ...(ttl ? { ttl_ms: TTL_MS } : {}),
          };
          const id = await uploadObject(objects, params, bytes);
          if (!id) return;
          completed.set(id, { org, size: bytes.length, ttl });
          break;
        }
        case 1: {
          const bytes = bytesOf(20 + (i % 300));
          const res = await attempt(() => storage.upload(`u-${i}.bin`, bytes, 'replicas'));
          if (res?.status !== 201) return;
          uploaded.set(`replicas/u-${i}.bin`, { org, bytes });
          break;
        }
        default: {
          const started = await attempt(async () => {
            const res = await fetch(`${f.t.gatewayUrl}/api/v1/flow/replicas`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${org.apiKey}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify(FLOW),
            });
            return res.status === 200 ? ((await res.json()) as RunView) : undefined;
          });
          if (!started) return;
          const put = await attempt(() =>
            fetch(started.WaitingURLs![0].PutURL, { method: 'PUT', body: bytesOf(64) }),
          );
          if (put?.status !== 200) return;
          runs.set(started.ID, org);
        }
      }
      succeeded++;
    };
    const load = runPool(4, () => running, unit);

    // A killed replica comes back while the next app's replica dies, as Kubernetes restarts pods on its own.
    const restarts: Promise<void>[] = [];
    try {
      for (const [n, kill] of KILLS.entries()) {
        const before = succeeded;
        await waitFor(
          `load before killing ${kill.app}`,
          () => succeeded >= before + OPS_BETWEEN_KILLS,
          {
            timeoutMs: 60_000,
          },
        );
        const replica = kill.relayLeader ? await relayLeader(kill.app) : n % REPLICAS;
        await f.t.platform.kill(kill.app, kill.signal, replica);
        if (kill.relayLeader) {
          // The survivor takes the relay over (its standby retry) while the dead one is still down.
          const survivor = (replica + 1) % REPLICAS;
          expect(await relayLeader(kill.app, [survivor])).toBe(survivor);
        }
        restarts.push(f.t.platform.restart(kill.app, replica));
      }
      await Promise.all(restarts);
      const after = succeeded;
      await waitFor('load after the last restart', () => succeeded >= after + OPS_BETWEEN_KILLS, {
        timeoutMs: 60_000,
      });
    } finally {
      running = false;
      await load;
    }
    expect(runs.size).toBeGreaterThan(10);
    expect([...completed.values()].filter((o) => o.ttl).length).toBeGreaterThan(5);

    // Every acknowledged write is there; each object with a TTL expired, and only those.
    for (const [id, { org, size, ttl }] of completed) {
      const want = ttl ? { state: 'DELETED' } : { state: 'READ_ONLY', size_bytes: size };
      const got = await waitFor(`object ${id} ${want.state}`, async () => {
        const res = await objectsClient(f.t, org).get(id);
        return res.body.state === want.state ? res : undefined;
      });
      expect({ id, body: got.body }).toMatchObject({ id, body: want });
    }
    // The counts both replicas' compactors fold (one at a time) still equal the rows.
    for (const org of orgs) {
      const {
        rows: [{ n }],
      } = await f.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM object_metadata.objects WHERE org_id = $1 AND state <> 'DELETED'`,
        [org.orgId],
      );
      const listed = await objectsClient(f.t, org).call<{ total_count: number }>(
        'GET',
        '/v1/objects?limit=1',
      );
      expect({ org: org.orgId, total: listed.body.total_count }).toEqual({
        org: org.orgId,
        total: n,
      });
    }
    for (const [path, { org, bytes }] of uploaded) {
      const res = await orgStorageClient(f.t, org).download(path);
      expect({ path, status: res.status, body: await res.text() }).toEqual({
        path,
        status: 200,
        body: bytes,
      });
    }

    // Every run whose upload landed completes, each step's effect recorded once.
    for (const [id, org] of runs) {
      const done = await waitFor(
        `run ${id} to complete`,
        async () => {
          const res = await fetch(`${f.t.gatewayUrl}/api/v1/flow/status/${id}`, {
            headers: { authorization: `Bearer ${org.apiKey}` },
          });
          const run = (await res.json()) as RunView;
          if (['ERROR', 'EXPIRED'].includes(run.Status))
            throw new Error(`run ${id} ended ${run.Status}: ${run.Reason}`);
          return run.Status === 'COMPLETE' ? run : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(done.Artifacts.map((a) => [a.Edge, a.Name])).toEqual([
        ['copied', 'in.txt'],
        ['sum', 'sum.sha256'],
      ]);
    }
    // One input and two artifacts recorded per run, however often a step was retried.
    const { rows: recorded } = await f.db.query<{ run_id: string; files: string }>(
      `SELECT run_id, string_agg(direction, ',' ORDER BY direction) AS files
       FROM object_metadata.run_files WHERE run_id = ANY($1) GROUP BY run_id`,
      [[...runs.keys()]],
    );
    expect(recorded.filter((r) => r.files !== 'input,output,output')).toEqual([]);
    expect(recorded).toHaveLength(runs.size);

    // At least once on Kafka, but an event id never stands for two contents; each TTL fired one expiry.
    await waitFor('every expiry on Kafka', () => {
      const expired = new Set(
        reader.messages
          .map((m) => JSON.parse(m.value) as CloudEvent)
          .filter((e) => e.data.change === 'expired')
          .map((e) => e.data.objectId),
      );
      return [...completed].every(([id, o]) => !o.ttl || expired.has(id));
    });
    const contents = new Map<string, Set<string>>();
    const expiries = new Map<string, Set<string>>();
    for (const m of reader.messages) {
      const event = JSON.parse(m.value) as CloudEvent;
      contents.set(event.id, (contents.get(event.id) ?? new Set()).add(m.value));
      if (event.data.change === 'expired')
        expiries.set(
          event.data.objectId!,
          (expiries.get(event.data.objectId!) ?? new Set()).add(event.id),
        );
    }
    expect([...contents].filter(([, values]) => values.size > 1)).toEqual([]);
    expect([...expiries].filter(([, ids]) => ids.size > 1)).toEqual([]);

    // The two aggregators share the partitions, and usage ends equal to the truth for every org.
    const admin = createKafka({
      brokers: f.t.kafka.brokers,
      clientId: 'test-admin',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const assigned = await waitFor('both aggregators to hold partitions', async () => {
        const {
          groups: [group],
        } = await admin.describeGroups(['usage-aggregator']);
        const counts = group.members.map((member) => {
          const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
          return Object.values(assignment?.assignment ?? {}).flat().length;
        });
        return counts.length === REPLICAS && counts.every((n) => n > 0) ? counts : undefined;
      });
      // Between them, every partition of the topics they read.
      expect(assigned.reduce((a, b) => a + b, 0)).toBe(2 * TOPIC_PARTITIONS);
    } finally {
      await admin.disconnect();
    }
    for (const org of orgs) await expectUsageIsTruth(f.t, org, 90_000);
  });
});
