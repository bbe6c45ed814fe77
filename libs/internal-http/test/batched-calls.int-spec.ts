import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { IsInt, IsOptional, IsString } from 'class-validator';
import type { ServicePrincipal } from '@lib/contracts';
import { DomainException, NotFoundException, toErrorResponse } from '@lib/errors';
import {
  answerBatch,
  batchOp,
  generateServiceKeys,
  INTERNAL_BATCH_PATH,
  parsePrivateKey,
  publicBatchOp,
  ServiceClient,
  signServiceToken,
  ServiceTokens,
  type BatchCaller,
  type BatchOp,
} from '../src';

class EchoArgs {
  @IsString()
  text!: string;

  @IsOptional()
  @IsInt()
  n?: number;
}

const OPS: Record<string, BatchOp> = {
  echo: publicBatchOp(EchoArgs, (a) =>
    Promise.resolve({ text: a.text, traceId: trace.getActiveSpan()?.spanContext().traceId }),
  ),
  missing: publicBatchOp(EchoArgs, (a) => Promise.reject(new NotFoundException(`no ${a.text}`))),
  boom: publicBatchOp(EchoArgs, () => Promise.reject(new Error('secret internals'))),
  whose: batchOp(EchoArgs, (a, principal) =>
    Promise.resolve({ text: a.text, orgKey: principal.orgKey }),
  ),
};

// The keys of the apps: the client speaks as the gateway to object-metadata, the server as object-metadata.
const KEYS = generateServiceKeys();
const tokensOf = (app: 'gateway' | 'object-metadata' | 'flow-orchestrator') =>
  ServiceTokens.fromEnv(app, {
    SERVICE_TOKEN_PRIVATE_KEY: KEYS.privateKeys[app],
    SERVICE_TOKEN_PUBLIC_KEYS: KEYS.publicKeys,
  });
const serverTokens = tokensOf('object-metadata');

const principalOf = (orgKey: string): ServicePrincipal => ({
  orgId: '0190c1c4-1111-7222-8333-444455556666',
  orgKey,
  userId: null,
  role: null,
  actor: { type: 'api_key', id: 'key-1' },
  workflowId: null,
});

/** The server's check of a request's token (the guard of an app's internal routes). */
const callerOf = (authorization: string | undefined): BatchCaller => {
  const claims = serverTokens.verify(authorization!.slice('Bearer '.length));
  return { call: { caller: claims.iss, principal: null }, tokens: serverTokens };
};

/** What `client.batched(...)` settles to: its answer, or the status and code of its exception. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (err: DomainException) => ({ status: err.status, code: err.code, message: err.message }),
  );

// A real HTTP server on loopback answering POST /internal/batch with answerBatch, and the client's
// ServiceClient.batched: calls of one event-loop turn travel as one request and settle one by one.
describe('batched internal calls (ServiceClient.batched → answerBatch)', () => {
  const spans = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const tracer = provider.getTracer('test');
  let server: Server;
  let client: ServiceClient;
  let requests = 0;
  let largestBody = 0;
  let misbehave = false;

  beforeAll(async () => {
    provider.register();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests += 1;
        const body = Buffer.concat(chunks);
        largestBody = Math.max(largestBody, body.length);
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.url === '/page') return reply(200, { data: ['é'], has_more: false });
        if (req.url === '/missing')
          return reply(404, { error: { code: 'NOT_FOUND', message: 'no page' } });
        if (req.url !== INTERNAL_BATCH_PATH) return reply(404, {});
        if (misbehave) return reply(200, { answers: [] });
        // Like a service's body limit (1 MiB by default): refuses the whole request.
        if (body.length > 1024 * 1024)
          return reply(413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'too large' } });
        answerBatch(JSON.parse(body.toString()), OPS, callerOf(req.headers.authorization)).then(
          (body) => reply(200, body),
          (err) => {
            const { status, body } = toErrorResponse(err);
            reply(status, { error: body });
          },
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = new ServiceClient({
      baseUrl: `http://127.0.0.1:${port}`,
      name: 'object-metadata',
      tokens: tokensOf('gateway'),
    });
  });

  afterAll(async () => {
    await client?.close();
    await new Promise((resolve) => server?.close(resolve));
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  beforeEach(() => {
    requests = 0;
    largestBody = 0;
    misbehave = false;
    spans.reset();
  });

  it("should send one turn's calls as one request and answer each in its caller's trace", async () => {
    const callers = Array.from({ length: 20 }, (_, i) => tracer.startSpan(`caller ${i}`));
    const answers = await Promise.all(
      callers.map((span, i) =>
        context.with(trace.setSpan(context.active(), span), () =>
          client.batched<{ text: string; traceId: string }>('echo', { text: `t${i}` }),
        ),
      ),
    );
    expect(requests).toBe(1);
    answers.forEach((answer, i) => {
      expect(answer).toEqual({ text: `t${i}`, traceId: callers[i].spanContext().traceId });
    });
    const served = spans.getFinishedSpans().filter((s) => s.name === 'batch echo');
    expect(served).toHaveLength(20);
    for (const [i, caller] of callers.entries()) {
      const span = served.find((s) => s.spanContext().traceId === caller.spanContext().traceId);
      expect(span?.parentSpanContext?.spanId).toBe(callers[i].spanContext().spanId);
    }
  });

  it('should settle each call of a batch with its own answer or error', async () => {
    const results = await Promise.all([
      outcome(client.batched('echo', { text: 'fine', n: 2 })),
      outcome(client.batched('missing', { text: 'thing' })),
      outcome(client.batched('echo', { text: 5 })),
      outcome(client.batched('echo', { text: 'x', extra: true })),
      outcome(client.batched('nope', {})),
      outcome(client.batched('boom', { text: 'x' })),
    ]);
    expect(requests).toBe(1);
    expect(results).toEqual([
      { value: { text: 'fine', traceId: expect.any(String) } }, // no caller span: a trace of its own
      { status: 404, code: 'NOT_FOUND', message: 'no thing' },
      { status: 400, code: 'VALIDATION_FAILED', message: 'text: text must be a string' },
      {
        status: 400,
        code: 'VALIDATION_FAILED',
        message: 'extra: property extra should not exist',
      },
      { status: 400, code: 'VALIDATION_FAILED', message: 'op: unknown call "nope"' },
      // A service's 5xx does not pass its internals on (as ServiceClient.call).
      {
        status: 502,
        code: 'UPSTREAM_FAILED',
        message: 'object-metadata failed to answer the request',
      },
    ]);
  });

  it('should answer each call for the principal of its own token, and refuse one without', async () => {
    const results = await Promise.all([
      outcome(client.batched('whose', { text: 'a' }, principalOf('org-a'))),
      outcome(client.batched('whose', { text: 'b' }, principalOf('org-b'))),
      outcome(client.batched('whose', { text: 'nobody' })),
    ]);
    expect(requests).toBe(1);
    expect(results).toEqual([
      { value: { text: 'a', orgKey: 'org-a' } },
      { value: { text: 'b', orgKey: 'org-b' } },
      // The service refused the platform's own credentials: not the client's fault.
      {
        status: 502,
        code: 'UPSTREAM_FAILED',
        message: "object-metadata refused the platform's service credentials",
      },
    ]);
  });

  it("should refuse a call whose token is not the request's caller's, expired, or names no principal", async () => {
    const from: BatchCaller = {
      call: { caller: 'gateway', principal: null },
      tokens: serverTokens,
    };
    const now = Math.floor(Date.now() / 1000);
    const signed = (
      app: 'gateway' | 'flow-orchestrator',
      iat: number,
      principal?: ServicePrincipal,
    ) =>
      signServiceToken(parsePrivateKey(KEYS.privateKeys[app]), {
        iss: app,
        aud: 'object-metadata',
        iat,
        exp: iat + 120,
        ...(principal ? { principal } : {}),
      });
    const { answers } = await answerBatch(
      {
        calls: [
          {
            op: 'whose',
            args: { text: 'ok' },
            token: signed('gateway', now, principalOf('org-a')),
          },
          { op: 'whose', args: { text: 'x' } },
          { op: 'whose', args: { text: 'x' }, token: signed('gateway', now) },
          {
            op: 'whose',
            args: { text: 'x' },
            token: signed('gateway', now - 600, principalOf('o')),
          },
          {
            op: 'whose',
            args: { text: 'x' },
            token: signed('flow-orchestrator', now, principalOf('org-a')),
          },
        ],
      },
      OPS,
      from,
    );
    expect(
      answers.map((a) => [a.status, (a.body as { error?: { details?: object } }).error?.details]),
    ).toEqual([
      [200, undefined],
      [401, { reason: 'missing_token' }],
      [403, { reason: 'missing_principal' }],
      [401, { reason: 'token_expired' }],
      [403, { reason: 'caller_mismatch' }],
    ]);
  });

  it('should split calls weighing more than MAX_BATCH_BODY_BYTES into several requests, each failing alone', async () => {
    const big = 'é'.repeat(100 * 1024); // 200 KiB of UTF-8 each: the byte size counts, not the length
    const results = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => outcome(client.batched('echo', { text: big, n: i }))),
      outcome(client.batched('echo', { text: 'x'.repeat(1100 * 1024) })), // over the server's limit alone
      outcome(client.batched('echo', { text: 'small' })),
    ]);
    expect(largestBody).toBeLessThanOrEqual(1100 * 1024 + 200);
    expect(requests).toBe(5); // 2 + 2 + 2 big ones, the oversized one alone, the small one with the last
    expect(
      results.map((r) => ('value' in r ? (r.value as { text: string }).text.length : r)),
    ).toEqual([
      ...Array(6).fill(big.length),
      { status: 413, code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) },
      5,
    ]);
  });

  it('should fail every call of a batch whose answer does not match it, as unavailable', async () => {
    misbehave = true;
    const results = await Promise.all(
      ['a', 'b'].map((text) => outcome(client.batched('echo', { text }))),
    );
    expect(results).toEqual(
      ['a', 'b'].map(() => ({
        status: 503,
        code: 'DEPENDENCY_UNAVAILABLE',
        message: 'object-metadata answered a batch of 2 calls with something else',
      })),
    );
  });

  it('should pass a JSON answer on as its text, and throw an error answer as call does', async () => {
    expect(await client.callJsonText('/page')).toBe('{"data":["é"],"has_more":false}');
    const [asText, asCall] = await Promise.all([
      outcome(client.callJsonText('/missing')),
      outcome(client.call('GET', '/missing')),
    ]);
    expect(asText).toEqual({ status: 404, code: 'NOT_FOUND', message: 'no page' });
    expect(asCall).toEqual(asText);
  });

  it('should refuse a body that is not a batch as a whole', async () => {
    for (const body of [
      null,
      {},
      { calls: [] },
      { calls: 'x' },
      { calls: new Array(257).fill({}) },
    ]) {
      const from: BatchCaller = {
        call: { caller: 'gateway', principal: null },
        tokens: serverTokens,
      };
      await expect(answerBatch(body, OPS, from)).rejects.toMatchObject({
        status: 400,
        message: 'calls must be an array of 1 to 256 calls',
      });
    }
  });
});
