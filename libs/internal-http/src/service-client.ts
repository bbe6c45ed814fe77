import { context, propagation } from '@opentelemetry/api';
import { Pool } from 'undici';
import type { ServicePrincipal } from '@lib/contracts';
import { DependencyUnavailableException, DomainException } from '@lib/errors';
import { MicroBatcher } from '@lib/queue';
import {
  INTERNAL_BATCH_PATH,
  MAX_BATCH_BODY_BYTES,
  MAX_BATCH_CALLS,
  type BatchAnswer,
  type BatchCall,
} from './batched-calls';
import type { ServiceName } from './service-keys';
import { SERVICE_FORBIDDEN, SERVICE_UNAUTHORIZED, type ServiceTokens } from './service-tokens';

export interface ServiceClientOptions {
  /** Base URL of the service, e.g. `http://object-metadata:3001` (a Kubernetes Service name). */
  baseUrl: string;
  /** The app it calls: the audience of its service tokens, and its name in error messages. */
  name: ServiceName;
  /** The calling app's tokens: each request carries one (`Authorization: Bearer`). */
  tokens: ServiceTokens;
  /** Keep-alive connections kept open to the service. */
  connections?: number;
  timeoutMs?: number;
}

export interface CallOptions {
  /** The org and user the call acts for, signed into its token; absent for a call acting for no org. */
  principal?: ServicePrincipal;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Internal HTTP between an app and a service (JSON over HTTP with a keep-alive pool): the transport under the
 * clients of @lib/clients, which alone name the routes and pick per method `call`, `callJsonText` or `batched`.
 *
 * Why a pool of many connections whose clients are recycled (`clientTtl`): a Kubernetes ClusterIP Service
 * balances per TCP connection, so one pinned socket would send everything to one replica. Several pooled
 * connections spread over the replicas, and recycling them picks up replicas added by the autoscaler.
 * The W3C `traceparent` header is added by the undici instrumentation of @lib/observability.
 *
 * A service's JSON error (`{error: {code, message, details}}`) becomes the same DomainException here, so the
 * gateway answers with the service's status and message; a network failure becomes a 503. Every request
 * carries a service token of the calling app (docs/architecture.md, Service credentials).
 */
export class ServiceClient {
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private batcher: MicroBatcher<BatchCall, BatchAnswer | Error> | undefined;

  constructor(private readonly opts: ServiceClientOptions) {
    this.pool = new Pool(opts.baseUrl, {
      connections: opts.connections ?? 32,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      clientTtl: 60_000,
    });
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: CallOptions = {},
  ): Promise<T> {
    const json = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    return this.answerOf<T>(await this.exchange(method, path, json, opts));
  }

  /**
   * `call` answering the service's JSON body as text, unparsed: for a large answer the gateway passes on as
   * is (a page of 100 objects: parsing and serializing it again cost the gateway more than the rest of the
   * request). Errors are thrown as `call` throws them.
   */
  async callJsonText(path: string, opts: CallOptions = {}): Promise<string> {
    const answer = await this.exchange('GET', path, undefined, opts);
    return answer.status < 400 ? answer.text : this.answerOf<never>(answer); // the latter throws
  }

  /** The parsed JSON of an answer below 400; any other is thrown as the service's DomainException. */
  private answerOf<T>({ status, text }: { status: number; text: string }): T {
    const parsed: unknown = text ? parseJson(text, this.opts.name) : undefined;
    if (status >= 400) throw toDomainException(status, parsed, this.opts.name);
    return parsed as T;
  }

  /** One request and its answer's status and text; a network failure is a 503. */
  private async exchange(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    json: string | undefined,
    opts: CallOptions,
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...opts.headers,
      authorization: this.authorization(opts.principal),
    };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    let response;
    try {
      response = await this.pool.request({
        method,
        path: withQuery(path, opts.query),
        headers,
        body: json,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (err) {
      throw new DependencyUnavailableException(
        `${this.opts.name} is unavailable: ${(err as Error).message}`,
      );
    }
    return { status: response.statusCode, text: await response.body.text() };
  }

  private authorization(principal: ServicePrincipal | undefined): string {
    return `Bearer ${this.opts.tokens.sign(this.opts.name, principal)}`;
  }

  /**
   * One call of the service's `POST /internal/batch` (batched-calls.ts), sent with the other calls of this
   * event-loop turn, and with those made while 8 batches are in flight: answered and thrown as `call` would,
   * per call. Carries the caller's trace context, so the service's span of the call joins the caller's trace,
   * and a token naming `principal` (the request itself carries one naming none).
   */
  async batched<T>(op: string, args: object, principal?: ServicePrincipal): Promise<T> {
    const carrier: { traceparent?: string; tracestate?: string } = {};
    propagation.inject(context.active(), carrier);
    const call: BatchCall = {
      op,
      args,
      ...(principal ? { token: this.opts.tokens.sign(this.opts.name, principal) } : {}),
      ...carrier,
    };
    this.batcher ??= new MicroBatcher({
      maxSize: MAX_BATCH_CALLS,
      lingerMs: 0,
      maxInFlight: 8,
      run: (calls) => this.sendBatch(calls),
    });
    const answer = await this.batcher.submit(call);
    if (answer instanceof Error) throw answer;
    if (answer.status >= 400) throw toDomainException(answer.status, answer.body, this.opts.name);
    return answer.body as T;
  }

  /**
   * Sends gathered calls as one request, or as several when together they weigh more than
   * MAX_BATCH_BODY_BYTES; a request that fails fails its own calls only (the others may have taken effect).
   */
  private async sendBatch(calls: BatchCall[]): Promise<Map<BatchCall, BatchAnswer | Error>> {
    const results = new Map<BatchCall, BatchAnswer | Error>();
    await Promise.all(
      bySize(calls).map(async (chunk) => {
        try {
          const answers = await this.sendChunk(chunk);
          chunk.forEach(({ call }, i) => results.set(call, answers[i]));
        } catch (err) {
          for (const { call } of chunk) results.set(call, err as Error);
        }
      }),
    );
    return results;
  }

  private async sendChunk(chunk: SerializedCall[]): Promise<BatchAnswer[]> {
    const body = `{"calls":[${chunk.map((c) => c.json).join(',')}]}`;
    const answers = this.answerOf<{ answers?: unknown } | undefined>(
      await this.exchange('POST', INTERNAL_BATCH_PATH, body, {}),
    )?.answers;
    if (!Array.isArray(answers) || answers.length !== chunk.length) {
      throw new DependencyUnavailableException(
        `${this.opts.name} answered a batch of ${chunk.length} calls with something else`,
      );
    }
    return answers as BatchAnswer[];
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function withQuery(path: string, query: CallOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function parseJson(text: string, service: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DependencyUnavailableException(`${service} answered with a body that is not JSON`);
  }
}

function toDomainException(status: number, json: unknown, service: string): DomainException {
  const error = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } })
    ?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    // The service refused this app's service credentials: the platform's fault, never the client's.
    if (error.code === SERVICE_UNAUTHORIZED || error.code === SERVICE_FORBIDDEN) {
      return new DomainException(
        502,
        'UPSTREAM_FAILED',
        `${service} refused the platform's service credentials`,
      );
    }
    // A 5xx of a service stays a 5xx, but its internals are not passed on to the client.
    if (status >= 500 && status !== 503) {
      return new DomainException(502, 'UPSTREAM_FAILED', `${service} failed to answer the request`);
    }
    return new DomainException(status, error.code, error.message, error.details);
  }
  return new DomainException(502, 'UPSTREAM_FAILED', `${service} answered ${status}`);
}

interface SerializedCall {
  call: BatchCall;
  json: string;
}

/** The calls in order, cut into runs of at most MAX_BATCH_BODY_BYTES of JSON (a bigger call alone). */
function bySize(calls: BatchCall[]): SerializedCall[][] {
  const chunks: SerializedCall[][] = [];
  let chunk: SerializedCall[] = [];
  let bytes = 0;
  for (const call of calls) {
    const json = JSON.stringify(call);
    const size = Buffer.byteLength(json) + 1;
    if (chunk.length > 0 && bytes + size > MAX_BATCH_BODY_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push({ call, json });
    bytes += size;
  }
  chunks.push(chunk);
  return chunks;
}
