import { randomBytes } from 'node:crypto';
import { startTestPlatform, TestOrg, TestPlatform, waitFor } from '@lib/testing';
import { expectUsageIsTruth, liveFiles } from '../support/usage-truth';

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
  Inputs: { ObjectKey: string; SizeBytes: number }[];
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

// Presigned URL security end to end, through URLs the platform itself issued (Objects API upload and
// download URLs, flow PutURLs, public download redirects, resource download_url), against the verifying
// local S3. The S3-level refusals of hand-made URLs are in tools/local-servers/s3/s3-server.int-spec.ts.
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
    /** GET: the public download's 302 Location for an org storage file. */
    redirectGet: '',
    /** GET: the resource URL download_url of a run input. */
    resourceGet: '',
    /** PUT: the PutURL of a waiting run. */
    runPut: '',
    /** PUT: the PutURL of a run whose input was noticed (the run is COMPLETE). */
    inputPut: '',
  };
  const bytes = { object: 'object X bytes', file: 'org file bytes', input: 'run input bytes' };
  let objectX = '';
  let objectY = '';
  let doneRun = '';
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

  const runView = async (id: string) =>
    (await api<RunView>('GET', `/api/v1/flow/status/${id}`)).body;
  const runStatus = async (id: string) => (await runView(id)).Status;

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
    doneRun = done.ID;
    urls.inputPut = done.WaitingURLs![0].PutURL;
    expect((await s3(urls.inputPut, 'PUT', bytes.input)).status).toBe(200);
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

  it('should keep serving the completed bytes, and counting them, when a PUT URL writes after complete or fill', async () => {
    // The attack: neither PUT URL can be revoked. X is READ_ONLY and the first run's input was noticed.
    expect((await s3(urls.objectXPut, 'PUT', 'X replaced by a longer body')).status).toBe(200);
    expect((await s3(urls.inputPut, 'PUT', 'input replaced by a longer body')).status).toBe(200);

    await expectBytesIntact(); // the URLs signed before
    expect(await s3(await objectDownloadUrl(objectX))).toMatchObject({
      status: 200,
      text: bytes.object,
    });
    const input = (await runView(doneRun)).Inputs;
    expect(input.map((i) => i.SizeBytes)).toEqual([bytes.input.length]);
    const publicDownload = await fetch(
      `${t.gatewayUrl}/api/v1/objects/download?objectKey=${encodeURIComponent(input[0].ObjectKey)}`,
      { redirect: 'manual' },
    );
    expect(publicDownload.status).toBe(302);
    expect(await s3(publicDownload.headers.get('location')!)).toMatchObject({
      status: 200,
      text: bytes.input,
    });
    // What is recorded, and so counted, is the size of those bytes.
    expect(
      (await api<{ size_bytes: number }>('GET', `/v1/objects/${objectX}`)).body.size_bytes,
    ).toBe(bytes.object.length);
    const census = await liveFiles(t, org);
    expect(census.find((f) => f.objectId === objectX)?.sizeBytes).toBe(bytes.object.length);
    expect(census.filter((f) => f.direction === 'input').map((f) => f.sizeBytes)).toEqual([
      bytes.input.length,
    ]);
    await expectUsageIsTruth(t, org);
  });

  it('should serve an uploaded page from the public download as an attachment, never inline', async () => {
    const page = '<script>alert(document.domain)</script>';
    const upload = async (name: string, type: string) => {
      const form = new FormData();
      form.append('file', new Blob([page], { type }), name);
      const res = await fetch(`${t.gatewayUrl}/api/private/storage/upload`, {
        method: 'POST',
        headers: { 'api-key': org.orgPrivateKey },
        body: form,
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { data: { objectKey: string } }).data.objectKey;
    };
    const download = (objectKey: string, stream: string) =>
      fetch(
        `${t.gatewayUrl}/api/v1/objects/download?${new URLSearchParams({ objectKey, type: 'inline', stream }).toString()}`,
        { redirect: 'manual' },
      );
    for (const type of ['text/html', 'image/svg+xml', 'text/plain, text/html']) {
      const objectKey = await upload(`page-${randomBytes(3).toString('hex')}.html`, type);
      const redirect = await download(objectKey, 'false');
      expect(redirect.status).toBe(302);
      const viaS3 = await fetch(redirect.headers.get('location')!);
      const streamed = await download(objectKey, 'true');
      for (const [how, res] of [
        ['redirect', viaS3],
        ['stream', streamed],
      ] as const) {
        expect([type, how, res.status, await res.text()]).toEqual([type, how, 200, page]);
        expect([type, how, res.headers.get('content-type')]).toEqual([
          type,
          how,
          'application/octet-stream',
        ]);
        expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
        expect(res.headers.get('cache-control')).toBe('private, no-store');
      }
      expect(streamed.headers.get('x-content-type-options')).toBe('nosniff');
    }
    // A type safe to render stays inline (the control).
    const text = await upload('note.txt', 'text/plain');
    const shown = await fetch((await download(text, 'false')).headers.get('location')!);
    expect(shown.headers.get('content-type')).toBe('text/plain');
    expect(shown.headers.get('content-disposition')).toMatch(/^inline; /);
  });

  it('should serve an object as the type declared at create, whatever its upload was sent with', async () => {
    const created = (
      await api<{ id: string; upload_url: string }>('POST', '/v1/objects', {
        name: 'z.txt',
        content_type: 'text',
      })
    ).body;
    const put = await fetch(created.upload_url, {
      method: 'PUT',
      headers: { 'content-type': 'text/html' },
      body: '<script>alert(document.domain)</script>',
    });
    expect(put.status).toBe(200);
    await api('POST', `/v1/objects/${created.id}/complete`);
    const got = await fetch(await objectDownloadUrl(created.id));
    expect(got.headers.get('content-type')).toMatch(/^text\/plain; ?charset=utf-8$/);
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
