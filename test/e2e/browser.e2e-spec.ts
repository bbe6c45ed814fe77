import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestPlatform, type TestOrg, type TestPlatform } from '@lib/testing';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`scripts/setup.sh` installs it), driven headless over its DevTools protocol. */
const CHROMIUM = '/usr/bin/chromium';
/** The longest any one browser step may take: the suite stops by itself. */
const STEP_TIMEOUT_MS = 30_000;

interface PageServer {
  /** `http://127.0.0.1:<port>`: the page's origin, another one than the gateway's and S3's. */
  origin: string;
  close(): Promise<void>;
}

/** A tiny HTML page on a loopback port of its own: the origin the browser code below runs in. */
async function servePage(title: string): Promise<PageServer> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${title}</body></html>`;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a `fetch` in the page gave: its status and readable headers, or the error it failed with. */
interface Fetched {
  ok: boolean;
  status?: number;
  error?: string;
}

// Browser clients of the platform: a page of an allowed origin (CORS_ALLOWED_ORIGINS) uses the Objects API
// and the bucket's presigned URLs with its own `fetch`, as a web app does, so every request is subject to
// the browser's CORS checks (preflights included): a missing header on the gateway or on S3 fails the test.
// A page of another origin is refused. Swagger UI renders in the same browser.
describe('browser clients (headless Chromium)', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let browser: Browser;
  let allowed: PageServer;
  let refused: PageServer;

  async function openPage(origin: string): Promise<Page> {
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.goto(`${origin}/`);
    return page;
  }

  beforeAll(async () => {
    allowed = await servePage('allowed');
    refused = await servePage('refused');
    t = await startTestPlatform({ corsAllowedOrigins: [allowed.origin] });
    org = await t.createOrg();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: STEP_TIMEOUT_MS,
      // Loopback only: no proxy, and no host name resolves (Swagger UI's validator badge, say), so the
      // browser reaches nothing but the 127.0.0.1 addresses of this suite.
      args: [
        '--no-proxy-server',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        '--disable-dev-shm-usage',
      ],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await allowed?.close();
    await refused?.close();
    await t?.stop();
  });

  it('should create, upload, complete and download an object from a page of an allowed origin', async () => {
    const page = await openPage(allowed.origin);
    try {
      const bytes = [...randomBytes(4096)];
      const result = await page.evaluate(
        async ({ gateway, apiKey, bytes }) => {
          const auth = { authorization: `Bearer ${apiKey}` };
          const created = await fetch(`${gateway}/v1/objects`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json', 'x-request-id': 'browser-1' },
            body: JSON.stringify({ name: 'from-the-browser.bin', content_type: 'binary' }),
          });
          const object = (await created.json()) as { id: string; upload_url: string };
          const upload = await fetch(object.upload_url, {
            method: 'PUT',
            headers: { 'content-type': 'application/octet-stream' },
            body: new Uint8Array(bytes),
          });
          const completed = await fetch(`${gateway}/v1/objects/${object.id}/complete`, {
            method: 'POST',
            headers: auth,
          });
          const completedBody = (await completed.json()) as { state: string; size_bytes: number };
          const download = await fetch(`${gateway}/v1/objects/${object.id}/download`, {
            headers: auth,
          });
          const { download_url } = (await download.json()) as { download_url: string };
          const got = await fetch(download_url);
          return {
            created: created.status,
            requestId: created.headers.get('x-request-id'),
            upload: upload.status,
            uploadEtag: upload.headers.get('etag'),
            completed: completed.status,
            state: completedBody.state,
            size: completedBody.size_bytes,
            download: download.status,
            got: got.status,
            gotEtag: got.headers.get('etag'),
            bytes: [...new Uint8Array(await got.arrayBuffer())],
          };
        },
        { gateway: t.gatewayUrl, apiKey: org.apiKey, bytes },
      );

      expect(result).toMatchObject({
        created: 200,
        requestId: 'browser-1', // an exposed header: the page can read it
        upload: 200,
        completed: 200,
        state: 'READ_ONLY',
        size: bytes.length,
        download: 200,
        got: 200,
      });
      expect(result.uploadEtag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(result.gotEtag).toBe(result.uploadEtag);
      expect(result.bytes).toEqual(bytes);
    } finally {
      await page.close();
    }
  });

  it('should let the page read the gateway errors it gets', async () => {
    const page = await openPage(allowed.origin);
    try {
      const answer = await page.evaluate(async (gateway) => {
        const res = await fetch(`${gateway}/v1/objects`, {
          headers: { authorization: 'Bearer not-a-key' },
        });
        return { status: res.status, body: (await res.json()) as { error: { code: string } } };
      }, t.gatewayUrl);
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBeDefined();
    } finally {
      await page.close();
    }
  });

  it('should refuse a page of another origin, on the gateway and on the upload URL', async () => {
    // An upload URL the refused page somehow got: S3's CORS rule does not let it use it either.
    const created = await fetch(`${t.gatewayUrl}/v1/objects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'not-from-the-refused-page.bin', content_type: 'binary' }),
    });
    expect(created.status).toBe(200);
    const { upload_url } = (await created.json()) as { upload_url: string };

    const page = await openPage(refused.origin);
    try {
      const attempts = await page.evaluate(
        async ({ gateway, apiKey, uploadUrl }) => {
          const attempt = async (url: string, init?: RequestInit): Promise<Fetched> => {
            try {
              const res = await fetch(url, init);
              return { ok: true, status: res.status };
            } catch (e) {
              return { ok: false, error: String(e) };
            }
          };
          return {
            // A preflight first (authorization, JSON): unanswered, so the POST is never sent.
            create: await attempt(`${gateway}/v1/objects`, {
              method: 'POST',
              headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
              body: JSON.stringify({ name: 'from-the-refused-page.bin', content_type: 'binary' }),
            }),
            // A simple request: sent, but its answer carries no Access-Control-Allow-Origin.
            list: await attempt(`${gateway}/v1/objects/list_public`),
            upload: await attempt(uploadUrl, { method: 'PUT', body: 'refused' }),
          };
        },
        { gateway: t.gatewayUrl, apiKey: org.apiKey, uploadUrl: upload_url },
      );
      for (const [name, fetched] of Object.entries(attempts)) {
        expect({ name, ...fetched }).toEqual({ name, ok: false, error: expect.any(String) });
      }
    } finally {
      await page.close();
    }

    // Nothing was created from the refused page.
    const list = await fetch(`${t.gatewayUrl}/v1/objects?limit=100`, {
      headers: { authorization: `Bearer ${org.apiKey}` },
    });
    const { objects } = (await list.json()) as { objects: { name: string }[] };
    expect(objects.map((o) => o.name)).not.toContain('from-the-refused-page.bin');
  });

  it('should render Swagger UI at /docs with the API operations', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    try {
      await page.goto(`${t.gatewayUrl}/docs`);
      await page.waitForSelector('.opblock');
      const createObject = page.locator('#operations-objects-createObject');
      await createObject.waitFor({ state: 'visible' });
      expect(await createObject.locator('.opblock-summary-method').innerText()).toBe('POST');
      expect(await createObject.locator('.opblock-summary-path').getAttribute('data-path')).toBe(
        '/v1/objects',
      );
      expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    } finally {
      await page.close();
    }
  });
});
