import type { RequestListener, Server } from 'node:http';
import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy, MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidEnvironmentError, type ConfigClass, type PlatformSections } from '@lib/config';
import { DualProtocolOptions, DualProtocolServer, RequestHandler } from './dual-protocol-server';
import { createValidationPipe, ErrorEnvelope, HttpErrorFilter } from '@lib/errors';
import {
  createLogger,
  fastifyLoggingOptions,
  installRequestContext,
  ManagementListener,
  markShuttingDown,
  PinoLoggerService,
  shutdownTracing,
} from '@lib/observability';

const MAX_PARAM_LENGTH = 2048;
const CHECKING_INTERVAL_MS = 1_000;

export interface ServiceOptions {
  /** Largest JSON body accepted (Fastify answers 413 past it). */
  bodyLimitBytes?: number;
  /** Per URL prefix error envelopes (org storage's `/api/private` wants `{success: false, error}`). */
  errorEnvelopes?: { prefix: string; envelope: ErrorEnvelope }[];
  /**
   * Fastify's `trustProxy`: which proxies' `X-Forwarded-For` sets the client address (`request.ip`), e.g. a
   * hop count or a list of addresses/CIDRs. Default: none (the socket's peer is the client).
   */
  trustProxy?: number | string;
  /**
   * Route prefixes of the app's operator API (the gateway's `/admin`): served on the management port only,
   * like `/metrics` and the detailed `/health/ready`.
   */
  managementRoutes?: string[];
  /** `/a/` routes like `/a` (org storage documents its list route as `GET /api/private/storage/`). */
  ignoreTrailingSlash?: boolean;
  /**
   * Serve HTTP/2 beside HTTP/1.1 on the public port (`DualProtocolServer`): cleartext HTTP/2 with prior
   * knowledge, or with a certificate (`tls`, read as the server is made) both over TLS, chosen by ALPN.
   * Default: HTTP/1.1 only.
   */
  http2?: { tls?: () => DualProtocolOptions['tls'] };
  /** Last touches before listening, e.g. the gateway's OpenAPI document. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /**
   * A microservice transport the app's module provides (an `EventTransport`: its Kafka consumer), under
   * this token: connected to the app, so its controllers' `@EventPattern` handlers consume, started before
   * the app listens and closed when it shuts down.
   */
  eventTransport?: Type<CustomTransportStrategy>;
}

/**
 * Starts one app of the platform the same way everywhere: its config validated and built first (`config`,
 * the class `module` provides with `configModule`; options may depend on it), Fastify, JSON logs with request
 * and trace ids, the JSON error filter, the strict validation pipe, a management listener on the management
 * port beside the public one (`ManagementListener`), and a graceful SIGTERM (readiness turns 503 first,
 * in-flight requests finish, consumers and workers close through Nest's shutdown hooks).
 */
export async function bootstrapService<C extends PlatformSections>(
  module: Type<unknown>,
  /** The app's name: log field, metric label, Kafka client id and consumer group. */
  service: string,
  config: ConfigClass<C>,
  options: ServiceOptions | ((config: C) => ServiceOptions) = {},
): Promise<INestApplication> {
  const settings = loadConfig(config, service);
  const opts = typeof options === 'function' ? options(settings) : options;
  const logger = createLogger({ service, level: settings.app.logLevel });
  let app: NestFastifyApplication;
  let management: ManagementListener;
  let stopping = false;
  const errorFilter = new HttpErrorFilter(opts.errorEnvelopes);
  try {
    const http2 = opts.http2;
    const adapter = new FastifyAdapter({
      ...fastifyLoggingOptions(logger),
      bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
      ...(opts.trustProxy !== undefined ? { trustProxy: opts.trustProxy } : {}),
      // Path parameters may be long (a 256-byte metadata key is up to 768 characters encoded).
      maxParamLength: MAX_PARAM_LENGTH,
      ignoreTrailingSlash: opts.ignoreTrailingSlash ?? false,
      // How often Node checks the headers and request deadlines (an app may set them): its default, 30 s,
      // would let a 10 s deadline run to 40 s.
      ...(http2
        ? {
            serverFactory: (handler: RequestListener) =>
              // Fastify types its raw server as an http.Server; its handler takes HTTP/2 requests as well.
              new DualProtocolServer(handler as RequestHandler, {
                tls: http2.tls?.(),
                connectionsCheckingInterval: CHECKING_INTERVAL_MS,
              }) as unknown as Server,
          }
        : { http: { connectionsCheckingInterval: CHECKING_INTERVAL_MS } }),
      // Fastify's default ('idle') closes every connection on close, in-flight requests included (their
      // clients saw "other side closed"): connections are left to end after their response (below).
      forceCloseConnections: false,
      frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
        errorFilter.send(error, request, reply),
      clientErrorHandler: (error, socket) => errorFilter.clientError(error, socket),
    });
    installRequestContext(adapter.getInstance());
    management = new ManagementListener(adapter.getInstance(), {
      prefixes: opts.managementRoutes,
      clientErrorHandler: (error, socket) => errorFilter.clientError(error, socket),
    });
    // While stopping, each answer closes its keep-alive connection: in-flight requests finish, and the
    // server's close does not wait for idle clients' keep-alive timeouts.
    // (HTTP/2 has no such header: its sessions get GOAWAY when the server closes.)
    adapter.getInstance().addHook('onSend', (request, reply, payload, done) => {
      if (stopping && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
      done(null, payload);
    });
    app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
      logger: new PinoLoggerService(logger),
      abortOnError: false,
    });
  } catch (err) {
    if (err instanceof InvalidEnvironmentError) {
      logger.fatal(err.message);
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  app.useGlobalFilters(errorFilter);
  app.useGlobalPipes(createValidationPipe());
  await opts.configure?.(app);

  const { port, managementPort } = settings.http;
  const grace = settings.app.shutdownGraceMs;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Kubernetes stops routing once readiness fails; give it a moment, then close. A hard deadline
      // keeps a stuck dependency from holding the pod forever.
      markShuttingDown();
      stopping = true;
      setTimeout(() => process.exit(1), grace).unref();
      logger.info({ signal }, 'shutting down');
      void app
        .close()
        .then(() => shutdownTracing()) // flush the last spans
        .then(() => process.exit(0));
    });
  }
  if (opts.eventTransport) {
    app.connectMicroservice<MicroserviceOptions>({ strategy: app.get(opts.eventTransport) });
    await app.startAllMicroservices();
  }
  await app.listen({ port, host: '0.0.0.0' });
  await management.listen(managementPort, '0.0.0.0');
  logger.info({ port, managementPort }, `${service} listening`);
  return app;
}

/** The app's config; a bad environment stops the process at once, every problem named (log and stderr). */
function loadConfig<C extends PlatformSections>(config: ConfigClass<C>, service: string): C {
  try {
    return config.load();
  } catch (err) {
    if (!(err instanceof InvalidEnvironmentError)) throw err;
    createLogger({ service, level: 'info' }).fatal(err.message);
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
