import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { newKeyToken } from '@lib/contracts';
import { AppName, REPO_ROOT, waitFor } from '@lib/testing';
import {
  attempt,
  bytesOf,
  objectsClient,
  orgStorageClient,
  runPool,
  type FaultPlatform,
  startFaultPlatform,
  uploadObject,
} from '../../support/fault-load';
import { expectUsageIsTruth } from '../../support/usage-truth';

const KILLED: readonly AppName[] = ['object-metadata', 'storage', 'usage-aggregator', 'gateway'];
/** Successful operations between two kills (so each kill lands under load). */
const OPS_BETWEEN_KILLS = 30;

// Fault family 5: each app killed with SIGKILL under load, then restarted. Requests may fail while an app
// is down (the client sees an error, never a false success), but every request that got a 2xx is durable,
// no object is READ_ONLY (nor any org file recorded) without its bytes, and usage ends equal to the truth.
describe('fault: SIGKILL of each app under load', () => {
  let f: FaultPlatform;

  beforeAll(async () => {
    f = await startFaultPlatform({
      apps: ['object-metadata', 'storage', 'usage-aggregator', 'gateway'],
    });
  });

  afterAll(async () => {
    await f?.stop();
  });

  it('should keep every acknowledged write and never record bytes that are missing', async () => {
    const objects = objectsClient(f.t, f.org);
    const storage = orgStorageClient(f.t, f.org);
    const completed = new Map<string, number>(); // object id → size, acknowledged by a 200 complete
    const uploaded = new Map<string, string>(); // org file path → bytes, acknowledged by a 201
    let succeeded = 0;
    let running = true;

    // A failed request (app down, connection reset) is allowed; only 2xx answers are promises.
    const unit = async (i: number) => {
      if (i % 2 === 0) {
        const bytes = bytesOf(10 + (i % 200));
        const id = await uploadObject(objects, { name: `k-${i}.txt`, content_type: 'text' }, bytes);
        if (!id) return;
        completed.set(id, bytes.length);
      } else {
        const bytes = bytesOf(20 + (i % 300));
        const res = await attempt(() => storage.upload(`u-${i}.bin`, bytes, 'kill'));
        if (res?.status !== 201) return;
        uploaded.set(`kill/u-${i}.bin`, bytes);
      }
      succeeded++;
    };
    const load = runPool(4, () => running, unit);

    try {
      for (const app of KILLED) {
        const before = succeeded;
        await waitFor(`load before killing ${app}`, () => succeeded >= before + OPS_BETWEEN_KILLS, {
          timeoutMs: 60_000,
        });
        await f.t.platform.kill(app, 'SIGKILL');
        await f.t.platform.restart(app);
      }
      const after = succeeded;
      await waitFor('load after the last restart', () => succeeded >= after + OPS_BETWEEN_KILLS, {
        timeoutMs: 60_000,
      });
    } finally {
      running = false;
      await load;
    }
    expect(completed.size + uploaded.size).toBeGreaterThan(KILLED.length * OPS_BETWEEN_KILLS);

    // Every acknowledged write is there.
    for (const [id, size] of completed) {
      const got = await objects.get(id);
      expect({ id, status: got.status, body: got.body }).toMatchObject({
        status: 200,
        body: { state: 'READ_ONLY', size_bytes: size },
      });
    }
    for (const [path, bytes] of uploaded) {
      const res = await storage.download(path);
      expect({ path, status: res.status, body: await res.text() }).toEqual({
        path,
        status: 200,
        body: bytes,
      });
    }
    // No record claims bytes S3 does not hold.
    const { rows } = await f.db.query<{ object_key: string }>(
      `SELECT object_key FROM object_metadata.org_files WHERE org_id = $1
       UNION ALL
       SELECT object_key FROM object_metadata.objects WHERE org_id = $1 AND state = 'READ_ONLY'`,
      [f.org.orgId],
    );
    const missing: string[] = [];
    for (const { object_key } of rows)
      if (!(await f.bytesExist(object_key))) missing.push(object_key);
    expect(missing).toEqual([]);
    await expectUsageIsTruth(f.t, f.org, 90_000);
  });

  it('should collect orphaned bytes (stored, never recorded) with the documented sweep, and only them', async () => {
    // What a kill between "bytes stored" and "record written" leaves: keys no record points at.
    const orphans = [
      `${f.org.orgKey}/files/${newKeyToken()}`,
      `${f.org.orgKey}/objects/obj_${'0'.repeat(32)}/${newKeyToken()}`,
    ];
    for (const Key of orphans) {
      await f.s3.send(
        new PutObjectCommand({ Bucket: f.t.s3.settings.bucket, Key, Body: 'orphan' }),
      );
    }
    const { rows } = await f.db.query<{ object_key: string }>(
      `SELECT object_key FROM object_metadata.org_files WHERE org_id = $1
       UNION ALL
       SELECT object_key FROM object_metadata.objects WHERE org_id = $1 AND state = 'READ_ONLY'`,
      [f.org.orgId],
    );
    expect(rows.length).toBeGreaterThan(0);

    const cli = (args: string[]) =>
      promisify(execFile)('node', [join(REPO_ROOT, 'dist/tools/cli/main.js'), ...args], {
        env: {
          ...process.env,
          DATABASE_URL: f.t.db.url,
          S3_ENDPOINT: f.t.s3.settings.endpoint,
          S3_REGION: f.t.s3.settings.region,
          S3_BUCKET: f.t.s3.settings.bucket,
          S3_ACCESS_KEY_ID: f.t.s3.settings.credentials.accessKeyId,
          S3_SECRET_ACCESS_KEY: f.t.s3.settings.credentials.secretAccessKey,
          S3_FORCE_PATH_STYLE: 'true',
          // A small bucket: the orphans this test makes may be more than the default share of it.
          SWEEP_MAX_DELETE_RATIO: '1',
        },
      });
    // The default grace (2 h) spares them: they are recent, maybe an upload in progress.
    const spared = JSON.parse((await cli(['sweep-orphans'])).stdout) as { deleted: number };
    expect(spared.deleted).toBe(0);
    for (const key of orphans) expect(await f.bytesExist(key)).toBe(true);

    // Without --delete it only reports.
    const dry = JSON.parse((await cli(['sweep-orphans', '--older-than-minutes', '0'])).stdout) as {
      orphans: number;
      deleted: number;
    };
    expect(dry.orphans).toBeGreaterThanOrEqual(orphans.length);
    expect(dry.deleted).toBe(0);
    for (const key of orphans) expect(await f.bytesExist(key)).toBe(true);

    const swept = JSON.parse(
      (await cli(['sweep-orphans', '--older-than-minutes', '0', '--delete'])).stdout,
    ) as { orphans: number; deleted: number };
    expect(swept.deleted).toBe(swept.orphans);
    for (const key of orphans) expect(await f.bytesExist(key)).toBe(false);
    // Every recorded file keeps its bytes.
    const missing: string[] = [];
    for (const { object_key } of rows)
      if (!(await f.bytesExist(object_key))) missing.push(object_key);
    expect(missing).toEqual([]);
  });
});
