import './tracing';
import fastifyMultipart from '@fastify/multipart';
import { bootstrapService } from '@lib/app';
import { ErrorBody } from '@lib/errors';
import { AppModule, SERVICE } from './app.module';
import { setupOpenApi } from './docs/openapi';
import { GatewayConfig } from './config/gateway.config';
import { gatewayTls } from './config/gateway-tls';
import { authenticateBeforeBody } from './http/authenticate-before-body';
import { applyRouteBodyLimits, JSON_BODY_LIMIT_BYTES } from './http/body-limits';
import { applyCors } from './http/cors';
import { allowEmptyJsonBody } from './http/empty-json-body';
import { refuseMultipartOutsideUploads } from './http/json-only-body';
import { applyServerTimeouts } from './http/server-timeouts';

void bootstrapService(AppModule, SERVICE, GatewayConfig, (config) => ({
  // Routes that take larger JSON bodies say so with `@BodyLimit`.
  bodyLimitBytes: JSON_BODY_LIMIT_BYTES,
  // The client address of per-address rate limits, behind an ingress (validated in GatewayEnv).
  trustProxy: config.http.trustProxy,
  // The operator API answers on the management port only (MANAGEMENT_PORT), never on the public one.
  managementRoutes: ['/admin'],
  ignoreTrailingSlash: true,
  // HTTP/2 and HTTP/1.1 on the one port; TLS with GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE.
  http2: { tls: () => gatewayTls(config.http.tls) },
  // Org storage's `{success, data}` envelope for the org private API.
  errorEnvelopes: [
    {
      prefix: '/api/private/',
      envelope: ({ code, message }: ErrorBody) => ({ success: false, error: { code, message } }),
    },
  ],
  configure: async (app) => {
    allowEmptyJsonBody(app);
    // Before any route is registered: both read each route's decorators as Fastify registers it.
    applyRouteBodyLimits(app);
    authenticateBeforeBody(app);
    refuseMultipartOutsideUploads(app);
    applyServerTimeouts(app, config.http);
    // Browser pages of CORS_ALLOWED_ORIGINS (validated in GatewayEnv): preflights answered before auth.
    await applyCors(app, config.http.corsOrigins);
    // Multipart bodies are parsed as streams by the routes that take them (see StreamingUploads).
    // The byte limit is counted by StreamingUploads (413), so the parser must not truncate silently first.
    await app.register(fastifyMultipart, { throwFileSizeLimit: false });
    setupOpenApi(app);
  },
}));
