import { randomBytes } from 'node:crypto';
import { startTestPlatform, TestOrg, TestPlatform, waitFor } from '@lib/testing';

interface Answer<T> {
  status: number;
  body: T;
}

interface S3Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  text: string;
}

interface RunView {
  ID: string;
  Status: string;
  WorkflowID: string;
  WaitingURLs?: { PutURL: string }[];
}

/** A workflow whose runs wait for one upload on edge `in`. */
const FLOW = {
  Flow: { DataWells: [{ Edge: 'in', Store: 's3-bucket', Source: 'upload', Key: 'input.txt' }] },
};

/** Calls a presigned URL as a client would, and reads the S3 XML error if there is one. */
async function s3(url: string, method = 'GET', body?: string): Promise<S3Answer> {
  const res = await fetch(url, { method, body });
  const text = await res.text();
  return {
    status: res.status,
    code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
    message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1],
    text,
  };
}

const withPath = (url: string, from: string) => {
  const u = new URL(url);
  u.pathname = new URL(from).pathname;
  return u.toString();
};
const withQuery = (url: string, edit: (q: URLSearchParams) => void) => {
  const u = new URL(url);
  edit(u.searchParams);
  return u.toString();
};
const flipSignature = (q: URLSearchParams) => {
  const sig = q.get('X-Amz-Signature') ?? '';
  q.set('X-Amz-Signature', (sig.startsWith('0') ? '1' : '0') + sig.slice(1));
};

// Issue 7 item 4: presigned URL security end to end, through URLs the platform itself issued (Objects API
// upload and download URLs, seed 002 PutURLs, seed 000 redirects, seed 003 download_url), against the
// verifying local S3. The S3-level refusals of hand-made URLs are in tools/local-s3/local-s3.int-spec.ts.
describe('presigned URL security (URLs the platform issued)', () => {
  let t: TestPlatform;
  let org: TestOrg;
  const urls = {
    /** GET: Objects API download URL of completed object X. */
    objectGet: '',
    /** PUT: X's create-time upload URL (X is READ_ONLY now). */
    objectXPut: '',
    /** PUT: upload URL of object Y, still UPLOADING. */
    objectYPut: '',
    /** GET: seed 000's 302 Location for an org storage file. */
    redirectGet: '',
    /** GET: seed 003's download_url of a run input. */
    resourceGet: '',
    /** PUT: seed 002's PutURL of a waiting run. */
    runPut: '',
  };
  const bytes = { object: 'object X bytes', file: 'org file bytes', input: 'run input bytes' };
  let objectX = '';
  let objectY = '';
  let waitingRun = '';

  async function api<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${org.apiKey}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${t.gatewayUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
    return { status: res.status, body: JSON.parse(text) as T };
  }

  const runStatus = async (id: string) =>
    (await api<RunView>('GET', `/api/v1/flow/status/${id}`)).body.Status;

  const objectDownloadUrl = async (id: string, seconds = 600) =>
    (
      await api<{ download_url: string }>(
        'GET',
        `/v1/objects/${id}/download?duration_seconds=${seconds}`,
      )
    ).body.download_url;

  /** Every GET URL still reads its own bytes (nothing the refused requests did changed them). */
  async function expectBytesIntact() {
    for (const [url, want] of [
      [urls.objectGet, bytes.object],
      [urls.redirectGet, bytes.file],
      [urls.resourceGet, bytes.input],
    ]) {
      expect(await s3(url)).toMatchObject({ status: 200, text: want });
    }
  }

  beforeAll(async () => {
    t = await startTestPlatform();
    org = await t.createOrg();

    const create = async (name: string) =>
      (
        await api<{ id: string; upload_url: string }>('POST', '/v1/objects', {
          name,
          content_type: 'text',
        })
      ).body;
    const x = await create('x.txt');
    objectX = x.id;
    urls.objectXPut = x.upload_url;
    expect((await s3(x.upload_url, 'PUT', bytes.object)).status).toBe(200);
    await api('POST', `/v1/objects/${x.id}/complete`);
    urls.objectGet = await objectDownloadUrl(x.id);
    const y = await create('y.txt');
    objectY = y.id;
    urls.objectYPut = y.upload_url;

    const form = new FormData();
    form.append('file', new Blob([bytes.file]), `f-${randomBytes(3).toString('hex')}.txt`);
    const uploaded = await fetch(`${t.gatewayUrl}/api/private/storage/upload`, {
      method: 'POST',
      headers: { 'api-key': org.orgPrivateKey },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const { objectKey } = ((await uploaded.json()) as { data: { objectKey: string } }).data;
    const redirect = await fetch(
      `${t.gatewayUrl}/api/v1/objects/download?objectKey=${encodeURIComponent(objectKey)}`,
      { redirect: 'manual' },
    );
    expect(redirect.status).toBe(302);
    urls.redirectGet = redirect.headers.get('location')!;

    const start = async () => (await api<RunView>('POST', '/api/v1/flow/presign', FLOW)).body;
    const done = await start();
    expect((await s3(done.WaitingURLs![0].PutURL, 'PUT', bytes.input)).status).toBe(200);
    await waitFor('the first run to complete', async () =>
      (await runStatus(done.ID)) === 'COMPLETE' ? true : undefined,
    );
    urls.resourceGet = (
      await api<{ download_url: string }>('POST', '/api/v1/resources/download-url', {
        resource_uri: `workflow://${done.WorkflowID}/uploads/input.txt`,
      })
    ).body.download_url;
    const waiting = await start();
    waitingRun = waiting.ID;
    urls.runPut = waiting.WaitingURLs![0].PutURL;
    expect(await runStatus(waitingRun)).toBe('WAITING');
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('should serve every GET URL untampered (the control of the refusals below)', async () => {
    await expectBytesIntact();
  });

  it("should refuse a GET URL tampered in its signature, key, expiry or query, or pointed at another key's bytes", async () => {
    const gets = { object: urls.objectGet, redirect: urls.redirectGet, resource: urls.resourceGet };
    const others = [urls.objectGet, urls.redirectGet, urls.resourceGet, urls.objectYPut];
    const failures: string[] = [];
    for (const [kind, url] of Object.entries(gets)) {
      const tampered: [string, string][] = [
        ['signature', withQuery(url, flipSignature)],
        ['expiry extended', withQuery(url, (q) => q.set('X-Amz-Expires', '604800'))],
        [
          'response override added',
          withQuery(url, (q) => q.set('response-content-type', 'text/html')),
        ],
        ['query parameter added', withQuery(url, (q) => q.append('versionId', 'x'))],
        ['key suffixed', withPath(url, `${url.split('?')[0]}.bak`)],
        // Another key's URL: this URL's signature with another real key of the same org.
        ...others
          .filter((o) => o !== url)
          .map((o, i): [string, string] => [`other key ${i}`, withPath(url, o)]),
      ];
      for (const [what, bad] of tampered) {
        const res = await s3(bad);
        if (res.status !== 403 || res.code !== 'SignatureDoesNotMatch') {
          failures.push(`${kind} URL, ${what}: ${res.status} ${res.code ?? res.text.slice(0, 80)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('should refuse a GET URL used to PUT or DELETE, and keep the bytes', async () => {
    for (const url of [urls.objectGet, urls.redirectGet, urls.resourceGet]) {
      expect(await s3(url, 'PUT', 'overwritten')).toMatchObject({
        status: 403,
        code: 'SignatureDoesNotMatch',
      });
      expect(await s3(url, 'DELETE')).toMatchObject({
        status: 403,
        code: 'SignatureDoesNotMatch',
      });
    }
    await expectBytesIntact();
  });

  it('should refuse a PUT URL used to GET or DELETE, also once its object is READ_ONLY', async () => {
    for (const url of [urls.objectXPut, urls.objectYPut, urls.runPut]) {
      for (const method of ['GET', 'DELETE']) {
        const res = await s3(url, method);
        expect([method, res.status, res.code]).toEqual([method, 403, 'SignatureDoesNotMatch']);
      }
    }
    await expectBytesIntact();
  });

  it('should refuse a PUT URL for one key writing another, or tampered, and write nothing', async () => {
    const attempts: [string, string][] = [
      ["Y's PUT URL on X's key", withPath(urls.objectYPut, urls.objectGet)],
      ["Y's PUT URL on the waiting run's input", withPath(urls.objectYPut, urls.runPut)],
      ["the run's PutURL on Y's key", withPath(urls.runPut, urls.objectYPut)],
      ["the run's PutURL on the org file", withPath(urls.runPut, urls.redirectGet)],
      ["Y's PUT URL on a new key", withPath(urls.objectYPut, `${urls.objectYPut.split('?')[0]}x`)],
      ["Y's PUT URL, signature changed", withQuery(urls.objectYPut, flipSignature)],
      [
        "Y's PUT URL, expiry extended",
        withQuery(urls.objectYPut, (q) => q.set('X-Amz-Expires', '604800')),
      ],
      ["the run's PutURL, signature changed", withQuery(urls.runPut, flipSignature)],
    ];
    const failures: string[] = [];
    for (const [what, url] of attempts) {
      const res = await s3(url, 'PUT', 'intruder');
      if (res.status !== 403 || res.code !== 'SignatureDoesNotMatch') {
        failures.push(`${what}: ${res.status} ${res.code ?? res.text.slice(0, 80)}`);
      }
    }
    expect(failures).toEqual([]);
    await expectBytesIntact();
    // Nothing reached Y or the waiting run: Y has no bytes to complete, the run still waits.
    const complete = await fetch(`${t.gatewayUrl}/v1/objects/${objectY}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}` },
    });
    expect(complete.status).toBe(400);
    expect(await runStatus(waitingRun)).toBe('WAITING');
  });

  it('should refuse an Objects API download URL once its duration_seconds has passed', async () => {
    const url = await objectDownloadUrl(objectX, 1);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('1');
    const refused = await waitFor(
      'the 1-second URL to expire',
      async () => {
        const res = await s3(url);
        return res.status === 403 ? res : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect([refused.code, refused.message]).toEqual(['AccessDenied', 'Request has expired']);
  });

  it('should still accept each genuine PUT URL for its own key afterwards (control)', async () => {
    expect((await s3(urls.objectYPut, 'PUT', 'y bytes')).status).toBe(200);
    const completed = await api<{ state: string; size_bytes: number }>(
      'POST',
      `/v1/objects/${objectY}/complete`,
    );
    expect(completed.body).toMatchObject({ state: 'READ_ONLY', size_bytes: 7 });
    expect(await s3(await objectDownloadUrl(objectY))).toMatchObject({
      status: 200,
      text: 'y bytes',
    });
    expect((await s3(urls.runPut, 'PUT', 'late input')).status).toBe(200);
    await waitFor(
      'the waiting run to complete',
      async () => ((await runStatus(waitingRun)) === 'COMPLETE' ? true : undefined),
      { timeoutMs: 60_000 },
    );
  });
});
