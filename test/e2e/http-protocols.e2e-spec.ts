import type { ClientHttp2Session } from 'node:http2';
import {
  connectHttp2,
  http1Request,
  http2Request,
  startTestPlatform,
  testCertificate,
  type AppInstance,
  type RawRequest,
  type RawResponse,
  type TestCertificate,
  type TestOrg,
  type TestPlatform,
} from '@lib/testing';

/** One way of reaching the gateway. */
interface Client {
  send(req: RawRequest): Promise<RawResponse>;
  close(): void;
}

interface ObjectView {
  id: string;
  state: string;
  size_bytes?: number;
  upload_url?: string;
}

// The gateway serves HTTP/1.1 and HTTP/2 on one port: cleartext (HTTP/2 with prior knowledge, what an SDK
// sends to an http:// base URL) and TLS (h2 negotiated by ALPN, HTTP/1.1 for a client that offers only it).
// Every Objects API operation, an org storage upload and a public download, over each of the four.
describe('HTTP/1.1 and HTTP/2, cleartext and TLS, on the gateway port', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let certificate: TestCertificate;
  let tlsGateway: AppInstance;
  let tlsOrigin: string;
  const sessions: ClientHttp2Session[] = [];

  beforeAll(async () => {
    certificate = await testCertificate();
    t = await startTestPlatform();
    org = await t.createOrg();
    tlsGateway = await t.platform.startInstance('gateway', {
      GATEWAY_TLS_CERT_FILE: certificate.certFile,
      GATEWAY_TLS_KEY_FILE: certificate.keyFile,
    });
    tlsOrigin = tlsGateway.url.replace('http://', 'https://');
  });

  afterAll(async () => {
    for (const session of sessions) session.close();
    await t?.stop();
    await certificate?.cleanup();
  });

  const http2Client = async (origin: string, ca?: string): Promise<Client> => {
    const session = await connectHttp2(origin, ca);
    sessions.push(session);
    return { send: (req) => http2Request(session, req), close: () => session.close() };
  };

  const clients: Record<string, { version: string; open: () => Promise<Client> }> = {
    'HTTP/1.1 cleartext': {
      version: '1.1',
      open: () => Promise.resolve({ send: (req) => http1Request(t.gatewayUrl, req), close() {} }),
    },
    'HTTP/2 cleartext with prior knowledge': {
      version: '2.0',
      open: () => http2Client(t.gatewayUrl),
    },
    'HTTP/1.1 over TLS': {
      version: '1.1',
      open: () =>
        Promise.resolve({
          send: (req) => http1Request(tlsOrigin, req, certificate.cert),
          close() {},
        }),
    },
    'HTTP/2 over TLS (ALPN)': {
      version: '2.0',
      open: () => http2Client(tlsOrigin, certificate.cert),
    },
  };

  describe.each(Object.keys(clients))('%s', (name) => {
    const { version, open } = clients[name];
    let client: Client;
    const bearer = () => ({ authorization: `Bearer ${org.apiKey}` });
    const json = (body: unknown) => ({
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    /** Sends `req`, checks the protocol that carried the answer and its status, answers its JSON. */
    const expectAnswer = async <T>(req: RawRequest, status: number): Promise<T> => {
      const res = await client.send(req);
      // The body only when the status is not the one expected: it says why.
      const body = res.status === status ? undefined : res.text();
      expect({ path: req.path, version: res.httpVersion, status: res.status, body }).toEqual({
        path: req.path,
        version,
        status,
        body: undefined,
      });
      return res.json<T>();
    };

    beforeAll(async () => {
      client = await open();
    });

    afterAll(() => client?.close());

    it('should serve every Objects API operation', async () => {
      const bytes = `bytes sent over ${name}`;
      const created = await expectAnswer<ObjectView>(
        {
          method: 'POST',
          path: '/v1/objects',
          ...json({ name: 'note.txt', content_type: 'text', metadata: { protocol: version } }),
        },
        200,
      );
      expect(created.state).toBe('UPLOADING');
      expect((await fetch(created.upload_url!, { method: 'PUT', body: bytes })).status).toBe(200);

      const base = `/v1/objects/${created.id}`;
      expect((await expectAnswer<ObjectView>({ path: base, headers: bearer() }, 200)).id).toBe(
        created.id,
      );
      const page = await expectAnswer<{ objects: ObjectView[] }>(
        { path: '/v1/objects?limit=100', headers: bearer() },
        200,
      );
      expect(page.objects.map((o) => o.id)).toContain(created.id);
      const keys = await expectAnswer<{ keys: string[] }>(
        { path: '/v1/objects/metadata/keys', headers: bearer() },
        200,
      );
      expect(keys.keys).toContain('protocol');
      const values = await expectAnswer<{ values: string[] }>(
        { path: '/v1/objects/metadata/keys/protocol/values', headers: bearer() },
        200,
      );
      expect(values.values).toContain(version);

      const completed = await expectAnswer<ObjectView>(
        { method: 'POST', path: `${base}/complete`, headers: bearer() },
        200,
      );
      expect(completed).toMatchObject({ state: 'READ_ONLY', size_bytes: bytes.length });
      const { download_url } = await expectAnswer<{ download_url: string }>(
        { path: `${base}/download`, headers: bearer() },
        200,
      );
      expect(await (await fetch(download_url)).text()).toBe(bytes);

      await expectAnswer({ method: 'POST', path: `${base}/publish`, headers: bearer() }, 200);
      const published = await expectAnswer<{ objects: ObjectView[] }>(
        { path: '/v1/objects/list_public?limit=5000', headers: bearer() },
        200,
      );
      expect(published.objects.map((o) => o.id)).toContain(created.id);
      await expectAnswer({ method: 'POST', path: `${base}/unpublish`, headers: bearer() }, 200);
      const deleted = await expectAnswer<ObjectView>(
        { method: 'POST', path: `${base}/delete`, headers: bearer() },
        200,
      );
      expect(deleted.state).toBe('DELETED');
      // A JSON error travels the same way.
      await expectAnswer({ path: `${base}/download`, headers: bearer() }, 400);
    });

    it('should take an org storage upload and serve its public download', async () => {
      const bytes = Buffer.from(`org storage file over ${name}\n`.repeat(200));
      const form = new FormData();
      form.append('path', 'protocols');
      form.append('file', new Blob([bytes]), `${name.replace(/[^A-Za-z0-9]+/g, '-')}.txt`);
      const multipart = new Response(form);
      const uploaded = await expectAnswer<{ data: { objectKey: string } }>(
        {
          method: 'POST',
          path: '/api/private/storage/upload',
          headers: {
            'api-key': org.orgPrivateKey,
            'content-type': multipart.headers.get('content-type')!,
          },
          body: Buffer.from(await multipart.arrayBuffer()),
        },
        201,
      );

      const query = `/api/v1/objects/download?objectKey=${encodeURIComponent(uploaded.data.objectKey)}`;
      const streamed = await client.send({ path: `${query}&stream=true` });
      expect({ version: streamed.httpVersion, status: streamed.status }).toEqual({
        version,
        status: 200,
      });
      expect(streamed.body.equals(bytes)).toBe(true);
      const redirect = await client.send({ path: query });
      expect({ version: redirect.httpVersion, status: redirect.status }).toEqual({
        version,
        status: 302,
      });
      const signed = await fetch(String(redirect.headers.location));
      expect(Buffer.from(await signed.arrayBuffer()).equals(bytes)).toBe(true);
    });
  });
});
