import { context, createContextKey, type Context } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { otelContextEnabled } from './context-mode';

/** The header a caller may send to choose its request id; every response echoes it. */
export const REQUEST_ID_HEADER = 'x-request-id';

const REQUEST_ID_KEY = createContextKey('@lib/observability request id');

// Used only without tracing: with it, the id rides in the OpenTelemetry context, since every
// active AsyncLocalStorage adds its own cost to each promise of each request.
let fallbackStorage: AsyncLocalStorage<string> | undefined;

// Anything longer or with other characters could forge log fields or blow up log volume.
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The incoming `x-request-id` when it is a sane token (1-128 chars of `[A-Za-z0-9._-]`),
 * otherwise a fresh random UUID. Header arrays (a repeated header) use their first value.
 */
export function resolveRequestId(header: string | readonly string[] | undefined): string {
  const value = typeof header === 'string' ? header : header?.[0];
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** The request id of the request (or message) being handled, if any. */
export function currentRequestId(): string | undefined {
  if (otelContextEnabled()) {
    const value = context.active().getValue(REQUEST_ID_KEY);
    return typeof value === 'string' ? value : undefined;
  }
  return fallbackStorage?.getStore();
}

/**
 * Runs `fn` with `requestId` as the current request id, e.g. per Kafka message or job, in the active
 * OpenTelemetry context or in `base` (e.g. an incoming request's server span).
 */
export function runWithRequestContext<T>(requestId: string, fn: () => T, base?: Context): T {
  if (otelContextEnabled()) {
    return context.with((base ?? context.active()).setValue(REQUEST_ID_KEY, requestId), fn);
  }
  fallbackStorage ??= new AsyncLocalStorage<string>();
  return fallbackStorage.run(requestId, fn);
}
