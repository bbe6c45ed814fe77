import {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { otelContextEnabled } from './context-mode';
import { unredactedChild } from './logger';
import { isOpsPath } from './ops-routes';
import { REQUEST_ID_HEADER, resolveRequestId, runWithRequestContext } from './request-context';
import { endServerSpan, startServerSpan } from './server-spans';

export type FastifyLoggingOptions = Required<
  Pick<
    FastifyServerOptions,
    'loggerInstance' | 'logController' | 'requestIdHeader' | 'genReqId' | 'childLoggerFactory'
  >
>;

/** A request URL without its query string (which may carry signatures or tokens). */
function pathOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

/**
 * Fastify's per-request log lines, replaced by one compact `request completed` line: method, path
 * (never the query string, which may carry signatures or tokens), status, duration and request id.
 * Probes and scrapes (`/health/*`, `/metrics`) only at `debug`; 5xx at `warn`.
 */
export class RequestLogController extends LogController {
  private readonly accessLog: Logger;

  constructor(logger: Logger) {
    super({ requestIdLogLabel: 'request_id' });
    this.accessLog = unredactedChild(logger);
  }

  override incomingRequest(): void {
    // One line per request: the completion line says everything.
  }

  override routeNotFound(): void {
    // The completion line already shows the 404.
  }

  override requestCompleted(
    error: Error | null,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const path = pathOf(request.url);
    const quiet = isOpsPath(path);
    if (quiet && !this.accessLog.isLevelEnabled('debug')) return;

    const status = reply.statusCode;
    const fields: Record<string, unknown> = {
      request_id: request.id,
      method: request.method,
      path,
      status_code: status,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    // Fastify passes undefined as often as null when there is no error.
    if (error) fields.err = error;
    if (quiet) this.accessLog.debug(fields, 'request completed');
    else if (status >= 500 || error) this.accessLog.warn(fields, 'request completed');
    else this.accessLog.info(fields, 'request completed');
  }
}

/**
 * Options for `new FastifyAdapter({ ...fastifyLoggingOptions(logger), ...yours })`: Fastify logs
 * through `logger`, the request id is a sane incoming `x-request-id` or a random UUID, and each
 * request writes one completion line (`RequestLogController`).
 */
export function fastifyLoggingOptions(logger: Logger): FastifyLoggingOptions {
  return {
    loggerInstance: logger,
    logController: new RequestLogController(logger),
    // genReqId reads the header itself, so it can refuse unsafe values.
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => resolveRequestId(req.headers[REQUEST_ID_HEADER]),
    // `request.log` is the root logger: the mixin adds request_id from the request context, which
    // saves a child logger per request and a duplicate `request_id` key in each line. Fastify passes
    // `level: ''` for routes without a `logLevel` of their own: that is the root's level too.
    childLoggerFactory: (parent, _bindings, opts) =>
      opts.serializers !== undefined || (opts.level && opts.level !== parent.level)
        ? parent.child({}, opts)
        : parent,
  };
}

/**
 * Runs every request inside a request context (`currentRequestId()`, `request_id` on every log
 * line written while handling it) and, with tracing on, inside its server span (`startServerSpan`;
 * probes and scrapes get none); echoes the id in the `x-request-id` response header.
 * Call it right after creating the adapter, before `NestFactory.create`, so its hook runs first.
 * (Fastify runs the rest of a request whose body it read inside the context of its onRequest
 * hooks, so the context holds through body parsing.)
 */
export function installRequestContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    const path = pathOf(request.url);
    const traced = otelContextEnabled() && !isOpsPath(path);
    runWithRequestContext(request.id, done, traced ? startServerSpan(request, path) : undefined);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    endServerSpan(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    endServerSpan(request, undefined);
    done();
  });
}
