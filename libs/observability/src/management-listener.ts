import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** Requests received by a management listener rather than the app's public port. */
const managementRequests = new WeakSet<IncomingMessage>();

/** Whether `request` came through the app's management listener (`ManagementListener`). */
export function isManagementRequest(request: FastifyRequest): boolean {
  return managementRequests.has(request.raw);
}

const METRICS_ROUTE = '/metrics';
const HEALTH_PREFIX = '/health/';

export interface ManagementListenerOptions {
  /** Route prefixes of the app's operator API (the gateway's `/admin`), served on the management port only. */
  prefixes?: readonly string[];
  /** Answers what Node's HTTP parser refuses (Fastify's `clientErrorHandler` of the public port); Node's own otherwise. */
  clientErrorHandler?: (error: Error, socket: Socket) => void;
}

/**
 * A second HTTP listener of the app, on a port that is not the public one (`MANAGEMENT_PORT`), for operators
 * and the platform's tooling: `/metrics`, the detailed `/health/ready` (the public port answers its status
 * only), and the operator routes named by `prefixes`. It hands its requests to the same Fastify instance
 * (`fastify.routing`), so those routes keep their guards, pipes, logs and metrics; each route answers 404 on
 * the listener that does not serve it (probes, `/health/*`, are served on both).
 *
 * Create it right after the Fastify instance, before any route is added.
 */
export class ManagementListener {
  private readonly server: Server;

  constructor(fastify: FastifyInstance, options: ManagementListenerOptions = {}) {
    const prefixes = [...(options.prefixes ?? [])];
    const managementOnly = (url: string) =>
      url === METRICS_ROUTE || prefixes.some((p) => url === p || url.startsWith(`${p}/`));
    this.server = createServer((request, response) => {
      managementRequests.add(request);
      fastify.routing(request, response);
    });
    const { clientErrorHandler } = options;
    // An HTTP/1.1 server's client errors come with its net.Socket (typed as any stream).
    if (clientErrorHandler) {
      this.server.on('clientError', (error, socket) => clientErrorHandler(error, socket as Socket));
    }
    // Each route learns its listener once, when it is added: no per-request path matching (the route
    // pattern, not the raw URL, so no encoding of the path can reach a route from the wrong listener).
    fastify.addHook('onRoute', (route) => {
      if (route.url.startsWith(HEALTH_PREFIX)) return;
      const hook = managementOnly(route.url) ? onManagementListenerOnly : onPublicListenerOnly;
      route.onRequest = [...asArray(route.onRequest), hook];
    });
    fastify.addHook('onClose', (_instance, done) => {
      if (this.server.listening) this.server.close(() => done());
      else done();
    });
  }

  /** Starts listening; the app's `close()` stops it (after its in-flight requests). */
  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The port it listens on (the one the OS chose for port 0). */
  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

// A route on the other listener answers the app's own 404, as an unknown route does.
const onManagementListenerOnly: onRequestHookHandler = (request, reply, done) => {
  if (isManagementRequest(request)) done();
  else reply.callNotFound();
};

const onPublicListenerOnly: onRequestHookHandler = (request, reply, done) => {
  if (isManagementRequest(request)) reply.callNotFound();
  else done();
};
