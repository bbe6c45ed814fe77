import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startTestPlatform, waitFor, type TestOrg, type TestPlatform } from '@lib/testing';
import { bytesOf, objectsClient, orgStorageClient } from '../support/fault-load';

interface RunView {
  ID: string;
  Status: string;
  WorkflowID: string;
  WaitingURLs?: { PutURL: string }[];
  Inputs: { ObjectKey: string }[];
  Artifacts: { ObjectKey: string; Name: string }[];
}

/** The redaction marker of @lib/observability. */
const REDACTED = '[REDACTED]';

// An object key is a download capability (the public download needs nothing else), and a presigned
// URL's signature one for as long as it lives. The platform runs as in production, with its traces exported
// to a collector (here, a stand-in that keeps what it receives) and its logs at debug; every kind of file
// is uploaded, downloaded (302, streamed, presigned) and deleted, and S3 fails some requests with errors
// that quote the key. No log line and no exported span may hold a key's token or a signature.
describe('object keys and URL signatures in logs and traces', () => {
  const exported: string[] = [];
  /** Every key token, signature and credential the platform handed out. */
  const capabilities = new Set<string>();
  let collector: Server;
  let t: TestPlatform;
  let org: TestOrg;

  /** Remembers the token of `key` (its last segment, or the one before a run file's name). */
  const rememberKey = (key: string) => {
    const segments = key.split('/');
    capabilities.add(segments[segments.length - (segments[1] === 'workflows' ? 2 : 1)]);
  };
  /** Remembers a presigned URL's signature and credential, and the key it names; returns the key. */
  const rememberUrl = (url: string): string => {
    const parsed = new URL(url);
    capabilities.add(parsed.searchParams.get('X-Amz-Signature') ?? '');
    capabilities.add(parsed.searchParams.get('X-Amz-Credential') ?? '');
    // Path-style: /<bucket>/<key>.
    const key = decodeURIComponent(parsed.pathname.split('/').slice(2).join('/'));
    rememberKey(key);
    return key;
  };

  const gateway = (path: string, init: RequestInit & { auth?: 'bearer' | 'private' } = {}) =>
    fetch(`${t.gatewayUrl}${path}`, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.auth === 'private'
          ? { 'api-key': org.orgPrivateKey }
          : { authorization: `Bearer ${org.apiKey}` }),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
    });

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        exported.push(Buffer.concat(chunks).toString('utf8'));
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    t = await startTestPlatform({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        LOG_LEVEL: 'debug',
      },
    });
    org = await t.createOrg();
    capabilities.add(t.s3.settings.credentials.secretAccessKey);
  });

  afterAll(async () => {
    await t?.stop();
    collector?.closeAllConnections();
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('should upload, download and delete an Objects API object, also when S3 fails', async () => {
    const objects = objectsClient(t, org);
    const created = await objects.create({ name: 'report.txt', content_type: 'text' });
    expect(created.status).toBe(200);
    rememberUrl(created.body.upload_url!);
    expect(await objects.put(created.body.upload_url!, 'hello')).toBe(200);
    expect((await objects.complete(created.body.id)).status).toBe(200);

    // Complete moved the bytes to a key of their own: the download URL names it.
    const signed = await gateway(`/v1/objects/${created.body.id}/download`);
    const key = rememberUrl(((await signed.json()) as { download_url: string }).download_url);
    const query = (stream: boolean) =>
      `/api/v1/objects/download?objectKey=${encodeURIComponent(key)}&stream=${stream}`;
    const redirect = await gateway(query(false));
    expect(redirect.status).toBe(302);
    rememberUrl(redirect.headers.get('location')!);
    const streamed = await gateway(query(true));
    expect(await streamed.text()).toBe('hello');

    // S3 failing the streamed GET: the gateway answers 503.
    const get = t.s3.injectFault({ operation: 'GET', status: 500 });
    expect((await gateway(query(true))).status).toBe(503);
    get.remove();

    // S3 failing the HEAD of a complete: a 5xx, storage logging S3's error.
    const other = await objects.create({ name: 'other.txt', content_type: 'text' });
    rememberUrl(other.body.upload_url!);
    expect(await objects.put(other.body.upload_url!, 'x')).toBe(200);
    const head = t.s3.injectFault({ operation: 'HEAD', status: 500 });
    expect((await objects.complete(other.body.id)).status).toBeGreaterThanOrEqual(500);
    head.remove();

    expect((await objects.remove(created.body.id)).status).toBe(200);
  });

  it('should upload, download and delete an org storage file, also when S3 fails', async () => {
    const storage = orgStorageClient(t, org);
    const uploaded = await storage.upload('q1.pdf', bytesOf(3_000), 'reports');
    expect(uploaded.status).toBe(201);
    rememberKey(uploaded.body.data.objectKey);
    expect((await storage.download('reports/q1.pdf')).status).toBe(200);
    expect((await storage.remove('reports/q1.pdf')).status).toBe(200);

    // S3 refusing an upload: the gateway logs the failure, naming the key (a fresh one, never answered).
    const put = t.s3.injectFault({ operation: 'PUT', status: 503 });
    expect(
      (await storage.upload('q2.pdf', bytesOf(3_000), 'reports')).status,
    ).toBeGreaterThanOrEqual(500);
    put.remove();
  });

  it('should run a flow: a PutURL upload, a copied artifact and its download URL', async () => {
    const started = await gateway('/api/v1/flow/redaction', {
      method: 'POST',
      body: JSON.stringify({
        Flow: {
          DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'in.txt' }],
          Steps: [{ ID: 'copy', Type: 'copy', Inputs: ['in'], Output: 'out' }],
          StartingStepID: 'copy',
        },
      }),
    });
    const run = (await started.json()) as RunView;
    const putUrl = run.WaitingURLs![0].PutURL;
    rememberUrl(putUrl);
    expect((await fetch(putUrl, { method: 'PUT', body: 'input' })).status).toBe(200);
    const done = await waitFor(
      `run ${run.ID} complete`,
      async () => {
        const status = (await (await gateway(`/api/v1/flow/status/${run.ID}`)).json()) as RunView;
        return status.Status === 'COMPLETE' ? status : undefined;
      },
      { timeoutMs: 60_000 },
    );
    for (const file of [...done.Inputs, ...done.Artifacts]) rememberKey(file.ObjectKey);
    const resource = await gateway('/api/v1/resources/download-url', {
      method: 'POST',
      body: JSON.stringify({ resource_uri: `workflow://${run.WorkflowID}/artifacts/in.txt` }),
    });
    rememberUrl(((await resource.json()) as { download_url: string }).download_url);
  });

  it('should have logged and exported all of it without a key token, a signature or a credential', async () => {
    // Stopping the apps flushes their last spans and log lines.
    await t.platform.stop();
    const logs = readdirSync(t.logDir).map((file) => ({
      file,
      text: readFileSync(join(t.logDir, file), 'utf8'),
    }));
    const secrets = [...capabilities].filter((c) => c.length > 0);
    // Five key tokens, six signatures, the credential scope and the secret key, at least.
    expect(secrets.length).toBeGreaterThanOrEqual(13);
    for (const secret of secrets) {
      const inLogs = logs.filter(({ text }) => text.includes(secret)).map(({ file }) => file);
      const spans = exported.filter((body) => body.includes(secret)).length;
      expect({ secret, inLogs, spans }).toEqual({ secret, inLogs: [], spans: 0 });
    }
    // Nor the token of a key the test never saw (e.g. an upload S3 refused), slashes plain or encoded.
    const anyToken =
      /(?:\/|%2F)(?:objects(?:\/|%2F)obj_[0-9a-f]{32}|files|inputs|outputs)(?:\/|%2F)[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])/i;
    for (const { file, text } of [...logs, ...exported.map((text) => ({ file: 'spans', text }))])
      expect({ file, token: anyToken.exec(text)?.[0] }).toEqual({ file, token: undefined });

    // What was looked at: each app's log, an error quoting a key, the client spans of S3 requests.
    expect(logs.map(({ file }) => file).sort()).toEqual(
      ['flow-orchestrator', 'gateway', 'object-metadata', 'storage', 'usage-aggregator'].map(
        (app) => `${app}.log`,
      ),
    );
    const all = logs.map(({ text }) => text).join('\n');
    expect(all).toContain(`S3 upload of ${org.orgKey}/files/${REDACTED} failed`);
    expect(all).toContain(`objectKey=${REDACTED}`);
    const spans = exported.join('\n');
    expect(spans).toContain(`X-Amz-Signature=${REDACTED}`);
    expect(spans).toContain(`/files/${REDACTED}`);
  });
});
