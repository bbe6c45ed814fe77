import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { GatewayConfig } from '../config/gateway.config';

/**
 * The public server's deadlines, from the gateway's `http` config: a client that takes longer than
 * `HTTP_HEADERS_TIMEOUT_MS` to send its request line and headers, or `HTTP_REQUEST_TIMEOUT_MS` to send its
 * whole request (a body dribbled a few bytes at a time), gets a JSON 408 and its connection is closed; an
 * idle keep-alive connection is closed after `HTTP_KEEP_ALIVE_TIMEOUT_MS`. Fastify alone would leave the
 * request without a deadline.
 */
export function applyServerTimeouts(
  app: NestFastifyApplication,
  http: GatewayConfig['http'],
): void {
  const server = app.getHttpServer();
  server.headersTimeout = http.headersTimeoutMs;
  server.requestTimeout = http.requestTimeoutMs;
  server.keepAliveTimeout = http.keepAliveTimeoutMs;
}
