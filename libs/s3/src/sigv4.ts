/**
 * AWS Signature Version 4 primitives, as S3 applies them.
 *
 * Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 *
 * A signature is computed in four steps:
 *   1. the canonical request: method, canonical URI, canonical query string, canonical headers,
 *      the list of signed headers and the payload hash, one per line;
 *   2. the string to sign: algorithm, request date-time, credential scope and the SHA-256 of the
 *      canonical request, one per line;
 *   3. the signing key: an HMAC chain over the secret, the date, the region, the service and the
 *      terminator `aws4_request` (it only changes once a day, so it is cached);
 *   4. the signature: hex HMAC-SHA256 of the string to sign with the signing key.
 *
 * These functions are used both by the presigner (libs/s3) and by the verifying local S3
 * (tools/local-s3). The presigner is unit-tested for byte equality with the AWS SDK.
 */
import { createHmac, hash } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const SIGV4_TERMINATOR = 'aws4_request';
/** Payload hash placeholder for bodies that are not hashed (presigned URLs, streamed uploads). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of the empty string. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) unescaped; RFC 3986 (and SigV4) only
// leaves the unreserved set A-Z a-z 0-9 - _ . ~, so the five others are escaped afterwards.
const SUB_DELIMS = /[!'()*]/g;
const HAS_SUB_DELIM = /[!'()*]/;
const escapeSubDelim = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

/**
 * URI-encodes a string the SigV4 way: every byte of its UTF-8 form except the unreserved
 * characters (A-Z a-z 0-9 - _ . ~) becomes %XX with upper-case hex. `/` is kept only when
 * `keepSlash` is true (object key paths); query names and values encode it.
 *
 * Throws URIError for strings that are not well-formed UTF-16 (lone surrogates).
 */
export function uriEncode(value: string, keepSlash = false): string {
  let encoded = encodeURIComponent(value);
  // Most keys have none of these: testing first skips the replace (this is on the presign path).
  if (HAS_SUB_DELIM.test(encoded)) encoded = encoded.replace(SUB_DELIMS, escapeSubDelim);
  if (keepSlash && encoded.includes('%2F')) encoded = encoded.replaceAll('%2F', '/');
  return encoded;
}

/**
 * Canonical URI of an S3 object or bucket path, built from decoded parts: each key is encoded
 * with `uriEncode(key, true)` (S3 does not normalize paths: `//`, `.` and `..` stay as they are,
 * and the path is encoded exactly once, unlike other AWS services).
 *
 * `basePath` is an already encoded prefix (for example an endpoint's path), without trailing `/`.
 */
export function canonicalObjectPath(basePath: string, ...decodedParts: string[]): string {
  let path = basePath;
  for (const part of decodedParts) path += '/' + uriEncode(part, true);
  return path === '' ? '/' : path;
}

/**
 * Canonical URI from a path as it arrives on the wire (still percent-encoded): each segment is
 * decoded and re-encoded with the SigV4 rules, so `%7E` and `~`, or `%2b` and `%2B`, canonicalize
 * alike. Throws URIError on malformed percent-encoding.
 */
export function canonicalUriFromRawPath(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
}

/** One query parameter, decoded. A parameter with no `=` has the value ''. */
export type QueryParam = readonly [name: string, value: string];

/**
 * Canonical query string: names and values SigV4-encoded, sorted by encoded name then by encoded
 * value (plain code-unit order, which equals byte order for the ASCII output of the encoding),
 * joined as `name=value` with `&`. Parameters without a value still get `=`.
 */
export function canonicalQueryString(params: Iterable<QueryParam>): string {
  const encoded: Array<[string, string]> = [];
  for (const [name, value] of params) encoded.push([uriEncode(name), uriEncode(value)]);
  encoded.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * Parses a raw query string (without `?`) into decoded parameters, in order. `+` is kept as a
 * literal plus (SigV4 clients encode spaces as %20). Throws URIError on malformed encoding.
 */
export function parseRawQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = eq === -1 ? piece : piece.slice(0, eq);
    const value = eq === -1 ? '' : piece.slice(eq + 1);
    params.push([decodeURIComponent(name), decodeURIComponent(value)]);
  }
  return params;
}

/** Trims a header value and collapses runs of spaces/tabs into one space (SigV4 header rule). */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/[ \t]+/g, ' ');
}

export interface CanonicalHeaders {
  /** `name:value\n` for each signed header, sorted by name (ends with a newline). */
  canonical: string;
  /** Sorted lower-case names joined with `;`. */
  signedHeaders: string;
}

/**
 * Canonical headers for the given signed header names. `lookup` returns all values sent for a
 * lower-case header name (several when the header was repeated) or undefined when absent; repeated
 * values are joined with `,`. An absent signed header contributes an empty value, which then
 * simply fails verification.
 */
export function canonicalHeaders(
  signedHeaderNames: readonly string[],
  lookup: (lowerCaseName: string) => readonly string[] | undefined,
): CanonicalHeaders {
  const names = signedHeaderNames.map((n) => n.toLowerCase()).sort(compare);
  let canonical = '';
  for (const name of names) {
    const values = lookup(name) ?? [];
    canonical += `${name}:${values.map(canonicalHeaderValue).join(',')}\n`;
  }
  return { canonical, signedHeaders: names.join(';') };
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  /** From `canonicalHeaders()`: ends with a newline. */
  canonicalHeaders: string;
  signedHeaders: string;
  /** Hex SHA-256 of the body, or UNSIGNED-PAYLOAD / STREAMING-* markers. */
  payloadHash: string;
}

/** The canonical request text (step 1). */
export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    parts.canonicalUri,
    parts.canonicalQuery,
    parts.canonicalHeaders, // ends with '\n', so the join leaves the required blank line
    parts.signedHeaders,
    parts.payloadHash,
  ].join('\n');
}

/** `YYYYMMDD/region/service/aws4_request`. */
export function credentialScope(shortDate: string, region: string, service: string): string {
  return `${shortDate}/${region}/${service}/${SIGV4_TERMINATOR}`;
}

/** The string to sign (step 2). `amzDate` is `YYYYMMDDTHHMMSSZ`. */
export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequestText)}`;
}

/** Derives the signing key (step 3): HMAC chain over date, region, service and terminator. */
export function deriveSigningKey(
  secretAccessKey: string,
  shortDate: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, shortDate);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, SIGV4_TERMINATOR);
}

/**
 * Caches signing keys per (secret, date, region, service). Keys change once a day, so a handful of
 * entries suffice; the oldest entry is dropped past `maxEntries`.
 */
export class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly maxEntries = 50) {}

  get(secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
    const id = `${shortDate}\n${region}\n${service}\n${secretAccessKey}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      key = deriveSigningKey(secretAccessKey, shortDate, region, service);
      if (this.keys.size >= this.maxEntries) {
        const oldest = this.keys.keys().next();
        if (oldest.done !== true) this.keys.delete(oldest.value);
      }
      this.keys.set(id, key);
    }
    return key;
  }
}

/** The signature (step 4): hex HMAC-SHA256 of the string to sign. */
export function signature(signingKey: Buffer, stringToSignText: string): string {
  return createHmac('sha256', signingKey).update(stringToSignText, 'utf8').digest('hex');
}

/** `YYYYMMDDTHHMMSSZ` for a date (UTC, seconds precision). */
export function toAmzDate(date: Date): string {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.000Z
  return (
    iso.slice(0, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    'T' +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19) +
    'Z'
  );
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `YYYYMMDDTHHMMSSZ`; undefined when malformed. */
export function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex'); // one-shot: about twice as fast as createHash for short input
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
