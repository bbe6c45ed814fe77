import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Per-request (or per-message) context that log lines pick up without threading it through calls. */
export interface RequestContext {
  readonly requestId: string;
}

/** The header a caller may send to choose its request id; every response echoes it. */
export const REQUEST_ID_HEADER = 'x-request-id';

const requestContextStorage = new AsyncLocalStorage<RequestContext>();

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
  return requestContextStorage.getStore()?.requestId;
}

/** Runs `fn` with `requestId` as the current request id, e.g. per Kafka message or job. */
export function runWithRequestContext<T>(requestId: string, fn: () => T): T {
  return requestContextStorage.run({ requestId }, fn);
}
