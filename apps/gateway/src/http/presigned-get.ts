import { DependencyUnavailableException } from '@lib/errors';
import { S3RequestError, withS3Retries } from '@lib/s3';
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
 * the caller's to pipe on (or destroy). Retried as every request the platform sends to a presigned URL
 * (`withS3Retries`: no answer, a 5xx or a 429; the URL stays valid for a minute); any other answer, or the
 * last failure, is a 503 (a client may retry).
 */
export async function getPresigned(url: string, range: string | undefined): Promise<S3Answer> {
  try {
    return await withS3Retries(() => getOnce(url, range));
  } catch (err) {
    throw new DependencyUnavailableException(
      `S3 GET failed: ${err instanceof S3RequestError ? `status ${err.status}` : (err as Error).name}`,
    );
  }
}

/** One GET: S3's answer, or an `S3RequestError` for any other status. */
async function getOnce(url: string, range: string | undefined): Promise<S3Answer> {
  const res = await request(url, {
    method: 'GET',
    headers: range ? { range } : {},
    headersTimeout: 30_000,
    bodyTimeout: 60_000,
  });
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
  throw new S3RequestError('GET', new URL(url).pathname, res.statusCode);
}
