import { SetMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Largest JSON body of a route that declares no other (org storage, admin, resources, the Objects API
 * besides create): a few KiB of paths, names and ids at most. Multipart uploads count their own bytes.
 */
export const JSON_BODY_LIMIT_BYTES = 64 * 1024;

const BODY_LIMIT_KEY = 'http:body-limit';

/** The route takes JSON bodies up to `bytes` instead of `JSON_BODY_LIMIT_BYTES` (413 past it). */
export const BodyLimit = (bytes: number) => SetMetadata(BODY_LIMIT_KEY, bytes);

/**
 * Gives each route its `@BodyLimit` as Fastify's `bodyLimit` when the route is registered (Nest hands
 * Fastify the handler with its metadata). Fastify refuses a body past it with a 413 before reading more
 * than the limit (at once when `Content-Length` announces more).
 */
export function applyRouteBodyLimits(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      const bytes = Reflect.getMetadata(BODY_LIMIT_KEY, route.handler) as number | undefined;
      if (bytes !== undefined) route.bodyLimit = bytes;
    });
}
