import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

/**
 * The routes a page on an allowed origin may call: the Objects API (`/v1/objects…`), the `/api/v1/…` API
 * (flows, uploads, resources, downloads, storage usage) and org storage (`/api/private/…`, whose org private
 * key in `api-key` a browser holds only in an org's own tools). Not the docs, the probes nor, on the
 * management port, the operator API: they get no CORS headers.
 */
export const CORS_PATH_PREFIXES = ['/v1/', '/api/v1/', '/api/private/'] as const;

/** Request headers the public API's clients send, besides the safelisted ones. */
export const CORS_ALLOWED_HEADERS = ['authorization', 'content-type', 'api-key', 'x-request-id'];

/** Response headers a page may read, besides the safelisted ones (`content-type`, `content-length`…). */
export const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'etag',
  'content-disposition',
  'content-range',
  'accept-ranges',
  'retry-after',
];

const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** A browser caches a preflight's answer this long (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Whether the request's path is one of the public API's (`CORS_PATH_PREFIXES`). */
export function isCorsPath(url: string): boolean {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return CORS_PATH_PREFIXES.some(
    (prefix) => path.startsWith(prefix) || path === prefix.slice(0, -1),
  );
}

/**
 * The CORS options of one request: its origin when it is one of `origins` and its path one of the public
 * API's, else none (`origin: false`: no CORS headers at all, and a preflight gets the 404 of an unknown
 * route).
 */
export function corsOptionsFor(
  origins: ReadonlySet<string>,
  request: Pick<FastifyRequest, 'url' | 'headers'>,
): FastifyCorsOptions {
  const origin = request.headers.origin;
  if (origin === undefined || !origins.has(origin) || !isCorsPath(request.url)) {
    return { origin: false };
  }
  return {
    origin,
    methods: CORS_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    credentials: false,
  };
}

/**
 * CORS for the pages of `origins` (`CORS_ALLOWED_ORIGINS`) on the public API; nothing when there are none.
 *
 * Preflights are answered (204) in a global `onRequest` hook, which runs before the routes' own hooks:
 * before authentication (`authenticateBeforeBody`), so a preflight, which carries no credential, never gets
 * a 401. Actual requests get `Access-Control-Allow-Origin` in the same hook, so their errors (a 401, a 413)
 * carry it too and the page can read them.
 */
export async function applyCors(
  app: NestFastifyApplication,
  origins: readonly string[],
): Promise<void> {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  await app.register(fastifyCors, {
    hook: 'onRequest',
    delegator: (request, callback) => callback(null, corsOptionsFor(allowed, request)),
  });
}
