import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { newKeyToken, objectsApiKey, orgFileKey, runFileKey } from '@lib/contracts';
import { createLogger } from '@lib/observability';
import { createS3Client } from '@lib/s3';
import {
  createTestDatabase,
  runAdminCli,
  startTestS3,
  type TestDatabase,
  type TestS3,
} from '@lib/testing';
import { Client } from 'pg';
import { runSweepOrphans, type SweepOptions, type SweepReport } from './sweep-orphans';

const OBJECT_MAX_BYTES = 10;
const ORG = { id: randomUUID(), key: 'acme' };
const OTHER_ORG = { id: randomUUID(), key: 'globex' };

// `sweep-orphans` against a real Postgres and S3: what it keeps, what it deletes, and each guard that
// makes it refuse. Each test starts from an empty bucket and empty tables.
describe('sweep-orphans', () => {
  let db: TestDatabase;
  let pg: Client;
  let s3: TestS3;
  let client: S3Client;
  let logLines: string[];
  const saved = { ...process.env };

  /** The environment the CLI reads; tests add the sweep's limits. */
  const baseEnv = () => ({
    DATABASE_URL: db.url,
    S3_ENDPOINT: s3.settings.endpoint!,
    S3_REGION: s3.settings.region,
    S3_BUCKET: s3.settings.bucket,
    S3_ACCESS_KEY_ID: s3.settings.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.settings.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    OBJECT_MAX_BYTES: String(OBJECT_MAX_BYTES),
  });

  /** Runs the sweep in this process, as the CLI does, with `env` added to its environment. */
  const sweep = async (
    opts: Partial<SweepOptions> = {},
    env: Record<string, string> = {},
  ): Promise<SweepReport> => {
    const before = { ...process.env };
    Object.assign(process.env, env);
    try {
      return await runSweepOrphans({
        olderThanMinutes: 0,
        delete: false,
        // A little ahead: keys just written are past a grace of 0 whatever the clocks' rounding.
        now: Date.now() + 2_000,
        logger: createLogger({
          service: 'sweep-orphans',
          destination: { write: (line: string) => void logLines.push(line) },
        }),
        ...opts,
      });
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
      Object.assign(process.env, before);
    }
  };

  const put = async (key: string, bytes = 3) => {
    await client.send(
      new PutObjectCommand({ Bucket: s3.settings.bucket, Key: key, Body: randomBytes(bytes) }),
    );
    return key;
  };

  const keysInBucket = async (): Promise<string[]> => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: s3.settings.bucket, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  };

  const addOrg = (org: { id: string; key: string }) =>
    pg.query(`INSERT INTO identity.orgs (id, key, name) VALUES ($1, $2, $2)`, [org.id, org.key]);

  const objectId = () => `obj_${randomBytes(16).toString('hex')}`;

  /** An Objects API object in `state` whose record names `key`. */
  const addObject = async (state: string, bytes = 3) => {
    const id = objectId();
    const key = await put(objectsApiKey(ORG.key, id), bytes);
    await pg.query(
      `INSERT INTO object_metadata.objects
         (id, org_id, org_key, name, content_type, state, size_bytes, object_key, create_time_ms)
       VALUES ($1, $2, $3, 'n', 'text', $4, $5, $6, 0)`,
      [id, ORG.id, ORG.key, state, state === 'UPLOADING' ? null : bytes, key],
    );
    return key;
  };

  let rootFolder: string | undefined;
  const addOrgFile = async () => {
    if (!rootFolder) {
      rootFolder = randomUUID();
      await pg.query(
        `INSERT INTO object_metadata.org_folders (id, org_id, parent_id, name) VALUES ($1, $2, NULL, '')`,
        [rootFolder, ORG.id],
      );
    }
    const key = await put(orgFileKey(ORG.key));
    await pg.query(
      `INSERT INTO object_metadata.org_files
         (id, org_id, org_key, folder_id, name, object_key, size_bytes, version)
       VALUES ($1, $2, $3, $4, $1, $5, 3, 1)`,
      [`file_${randomBytes(8).toString('hex')}`, ORG.id, ORG.key, rootFolder, key],
    );
    return key;
  };

  /** A workflow and a waiting run of it. */
  const addRun = async () => {
    const workflowId = randomUUID();
    const runId = randomUUID();
    await pg.query(
      `INSERT INTO flow.workflows (id, org_id, org_key, name) VALUES ($1, $2, $3, 'wf')`,
      [workflowId, ORG.id, ORG.key],
    );
    await pg.query(
      `INSERT INTO flow.runs (id, workflow_id, org_id, org_key, workflow_name, status, definition,
                              actor, version)
       VALUES ($1, $2, $3, $4, 'wf', 'WAITING', '{}', '{}', 1)`,
      [runId, workflowId, ORG.id, ORG.key],
    );
    return { workflowId, runId };
  };

  /** A run edge; its upload key and, once copied, its input key. */
  const addEdge = async (
    run: { workflowId: string; runId: string },
    edge: string,
    opts: { filled: boolean; inputKey?: string },
  ) => {
    const key = await put(runFileKey(ORG.key, run.workflowId, run.runId, 'inputs', 'in.csv'));
    await pg.query(
      `INSERT INTO flow.run_edges (run_id, edge, store, object_name, filename, object_key, put_url,
                                   expires_at, filled_at, input_key)
       VALUES ($1, $2, 's', 'o', 'in.csv', $3, 'http://put', now() + interval '1 hour', $4, $5)`,
      [run.runId, edge, key, opts.filled ? new Date() : null, opts.inputKey ?? null],
    );
    return key;
  };

  /** A run file recorded by object-metadata and by the orchestrator, as a filled input or an output. */
  const addRunFile = async (
    run: { workflowId: string; runId: string },
    direction: 'input' | 'output',
  ) => {
    const folder = direction === 'input' ? 'inputs' : 'outputs';
    const key = await put(runFileKey(ORG.key, run.workflowId, run.runId, folder, 'f.csv'));
    await pg.query(
      `INSERT INTO object_metadata.run_files (id, org_id, org_key, workflow_id, run_id, edge,
                                              direction, object_key, filename, size_bytes, version)
       VALUES ($1, $2, $3, $4, $5, 'e', $6, $7, 'f.csv', 3, 1)`,
      [randomUUID(), ORG.id, ORG.key, run.workflowId, run.runId, direction, key],
    );
    await pg.query(
      `INSERT INTO flow.run_files (object_key, run_id, workflow_id, direction, edge, filename,
                                   size_bytes)
       VALUES ($1, $2, $3, $4, 'e', 'f.csv', 3)`,
      [key, run.runId, run.workflowId, direction],
    );
    return key;
  };

  /** `n` org files with records: a bucket where a few orphans are a small share. */
  const addLiveFiles = async (n: number) => {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push(await addOrgFile());
    return keys;
  };

  /** Keys of each platform shape that no record names. */
  const addOrphans = async () => [
    await put(orgFileKey(ORG.key)),
    await put(objectsApiKey(ORG.key, objectId())),
    await put(runFileKey(ORG.key, randomUUID(), randomUUID(), 'outputs', 'report.pdf')),
  ];

  const tokenOf = (key: string) => key.split('/').find((s) => /^[A-Za-z0-9_-]{32}$/.test(s))!;

  beforeAll(async () => {
    db = await createTestDatabase('sweep');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    s3 = await startTestS3({ faults: false });
    client = createS3Client(s3.settings);
    Object.assign(process.env, baseEnv());
  });

  afterAll(async () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    client?.destroy();
    await pg?.end();
    await s3?.stop();
    await db?.drop();
  });

  beforeEach(async () => {
    logLines = [];
    rootFolder = undefined;
    await pg.query(`TRUNCATE identity.orgs CASCADE`);
    await pg.query(
      `TRUNCATE object_metadata.objects, object_metadata.org_files, object_metadata.org_folders,
                object_metadata.run_files CASCADE`,
    );
    await pg.query(
      `TRUNCATE flow.run_files, flow.run_edges, flow.run_steps, flow.runs, flow.workflows CASCADE`,
    );
    const keys = await keysInBucket();
    if (keys.length > 0) {
      await client.send(
        new DeleteObjectsCommand({
          Bucket: s3.settings.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })) },
        }),
      );
    }
  });

  it('should only report without --delete: counts per reason, redacted samples, nothing deleted', async () => {
    await addOrg(ORG);
    const live = await addLiveFiles(2);
    const orphans = await addOrphans();
    const before = await keysInBucket();

    const report = await sweep({}, { SWEEP_MAX_DELETE_RATIO: '1' });

    expect(await keysInBucket()).toEqual(before);
    expect(report).toMatchObject({
      mode: 'dry-run',
      orgs: 1,
      scanned: live.length + orphans.length,
      platformKeys: live.length + orphans.length,
      orphans: orphans.length,
      deleted: 0,
    });
    expect(report.reasons).toMatchObject({ live: 2, unrecorded: 3, foreign: 0 });
    expect(report.samples.unrecorded).toHaveLength(3);
    expect(report.samples.unrecorded).toContain(`${ORG.key}/files/[REDACTED]`);
    const printed = JSON.stringify(report);
    for (const key of [...live, ...orphans]) expect(printed).not.toContain(tokenOf(key));
    expect(logLines).toEqual([]);
  });

  it('should delete with --delete exactly the orphans past the grace, logging each with its reason', async () => {
    await addOrg(ORG);
    const live = await addLiveFiles(2);
    const old = await addOrphans();
    await sleep(1_100);
    const cutoff = Date.now();
    await sleep(1_100);
    const recent = await addOrphans();

    const report = await sweep(
      { delete: true, olderThanMinutes: 1, now: cutoff + 60_000 },
      { SWEEP_MAX_DELETE_RATIO: '1' },
    );

    expect(await keysInBucket()).toEqual([...live, ...recent].sort());
    expect(report).toMatchObject({ mode: 'delete', orphans: 3, deleted: 3 });
    expect(report.reasons).toMatchObject({ live: 2, recent: 3, unrecorded: 3 });
    const deletions = logLines.map((l) => JSON.parse(l) as Record<string, string>);
    expect(deletions).toHaveLength(old.length);
    for (const line of deletions) {
      expect(line).toMatchObject({ msg: 'deleted orphaned bytes', reason: 'unrecorded' });
      expect(line.object).toContain('[REDACTED]');
    }
    for (const key of old) expect(logLines.join('\n')).not.toContain(tokenOf(key));
  });

  it('should keep the bytes of every live record and delete what records no longer name', async () => {
    await addOrg(ORG);
    const run = await addRun();
    const inputCopy = await put(runFileKey(ORG.key, run.workflowId, run.runId, 'inputs', 'x.csv'));
    const kept = [
      await addObject('READ_ONLY'),
      await addObject('DELETED'),
      await addObject('UPLOADING', OBJECT_MAX_BYTES),
      await addOrgFile(),
      await addRunFile(run, 'input'),
      await addRunFile(run, 'output'),
      await addEdge(run, 'waiting', { filled: false }),
      // An upload copied to its input key, not recorded as a run file yet (a crash in between).
      await addEdge(run, 'copied', { filled: false, inputKey: inputCopy }),
      inputCopy,
    ];
    await addObject('UPLOADING', OBJECT_MAX_BYTES + 1); // never completed, too big to be
    await addEdge(run, 'filled', { filled: true }); // its upload was copied to a recorded input

    const report = await sweep({ delete: true }, { SWEEP_MAX_DELETE_RATIO: '1' });

    expect(await keysInBucket()).toEqual([...kept].sort());
    expect(report.reasons).toMatchObject({
      live: kept.length,
      oversized_upload: 1,
      filled_edge_upload: 1,
      unrecorded: 0,
    });
    expect(report.deleted).toBe(2);
    expect(logLines.map((l) => (JSON.parse(l) as { reason: string }).reason).sort()).toEqual([
      'filled_edge_upload',
      'oversized_upload',
    ]);
  });

  it('should never delete a key of a shape the platform does not write, nor look outside the orgs', async () => {
    await addOrg(ORG);
    const live = await addLiveFiles(2);
    const foreignInOrg = [
      await put(`${ORG.key}/backups/db.tar`),
      await put(`${ORG.key}/files/short-token`),
      await put(`${ORG.key}/objects/obj_1/${newKeyToken()}`),
      await put(`${ORG.key}/files/${newKeyToken()}/extra`),
    ];
    const outside = [
      await put('README.txt'),
      await put(`other-app/files/${newKeyToken()}`),
      await put(`${OTHER_ORG.key}/files/${newKeyToken()}`), // an org this database does not know
    ];
    await put(orgFileKey(ORG.key)); // an orphan

    const report = await sweep({ delete: true }, { SWEEP_MAX_DELETE_RATIO: '1' });

    expect(await keysInBucket()).toEqual([...live, ...foreignInOrg, ...outside].sort());
    expect(report).toMatchObject({ orgs: 1, platformKeys: 3, orphans: 1, deleted: 1 });
    expect(report.reasons.foreign).toBe(foreignInOrg.length);
    expect(report.samples.foreign).toContain(`${ORG.key}/backups/db.tar`);
  });

  it('should refuse, deleting nothing, when the database has no orgs', async () => {
    await addOrphans();
    const before = await keysInBucket();

    await expect(sweep({ delete: true }, { SWEEP_MAX_DELETE_RATIO: '1' })).rejects.toThrow(
      /refused: the database has no orgs .*nothing was deleted/,
    );
    expect(await keysInBucket()).toEqual(before);
  });

  it('should refuse, deleting nothing, when no file record exists while the bucket holds platform keys', async () => {
    await addOrg(ORG);
    await addOrphans();
    const before = await keysInBucket();

    await expect(sweep({ delete: true }, { SWEEP_MAX_DELETE_RATIO: '1' })).rejects.toThrow(
      /refused: the database holds no file record at all while the bucket holds 3 platform key/,
    );
    expect(await keysInBucket()).toEqual(before);
  });

  it('should refuse, deleting nothing, when the orphans are more than SWEEP_MAX_DELETE_RATIO of the keys', async () => {
    await addOrg(ORG);
    const live = await addLiveFiles(12);
    const orphans = await addOrphans(); // 3 of 15 keys: 20 %
    const before = await keysInBucket();

    await expect(sweep({ delete: true })).rejects.toThrow(
      /refused: 3 of the 15 platform key\(s\) seen are orphans, more than SWEEP_MAX_DELETE_RATIO \(0\.1\)/,
    );
    await expect(sweep({ delete: true }, { SWEEP_MAX_DELETE_RATIO: '0.15' })).rejects.toThrow(
      /SWEEP_MAX_DELETE_RATIO \(0\.15\)/,
    );
    expect(await keysInBucket()).toEqual(before);

    const report = await sweep({ delete: true }, { SWEEP_MAX_DELETE_RATIO: '0.2' });
    expect(report.deleted).toBe(orphans.length);
    expect(await keysInBucket()).toEqual([...live].sort());
  });

  it('should refuse, deleting nothing, when the orphans are more than SWEEP_MAX_DELETES', async () => {
    await addOrg(ORG);
    await addLiveFiles(30);
    await addOrphans(); // 3 of 33 keys: under the default ratio
    const before = await keysInBucket();

    await expect(sweep({ delete: true }, { SWEEP_MAX_DELETES: '2' })).rejects.toThrow(
      /refused: 3 orphan\(s\) found, more than SWEEP_MAX_DELETES \(2\)/,
    );
    expect(await keysInBucket()).toEqual(before);
    const report = await sweep({ delete: true }, { SWEEP_MAX_DELETES: '3' });
    expect(report.deleted).toBe(3);
  });

  it('should exit non-zero from the CLI with the reason and the report when it refuses', async () => {
    await addOrphans();
    const before = await keysInBucket();

    const failure = (await runAdminCli(['sweep-orphans', '--older-than-minutes', '0', '--delete'], {
      SWEEP_MAX_DELETE_RATIO: '1',
    }).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    ))!;

    expect(failure).not.toBeNull();
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/error: sweep-orphans refused: the database has no orgs/);
    expect(JSON.parse(failure.stdout)).toMatchObject({ orgs: 0, deleted: 0 });
    expect(await keysInBucket()).toEqual(before);
  });
});
