import fastify, { type FastifyInstance } from 'fastify';
import type { RequestListener, Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, connect } from 'node:net';
import { Readable } from 'node:stream';
import {
  connectHttp2,
  http2Request,
  http1Request,
  testCertificate,
  type TestCertificate,
} from '@lib/testing';
import { DualProtocolOptions, DualProtocolServer, RequestHandler } from './dual-protocol-server';

async function startApp(options: Pick<DualProtocolOptions, 'tls'> = {}): Promise<{
  app: FastifyInstance;
  server: DualProtocolServer;
  port: number;
  release: () => void;
  slowEntered: () => boolean;
}> {
  let server!: DualProtocolServer;
  const app = fastify({
    forceCloseConnections: false,
    serverFactory: (handler: RequestListener) => {
      server = new DualProtocolServer(handler as RequestHandler, {
        ...options,
        connectionsCheckingInterval: 200,
      });
      return server as unknown as Server;
    },
  });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  app.get('/hello', (request, reply) =>
    reply.send({ hello: 'world', httpVersion: request.raw.httpVersion }),
  );
  app.post('/echo', (request, reply) => reply.send({ received: request.body }));
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) =>
    done(null, payload),
  );
  app.post('/count', async (request) => {
    let bytes = 0;
    for await (const chunk of request.body as Readable) bytes += (chunk as Buffer).length;
    return { bytes };
  });
  app.get('/stream', (_request, reply) => {
    const parts = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i % 256));
    return reply.type('application/octet-stream').send(Readable.from(parts));
  });
  let slowEntered = false;
  app.get('/slow', async () => {
    slowEntered = true;
    await released;
    return { done: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return { app, server, port, release, slowEntered: () => slowEntered };
}

describe(DualProtocolServer.name, () => {
  describe('cleartext', () => {
    let started: Awaited<ReturnType<typeof startApp>>;
    let origin: string;
    beforeAll(async () => {
      started = await startApp();
      origin = `http://127.0.0.1:${started.port}`;
    });
    afterAll(async () => {
      started.release();
      await started.app.close();
    });

    it('should answer HTTP/2 with prior knowledge and HTTP/1.1 on the same port', async () => {
      const session = await connectHttp2(origin);
      try {
        const h2 = await http2Request(session, { path: '/hello' });
        expect(h2.status).toBe(200);
        expect(h2.json()).toEqual({ hello: 'world', httpVersion: '2.0' });
      } finally {
        session.close();
      }
      const h1 = await fetch(`${origin}/hello`);
      expect(h1.status).toBe(200);
      expect(await h1.json()).toEqual({ hello: 'world', httpVersion: '1.1' });
    });

    it('should carry request bodies and streamed responses over HTTP/2', async () => {
      const session = await connectHttp2(origin);
      try {
        const echo = await http2Request(session, {
          method: 'POST',
          path: '/echo',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ a: 1 }),
        });
        expect(echo.json()).toEqual({ received: { a: 1 } });
        const upload = Readable.from(Array.from({ length: 32 }, () => Buffer.alloc(32 * 1024, 7)));
        const counted = await http2Request(session, {
          method: 'POST',
          path: '/count',
          headers: { 'content-type': 'application/octet-stream' },
          body: upload,
        });
        expect(counted.json()).toEqual({ bytes: 32 * 32 * 1024 });
        const download = await http2Request(session, { path: '/stream' });
        expect(download.status).toBe(200);
        expect(download.body.length).toBe(64 * 16 * 1024);
        expect(download.body[16 * 1024]).toBe(1);
      } finally {
        session.close();
      }
    });

    it('should serve several requests at once on one HTTP/2 session', async () => {
      const session = await connectHttp2(origin);
      try {
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => http2Request(session, { path: '/hello' })),
        );
        expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      } finally {
        session.close();
      }
    });

    it('should hand bytes that only begin like the preface to HTTP/1.1', async () => {
      const res = await fetch(`${origin}/hello`, { method: 'PRI' }).catch((e: Error) => e);
      // Fastify answers the unknown method; what matters is that an HTTP/1.1 answer comes back.
      expect(res).toBeInstanceOf(Response);
    });
  });

  it('should keep the HTTP/1.1 request deadline: a stalled request head gets a 408', async () => {
    const started = await startApp();
    started.server.headersTimeout = 1_000;
    started.server.requestTimeout = 1_000;
    try {
      const socket = connect(started.port, '127.0.0.1');
      socket.write('GET /hello HTTP/1.1\r\nHost: x\r\n');
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('close', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      started.release();
      await started.app.close();
    }
  });

  describe('TLS', () => {
    let certificate: TestCertificate;
    let started: Awaited<ReturnType<typeof startApp>>;
    let origin: string;
    beforeAll(async () => {
      certificate = await testCertificate();
      started = await startApp({
        tls: { cert: certificate.cert, key: await readKey(certificate) },
      });
      origin = `https://127.0.0.1:${started.port}`;
    });
    afterAll(async () => {
      started.release();
      await started.app.close();
      await certificate.cleanup();
    });

    it('should negotiate h2 by ALPN and fall back to HTTP/1.1 for a client without h2', async () => {
      const session = await connectHttp2(origin, certificate.cert);
      try {
        const h2 = await http2Request(session, { path: '/hello' });
        expect(h2.json()).toEqual({ hello: 'world', httpVersion: '2.0' });
        const download = await http2Request(session, { path: '/stream' });
        expect(download.body.length).toBe(64 * 16 * 1024);
      } finally {
        session.close();
      }
      const h1 = await http1Request(origin, { path: '/hello' }, certificate.cert);
      expect(h1.httpVersion).toBe('1.1');
      expect(h1.json()).toEqual({ hello: 'world', httpVersion: '1.1' });
    });
  });

  it('should let an in-flight HTTP/2 request finish on close, then end the session', async () => {
    const started = await startApp();
    const session = await connectHttp2(`http://127.0.0.1:${started.port}`);
    const sessionClosed = new Promise<void>((resolve) => session.once('close', resolve));
    const slow = http2Request(session, { path: '/slow' });
    await new Promise<void>((resolve) => {
      const check = (): void => (started.slowEntered() ? resolve() : void setTimeout(check, 10));
      check();
    });
    const closed = started.app.close();
    started.release();
    const answer = await slow;
    expect(answer.json()).toEqual({ done: true });
    await closed;
    await sessionClosed;
  });
});

function readKey(certificate: TestCertificate): Promise<string> {
  return readFile(certificate.keyFile, 'utf8');
}
