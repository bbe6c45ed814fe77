import { INestApplication, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidEnvironmentError } from '@lib/config';
import { createValidationPipe, ErrorEnvelope, HttpErrorFilter } from '@lib/errors';
import {
  createLogger,
  fastifyLoggingOptions,
  installRequestContext,
  markShuttingDown,
  PinoLoggerService,
  shutdownTracing,
} from '@lib/observability';

const MAX_PARAM_LENGTH = 2048;

export interface ServiceOptions {
  /** The app's name: log field, metric label, Kafka client id and consumer group. */
  service: string;
  /** Largest JSON body accepted (Fastify answers 413 past it). */
  bodyLimitBytes?: number;
  /** Per URL prefix error envelopes (seed 004's `/api/private` wants `{success: false, error}`). */
  errorEnvelopes?: { prefix: string; envelope: ErrorEnvelope }[];
  /**
   * Fastify's `trustProxy`: which proxies' `X-Forwarded-For` sets the client address (`request.ip`), e.g. a
   * hop count or a list of addresses/CIDRs. Default: none (the socket's peer is the client).
   */
  trustProxy?: number | string;
  /** `/a/` routes like `/a` (seed 004 documents its list route as `GET /api/private/storage/`). */
  ignoreTrailingSlash?: boolean;
  /** Last touches before listening, e.g. the gateway's OpenAPI document. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Starts one app of the platform the same way everywhere: Fastify, JSON logs with request and trace ids, the
 * JSON error filter, the strict validation pipe, and a graceful SIGTERM (readiness turns 503 first, in-flight
 * requests finish, consumers and workers close through Nest's shutdown hooks).
 */
export async function bootstrapService(
  module: Type<unknown>,
  opts: ServiceOptions,
): Promise<INestApplication> {
  const logger = createLogger({ service: opts.service, level: process.env.LOG_LEVEL ?? 'info' });
  let app: NestFastifyApplication;
  let stopping = false;
  const errorFilter = new HttpErrorFilter(opts.errorEnvelopes);
  try {
    const adapter = new FastifyAdapter({
      ...fastifyLoggingOptions(logger),
      bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
      ...(opts.trustProxy !== undefined ? { trustProxy: opts.trustProxy } : {}),
      // Path parameters may be long (a 256-byte metadata key is up to 768 characters encoded).
      maxParamLength: MAX_PARAM_LENGTH,
      ignoreTrailingSlash: opts.ignoreTrailingSlash ?? false,
      // Fastify's default ('idle') closes every connection on close, in-flight requests included (their
      // clients saw "other side closed"): connections are left to end after their response (below).
      forceCloseConnections: false,
      frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
        errorFilter.send(error, request, reply),
      clientErrorHandler: (error, socket) => errorFilter.clientError(error, socket),
    });
    installRequestContext(adapter.getInstance());
    // While stopping, each answer closes its keep-alive connection: in-flight requests finish, and the
    // server's close does not wait for idle clients' keep-alive timeouts.
    adapter.getInstance().addHook('onSend', (_request, reply, payload, done) => {
      if (stopping) reply.header('connection', 'close');
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

  const config = app.get(ConfigService);
  const port = Number(config.get('PORT', { infer: true }));
  const grace = Number(config.get('SHUTDOWN_GRACE_SECONDS', { infer: true }) ?? 20) * 1000;
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
  await app.listen({ port, host: '0.0.0.0' });
  logger.info({ port }, `${opts.service} listening`);
  return app;
}
