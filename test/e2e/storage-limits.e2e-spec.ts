import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '@lib/s3';
import { runAdminCli, startTestPlatform, TestOrg, TestPlatform, waitFor } from '@lib/testing';
import { expectUsageIsTruth, usageOf } from '../support/usage-truth';

/** The bounds of this platform: small, so that a test's uploads pass them with a few KiB. */
const OBJECT_MAX_BYTES = 4096;
const RUN_INPUT_MAX_BYTES = 4096;

interface Quota {
  maxBytes: number | null;
  maxFiles: number | null;
  usedBytes: number;
  usedFiles: number;
  remainingBytes?: number | null;
  remainingFiles?: number | null;
}

interface RunView {
  ID: string;
  WorkflowID: string;
  Status: string;
  Reason?: string;
  WaitingURLs?: { PutURL: string; Artifact: { EdgeName: string } }[];
  Inputs: { ObjectKey: string; SizeBytes: number }[];
  Artifacts: { ObjectKey: string; SizeBytes: number }[];
}

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** A flow that waits for one upload to `in` and copies it to its artifact `out`. */
const copyFlow = {
  Flow: {
    DataWells: [{ Edge: 'in', Store: 's3', Source: 'upload', Key: '${RUN_ID}/in.bin' }],
    Steps: [{ ID: 'copy', Type: 'copy', Inputs: ['in'], Output: 'out' }],
    StartingStepID: 'copy',
  },
};

// What one tenant could do to the platform's shared storage, each refused: uploads larger than any file may
// be (through presigned PUTs, which carry no bound of their own), and writes past its storage quota, on every
// write path (Objects API, org storage, flows). Nothing refused is kept in S3 or counted.
describe('storage limits: upload bounds and per-org quotas', () => {
  jest.setTimeout(300000);
  let t: TestPlatform;
  let s3: S3Client;

  /** A request to the gateway (operator routes: on its management port). */
  async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; json?: unknown; form?: FormData } = {},
  ): Promise<Answer<T>> {
    const headers = { ...opts.headers };
    let body: string | FormData | undefined = opts.form;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    const base = path.startsWith('/admin/') ? t.platform.managementUrls.gateway : t.gatewayUrl;
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  const bearer = (o: TestOrg) => ({ authorization: `Bearer ${o.apiKey}` });
  const operator = () => ({ authorization: `Bearer ${t.operatorToken}` });

  const setQuota = async (o: TestOrg, maxBytes: number | null, maxFiles: number | null) => {
    const res = await call<Quota>('PUT', `/admin/orgs/${o.orgId}/quota`, {
      headers: operator(),
      json: { maxBytes, maxFiles },
    });
    expect(res.status).toBe(200);
    return res.body;
  };
  const quotaOf = async (o: TestOrg) =>
    (await call<Quota>('GET', `/admin/orgs/${o.orgId}/quota`, { headers: operator() })).body;

  const createObject = (o: TestOrg, name = 'a.bin') =>
    call<{ id: string; state: string; size_bytes: number | null; upload_url: string }>(
      'POST',
      '/v1/objects',
      { headers: bearer(o), json: { name, content_type: 'binary' } },
    );
  const complete = (o: TestOrg, id: string) =>
    call<{ state: string; size_bytes: number; error: { code: string; message: string } }>(
      'POST',
      `/v1/objects/${id}/complete`,
      { headers: bearer(o) },
    );
  const putBytes = async (url: string, bytes: Buffer) => {
    const res = await fetch(url, { method: 'PUT', body: bytes });
    expect(res.status).toBe(200);
  };

  const orgUpload = (o: TestOrg, name: string, bytes: Buffer, path = 'docs') => {
    const form = new FormData();
    form.append('path', path);
    form.append('file', new Blob([bytes]), name);
    return call<{ success: boolean; error?: { code: string; message: string } }>(
      'POST',
      '/api/private/storage/upload',
      { headers: { 'api-key': o.orgPrivateKey }, form },
    );
  };

  const startFlow = async (o: TestOrg, name: string) => {
    const res = await call<RunView>('POST', `/api/v1/flow/${name}`, {
      headers: bearer(o),
      json: copyFlow,
    });
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('WAITING');
    return res.body;
  };
  const runStatus = async (o: TestOrg, runId: string) =>
    (await call<RunView>('GET', `/api/v1/flow/status/${runId}`, { headers: bearer(o) })).body;
  const runUntil = (o: TestOrg, runId: string, done: (run: RunView) => boolean) =>
    waitFor(`run ${runId}`, async () => {
      const run = await runStatus(o, runId);
      return done(run) ? run : undefined;
    });

  const s3Keys = async (prefix: string) =>
    (
      await s3.send(new ListObjectsV2Command({ Bucket: t.s3.settings.bucket, Prefix: prefix }))
    ).Contents?.map((c) => c.Key!) ?? [];

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        OBJECT_MAX_BYTES: String(OBJECT_MAX_BYTES),
        RUN_INPUT_MAX_BYTES: String(RUN_INPUT_MAX_BYTES),
        UPLOAD_WATCH_MAX_DELAY_MS: '300',
      },
    });
    s3 = createS3Client(t.s3.settings);
  });

  afterAll(async () => {
    s3?.destroy();
    await t?.stop();
  });

  describe('presigned PUTs are bounded', () => {
    it('should refuse to complete an object larger than OBJECT_MAX_BYTES, remove its bytes and count nothing', async () => {
      const org = await t.createOrg();
      const created = await createObject(org);
      await putBytes(created.body.upload_url, randomBytes(OBJECT_MAX_BYTES + 1));

      const refused = await complete(org, created.body.id);

      expect(refused.status).toBe(413);
      expect(refused.body.error.code).toBe('OBJECT_TOO_LARGE');
      expect(await s3Keys(`${org.orgKey}/`)).toEqual([]);
      const still = await call<{ state: string; size_bytes: number | null }>(
        'GET',
        `/v1/objects/${created.body.id}`,
        { headers: bearer(org) },
      );
      expect(still.body).toMatchObject({ state: 'UPLOADING', size_bytes: null });
      expect(await quotaOf(org)).toMatchObject({ usedFiles: 1, usedBytes: 0 });

      // The same URL still takes an upload within the bound.
      await putBytes(created.body.upload_url, randomBytes(OBJECT_MAX_BYTES));
      const done = await complete(org, created.body.id);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ state: 'READ_ONLY', size_bytes: OBJECT_MAX_BYTES });
      await expectUsageIsTruth(t, org);
      expect(await usageOf(t, org)).toMatchObject({ totalBytes: OBJECT_MAX_BYTES, fileCount: 1 });
    });

    it('should let sweep-orphans remove an upload larger than OBJECT_MAX_BYTES that is never completed', async () => {
      const org = await t.createOrg();
      const [big, small] = [await createObject(org, 'big'), await createObject(org, 'small')];
      await putBytes(big.body.upload_url, randomBytes(OBJECT_MAX_BYTES + 1));
      await putBytes(small.body.upload_url, randomBytes(OBJECT_MAX_BYTES));
      const keyOf = (url: string) =>
        decodeURIComponent(new URL(url).pathname).split('/').slice(2).join('/');

      await runAdminCli(['sweep-orphans', '--older-than-minutes', '0', '--delete'], {
        DATABASE_URL: t.db.url,
        S3_ENDPOINT: t.s3.settings.endpoint!,
        S3_REGION: t.s3.settings.region,
        S3_BUCKET: t.s3.settings.bucket,
        S3_ACCESS_KEY_ID: t.s3.settings.credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: t.s3.settings.credentials.secretAccessKey,
        OBJECT_MAX_BYTES: String(OBJECT_MAX_BYTES),
        // A small bucket: one orphan may be more than the default share of it.
        SWEEP_MAX_DELETE_RATIO: '1',
      });

      expect(await s3Keys(`${org.orgKey}/`)).toEqual([keyOf(small.body.upload_url)]);
      expect((await complete(org, big.body.id)).body.error.code).toBe('OBJECT_NOT_UPLOADED');
      expect((await complete(org, small.body.id)).status).toBe(200);
    });

    it('should refuse a PutURL upload larger than RUN_INPUT_MAX_BYTES: removed, not recorded, the edge waits on', async () => {
      const org = await t.createOrg();
      const run = await startFlow(org, 'bounded');
      const [edge] = run.WaitingURLs!;
      await putBytes(edge.PutURL, randomBytes(RUN_INPUT_MAX_BYTES + 1));

      const refused = await runUntil(org, run.ID, (r) => r.Reason !== undefined);

      expect(refused).toMatchObject({ Status: 'WAITING', Inputs: [] });
      expect(refused.Reason).toContain(
        `is ${RUN_INPUT_MAX_BYTES + 1} bytes, more than the ${RUN_INPUT_MAX_BYTES} a run input may hold`,
      );
      await waitFor('the refused upload to be removed', async () => {
        return (await s3Keys(`${org.orgKey}/`)).length === 0;
      });
      expect(await quotaOf(org)).toMatchObject({ usedFiles: 0, usedBytes: 0 });

      // Another upload within the bound fills the edge and the run goes on.
      await putBytes(edge.PutURL, randomBytes(RUN_INPUT_MAX_BYTES));
      const done = await runUntil(org, run.ID, (r) => r.Status === 'COMPLETE');
      expect(done.Inputs.map((f) => f.SizeBytes)).toEqual([RUN_INPUT_MAX_BYTES]);
      await expectUsageIsTruth(t, org);
      expect(await usageOf(t, org)).toMatchObject({
        inputBytes: RUN_INPUT_MAX_BYTES,
        outputBytes: RUN_INPUT_MAX_BYTES,
        fileCount: 2,
      });
    });
  });

  describe('per-org storage quotas', () => {
    it('should let the operator set and read a quota, and refuse what is not one', async () => {
      const org = await t.createOrg();
      expect(await quotaOf(org)).toEqual({
        maxBytes: null,
        maxFiles: null,
        usedBytes: 0,
        usedFiles: 0,
      });
      expect(await setQuota(org, 5_000, 2)).toEqual({
        maxBytes: 5_000,
        maxFiles: 2,
        usedBytes: 0,
        usedFiles: 0,
      });
      for (const json of [{ maxBytes: -1, maxFiles: 1 }, { maxBytes: 1.5, maxFiles: 1 }, {}]) {
        const res = await call<{ error: { code: string } }>(
          'PUT',
          `/admin/orgs/${org.orgId}/quota`,
          { headers: operator(), json },
        );
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_FAILED');
      }
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect(
        (await call('GET', `/admin/orgs/${unknown}/quota`, { headers: operator() })).status,
      ).toBe(404);
      expect(
        (await call('GET', `/admin/orgs/${org.orgId}/quota`, { headers: bearer(org) })).status,
      ).toBe(401);
    });

    it('should refuse Objects API creates past the file quota with 403 QUOTA_EXCEEDED, exactly at the limit under concurrency', async () => {
      const org = await t.createOrg();
      await setQuota(org, null, 5);

      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => createObject(org, `o${i}`)),
      );

      expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
      const refused = answers.filter((a) => a.status === 403);
      expect(refused).toHaveLength(15);
      expect(
        (refused[0].body as unknown as { error: { code: string; message: string } }).error,
      ).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        message: 'storage quota exceeded: the organization stores 5 of its 5 files',
      });
      const listed = await call<{ objects: unknown[] }>('GET', '/v1/objects?limit=100', {
        headers: bearer(org),
      });
      expect(listed.body.objects).toHaveLength(5);
      await expectUsageIsTruth(t, org);
      expect(await usageOf(t, org)).toMatchObject({ fileCount: 5 });
    });

    it('should refuse completing an object past the byte quota with 403, removing its bytes', async () => {
      const org = await t.createOrg();
      await setQuota(org, 3_000, null);
      const first = await createObject(org, 'first');
      await putBytes(first.body.upload_url, randomBytes(2_000));
      expect((await complete(org, first.body.id)).status).toBe(200);
      const second = await createObject(org, 'second');
      await putBytes(second.body.upload_url, randomBytes(2_000));

      const refused = await complete(org, second.body.id);

      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('QUOTA_EXCEEDED');
      expect(await s3Keys(`${org.orgKey}/objects/${second.body.id}/`)).toEqual([]);
      expect(await quotaOf(org)).toMatchObject({ usedBytes: 2_000, usedFiles: 2 });
      await expectUsageIsTruth(t, org);
      expect(await usageOf(t, org)).toMatchObject({ totalBytes: 2_000, fileCount: 2 });
    });

    it('should refuse org storage uploads and copies past the quota in the org storage envelope, keeping no bytes', async () => {
      const org = await t.createOrg();
      await setQuota(org, 10_000, 3);
      expect((await orgUpload(org, 'a.bin', randomBytes(6_000))).status).toBe(201);

      const tooBig = await orgUpload(org, 'b.bin', randomBytes(6_000));
      expect(tooBig.status).toBe(403);
      expect(tooBig.body).toEqual({
        success: false,
        error: {
          code: 'QUOTA_EXCEEDED',
          message:
            "storage quota exceeded: 6000 more bytes would pass the organization's 10000 (6000 stored)",
        },
      });
      // An overwrite counts what it adds: a.bin grows from 6,000 to 9,000 bytes.
      expect((await orgUpload(org, 'a.bin', randomBytes(9_000))).status).toBe(200);
      const copy = await call<{ success: boolean; error: { code: string } }>(
        'POST',
        '/api/private/storage/copy',
        {
          headers: { 'api-key': org.orgPrivateKey },
          json: { source_path: 'docs/a.bin', dest_path: 'docs', new_name: 'c.bin' },
        },
      );
      expect(copy.status).toBe(403);
      expect(copy.body).toMatchObject({ success: false, error: { code: 'QUOTA_EXCEEDED' } });
      expect((await orgUpload(org, 'small.txt', Buffer.from('hi'))).status).toBe(201);

      await waitFor(
        'the refused bytes to be removed',
        async () => (await s3Keys(`${org.orgKey}/`)).length === 2,
      );
      expect(await quotaOf(org)).toMatchObject({ usedBytes: 9_002, usedFiles: 2 });
      await expectUsageIsTruth(t, org);
      expect(await usageOf(t, org)).toMatchObject({ totalBytes: 9_002, fileCount: 2 });
    });

    it('should refuse flows past the quota: PutURL uploads, the upload endpoints and step artifacts', async () => {
      const org = await t.createOrg();
      await setQuota(org, 3_000, null);

      // A PutURL upload over what is left: removed, not recorded; the run tells why and keeps waiting.
      const waiting = await startFlow(org, 'quota-put');
      await putBytes(waiting.WaitingURLs![0].PutURL, randomBytes(3_001));
      const refused = await runUntil(org, waiting.ID, (r) => r.Reason !== undefined);
      expect(refused).toMatchObject({ Status: 'WAITING', Inputs: [] });
      expect(refused.Reason).toContain('storage quota exceeded');
      await waitFor(
        'the refused upload and its copy to be removed',
        async () => (await s3Keys(`${org.orgKey}/`)).length === 0,
      );

      // The upload endpoint into a waiting edge answers the refusal itself.
      const form = new FormData();
      form.append('file', new Blob([randomBytes(3_001)]), 'in.bin');
      const intoEdge = await call<{ error: { code: string } }>(
        'POST',
        `/api/v1/upload/${waiting.ID}/in`,
        { headers: bearer(org), form },
      );
      expect(intoEdge.status).toBe(403);
      expect(intoEdge.body.error.code).toBe('QUOTA_EXCEEDED');

      // A direct upload to the workflow.
      const direct = new FormData();
      direct.append('workflow_id', waiting.WorkflowID);
      direct.append('file', new Blob([randomBytes(3_001)]), 'direct.bin');
      const directAnswer = await call<{ error: { code: string } }>('POST', '/api/v1/upload', {
        headers: bearer(org),
        form: direct,
      });
      expect(directAnswer.status).toBe(403);
      expect(directAnswer.body.error.code).toBe('QUOTA_EXCEEDED');

      // The input fits, its copy (the step's artifact) does not: the run ends in ERROR, the artifact goes.
      await putBytes(waiting.WaitingURLs![0].PutURL, randomBytes(2_000));
      const failed = await runUntil(org, waiting.ID, (r) => r.Status === 'ERROR');
      expect(failed.Reason).toContain("step 'copy': storage quota exceeded");
      expect(failed.Artifacts).toEqual([]);
      await waitFor('only the recorded input to be left', async () => {
        const keys = await s3Keys(`${org.orgKey}/`);
        return keys.length === 1 && keys[0] === failed.Inputs[0].ObjectKey;
      });
      expect(await quotaOf(org)).toMatchObject({ usedBytes: 2_000, usedFiles: 1 });
      await expectUsageIsTruth(t, org);
      expect(await usageOf(t, org)).toMatchObject({
        inputBytes: 2_000,
        outputBytes: 0,
        fileCount: 1,
      });
    });

    it('should show the quota and what is left in the usage endpoint, set by the admin CLI too', async () => {
      const org = await t.createOrg();
      const { stdout } = await runAdminCli(
        ['quota', 'set', '--org', org.orgKey, '--max-bytes', '10000', '--max-files', 'unlimited'],
        { DATABASE_URL: t.db.url },
      );
      expect(JSON.parse(stdout)).toEqual({
        orgId: org.orgId,
        maxBytes: 10_000,
        maxFiles: null,
        usedBytes: 0,
        usedFiles: 0,
      });
      const created = await createObject(org);
      await putBytes(created.body.upload_url, randomBytes(1_500));
      expect((await complete(org, created.body.id)).status).toBe(200);

      for (const auth of [bearer(org), { authorization: `Bearer ${org.memberJwt}` }]) {
        const res = await call<{ quota: Quota }>('GET', '/api/v1/objects/storage-usage', {
          headers: auth,
        });
        expect(res.status).toBe(200);
        expect(res.body.quota).toEqual({
          maxBytes: 10_000,
          maxFiles: null,
          usedBytes: 1_500,
          usedFiles: 1,
          remainingBytes: 8_500,
          remainingFiles: null,
        });
      }
      // Lowered below what is stored: nothing is left, and nothing stored goes away.
      await setQuota(org, 1_000, 1);
      const usage = await call<{ quota: Quota }>('GET', '/api/v1/objects/storage-usage', {
        headers: bearer(org),
      });
      expect(usage.body.quota).toMatchObject({ remainingBytes: 0, remainingFiles: 0 });
      expect((await createObject(org, 'more')).status).toBe(403);
    });
  });
});
