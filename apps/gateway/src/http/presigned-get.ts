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

/**
 * Sends a GET to a presigned URL (object-metadata signs it over S3's internal endpoint) with at most one
 * byte range, as a browser would follow the redirect: the gateway holds no S3 credentials, and the body is
 * the caller's to pipe on (or destroy). Any other answer, or no answer, is a 503 (a client may retry).
 */
export async function getPresigned(url: string, range: string | undefined): Promise<S3Answer> {
  let res;
  try {
    res = await request(url, {
      method: 'GET',
      headers: range ? { range } : {},
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
  } catch (err) {
    throw new DependencyUnavailableException(`S3 GET failed: ${(err as Error).name}`);
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
  throw new DependencyUnavailableException(`S3 GET failed: status ${res.statusCode}`);
}
