import type { DispositionType } from '@lib/contracts';
import { contentDisposition } from './content-disposition';

/** What a file whose stored type is not safe to serve is served as. */
const OCTET_STREAM = 'application/octet-stream';

/**
 * Media types a browser may be handed from the S3 origin or the gateway's without running anything: plain
 * text, PDF, raster images, audio, video and archives. Not HTML, SVG, XML, scripts or anything unknown,
 * which would run as a page of that origin.
 */
const SAFE_TYPES = new Set([
  'text/plain',
  'application/octet-stream',
  'application/gzip',
  'application/x-tar',
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
]);
const SAFE_TOP_LEVEL_TYPES = new Set(['audio', 'video']);

/** An RFC 9110 token: a type, a subtype, a parameter name or an unquoted value. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * The stored Content-Type as a type safe to serve, rebuilt from its parts (lower case, `charset` kept for
 * plain text when it is a token, nothing else), or null. Only what was checked goes out: a value a browser
 * would read as another type (`text/plain, text/html` is text/html to a browser) is not safe. Browsers do
 * not sniff these types into a page (text/plain only as text or binary, images among images, media among
 * media), so a URL whose response cannot carry `X-Content-Type-Options: nosniff` (a presigned GET) is as
 * safe as one that can, provided it always names one of them.
 */
export function safeContentType(stored: string | null): string | null {
  if (stored === null) return null;
  const [essence, ...params] = stored.toLowerCase().split(';');
  const [type = '', subtype = '', ...rest] = essence.trim().split('/');
  if (rest.length > 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  const mime = `${type}/${subtype}`;
  if (!SAFE_TYPES.has(mime) && !SAFE_TOP_LEVEL_TYPES.has(type)) return null;
  if (mime !== 'text/plain') return mime;
  const charset = params
    .map((param) => /^\s*charset=(.*?)\s*$/.exec(param)?.[1])
    .find((value) => value !== undefined && TOKEN.test(value));
  return charset === undefined ? mime : `${mime}; charset=${charset}`;
}

export interface DownloadHeaders {
  contentType: string;
  contentDisposition: string;
}

/**
 * The Content-Type and Content-Disposition of a public download, whether the gateway streams it or
 * redirects to a presigned GET: a safe type is served as it is, with the disposition asked for; anything
 * else as an octet-stream attachment, so an uploaded page (HTML, SVG, ...) never runs in the origin that
 * serves it.
 */
export function downloadHeaders(
  type: DispositionType,
  filename: string,
  storedType: string | null,
): DownloadHeaders {
  const safe = safeContentType(storedType);
  return {
    contentType: safe ?? OCTET_STREAM,
    contentDisposition: contentDisposition(safe === null ? 'attachment' : type, filename),
  };
}
