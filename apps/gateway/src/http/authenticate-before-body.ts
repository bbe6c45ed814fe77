import { AuthGuard, authSurfaceOf } from '@lib/auth';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { constants, Http2ServerRequest } from 'node:http2';

/**
 * Authenticates each route that needs a credential (`@Authenticated`, `@OperatorOnly`) in its Fastify
 * `onRequest` hook, before the body is read: a request without a valid API key, private key, JWT or
 * operator token gets its 401 and its body is never parsed nor buffered, whatever its size. The check is
 * the guard's own (`AuthGuard.authenticate`), which puts the caller on the request; the guard, run later by
 * Nest, finds it there and checks the route's role, capabilities and workflow scope as before.
 *
 * The client of a refused request is told to stop sending its body rather than the gateway reading and
 * dropping it (`stopBodyAfterAnswer`), as Fastify does for a body over the limit. Public routes get no hook.
 */
export function authenticateBeforeBody(app: NestFastifyApplication): void {
  const guard = app.get(AuthGuard);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      const surface = authSurfaceOf(route.handler);
      if (!surface) return;
      const authenticate: onRequestHookHandler = (request, reply, done) => {
        guard.authenticate(request, surface).then(
          () => done(),
          (err: Error) => {
            stopBodyAfterAnswer(request, reply);
            done(err);
          },
        );
      };
      route.onRequest = [...asArray(route.onRequest), authenticate];
    });
}

/**
 * A body announced this small is read and dropped after the answer (Node discards it, nothing is kept):
 * the connection stays open, and a client still writing it is not cut off before it reads its 401.
 */
const DRAINED_BODY_BYTES = 64 * 1024;

/**
 * The client of a refused request stops sending its body once it has the answer: an HTTP/1.1 connection
 * closes after it (`Connection: close`) unless its body is announced at most `DRAINED_BODY_BYTES`; an
 * HTTP/2 stream is reset with NO_ERROR after it (RFC 9113, 8.1), which leaves the session and its other
 * streams alone.
 */
function stopBodyAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  const { raw } = request;
  if (raw instanceof Http2ServerRequest) {
    reply.raw.once('finish', () => raw.stream.close(constants.NGHTTP2_NO_ERROR));
    return;
  }
  // No Content-Length and no Transfer-Encoding: no body.
  const announced = Number(raw.headers['content-length'] ?? 0);
  const small = raw.headers['transfer-encoding'] === undefined && announced <= DRAINED_BODY_BYTES;
  if (!small) reply.header('connection', 'close');
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
