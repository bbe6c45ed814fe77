/**
 * The one byte range of a `Range` header S3 should serve, or undefined to serve the whole object. Only a
 * single `bytes=` range is honoured (`a-b`, `a-`, `-n`); anything else is ignored, as RFC 9110 allows.
 */
export function singleByteRange(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d{1,15})?-(\d{1,15})?$/.exec(header.trim());
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  if (m[1] !== undefined && m[2] !== undefined && Number(m[2]) < Number(m[1])) return undefined;
  return `bytes=${m[1] ?? ''}-${m[2] ?? ''}`;
}
