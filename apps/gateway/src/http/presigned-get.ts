import { DependencyUnavailableException } from '@lib/errors';
import type { Readable } from 'node:stream';
import { request } from 'undici';

/** S3's response headers passed on to a client. */
const PASSED = [
  'content-length',
  'content-range',
  'content-type',
  'content-disposition',
  'etag',
  'last-modified',
] as const;

/** What S3 answered a presigned GET: the bytes (200, or 206 for a range), or 404 / 416 with none. */
export type S3Answer =
  | {
      status: 200 | 206;
      headers: Partial<Record<(typeof PASSED)[number], string>>;
      body: Readable;
    }
  | { status: 404 | 416 };

/** Attempts of one GET (as the SDK's own calls). */
const ATTEMPTS = 3;

/**
 * Sends a GET to a presigned URL (object-metadata signs it over S3's internal endpoint) with at most one
 * byte range, as a browser would follow the redirect: the gateway holds no S3 credentials, and the body is
 * the caller's to pipe on (or destroy). No answer, a 5xx or a 429 is sent again, as the SDK retries its own
 * calls (3 attempts, 200 then 400 ms apart; the URL stays valid for a minute); any other answer, or the
 * last failure, is a 503 (a client may retry).
 */
export async function getPresigned(url: string, range: string | undefined): Promise<S3Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await getOnce(url, range);
    if (answer.status !== 'retry') return answer;
    if (attempt >= ATTEMPTS) {
      throw new DependencyUnavailableException(`S3 GET failed: ${answer.reason}`);
    }
    await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
  }
}

/** One GET: S3's answer, or `retry` with the reason (no answer, a 5xx, a 429). */
async function getOnce(
  url: string,
  range: string | undefined,
): Promise<S3Answer | { status: 'retry'; reason: string }> {
  let res;
  try {
    res = await request(url, {
      method: 'GET',
      headers: range ? { range } : {},
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
  } catch (err) {
    return { status: 'retry', reason: (err as Error).name };
  }
  if (res.statusCode === 200 || res.statusCode === 206) {
    const headers: Partial<Record<(typeof PASSED)[number], string>> = {};
    for (const name of PASSED) {
      const value = res.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    // S3 ignoring the range answers the whole object, as 200.
    return { status: res.statusCode === 206 ? 206 : 200, headers, body: res.body };
  }
  await res.body.dump();
  if (res.statusCode === 404 || res.statusCode === 416) return { status: res.statusCode };
  if (res.statusCode >= 500 || res.statusCode === 429) {
    return { status: 'retry', reason: `status ${res.statusCode}` };
  }
  throw new DependencyUnavailableException(`S3 GET failed: status ${res.statusCode}`);
}
