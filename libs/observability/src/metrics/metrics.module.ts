import { Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { isOpsPath } from '../ops-routes';
import { fastifyInstanceOf } from '../fastify-instance';
import { Metrics, METRICS_OPTIONS, type MetricsModuleOptions } from './metrics.service';

/** Route label of requests that matched no route: raw URLs would make cardinality unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

@Injectable()
class MetricsHttpInstaller implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const fastify = fastifyInstanceOf(this.adapterHost, 'MetricsModule');
    const { registry, httpRequestDuration } = this.metrics;
    const inFlight = this.metrics.gauge({
      name: 'http_server_requests_in_flight',
      help: 'HTTP requests received and not yet answered (a graceful stop lets them finish).',
    });
    const counted = new WeakSet<object>();
    // The route pattern of each measured request, read once: Fastify builds a new frozen object on every
    // `request.routeOptions` access.
    const routes = new WeakMap<object, string>();
    const done = (request: object) => {
      if (counted.delete(request)) inFlight.dec();
    };

    // A plain Fastify route: outside the global prefix, guards, pipes and interceptors; served on the
    // management listener only (`ManagementListener`).
    fastify.get('/metrics', async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });

    fastify.addHook('onRequest', (request, _reply, next) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      if (!isOpsPath(route)) {
        routes.set(request, route);
        counted.add(request);
        inFlight.inc();
      }
      next();
    });
    fastify.addHook('onRequestAbort', (request, next) => {
      done(request);
      next();
    });

    // onResponse runs after the reply is sent: nothing here delays the client.
    fastify.addHook('onResponse', (request, reply, next) => {
      done(request);
      const route = routes.get(request);
      if (route !== undefined) {
        httpRequestDuration.observe(
          { method: request.method, route, status_code: reply.statusCode },
          reply.elapsedTime / 1000,
        );
      }
      next();
    });
  }
}

/**
 * Prometheus metrics: `GET /metrics` (at the root, whatever the global prefix; on the management listener
 * when the app has one), process metrics,
 * `http_server_request_duration_seconds{method,route,status_code}` and `http_server_requests_in_flight` for every request except
 * `/health/*` and `/metrics`, and the injectable `Metrics` for custom series. Global: import once.
 */
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      providers: [{ provide: METRICS_OPTIONS, useValue: options }, Metrics, MetricsHttpInstaller],
      exports: [Metrics],
    };
  }
}
