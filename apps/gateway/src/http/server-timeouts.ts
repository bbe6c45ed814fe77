import { ConfigService } from '@nestjs/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { GatewayEnv } from '../config/gateway.env';

/**
 * The public server's deadlines, from the validated settings: a client that takes longer than
 * `HTTP_HEADERS_TIMEOUT_MS` to send its request line and headers, or `HTTP_REQUEST_TIMEOUT_MS` to send its
 * whole request (a body dribbled a few bytes at a time), gets a JSON 408 and its connection is closed; an
 * idle keep-alive connection is closed after `HTTP_KEEP_ALIVE_TIMEOUT_MS`. Fastify alone would leave the
 * request without a deadline.
 */
export function applyServerTimeouts(app: NestFastifyApplication): void {
  const config = app.get<ConfigService<GatewayEnv, true>>(ConfigService);
  const server = app.getHttpServer();
  server.headersTimeout = config.get('HTTP_HEADERS_TIMEOUT_MS', { infer: true });
  server.requestTimeout = config.get('HTTP_REQUEST_TIMEOUT_MS', { infer: true });
  server.keepAliveTimeout = config.get('HTTP_KEEP_ALIVE_TIMEOUT_MS', { infer: true });
}
