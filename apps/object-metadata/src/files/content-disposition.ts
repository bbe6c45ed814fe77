import type { DispositionType } from '@lib/contracts';

/** RFC 5987 attr-char: what `filename*` may carry unencoded. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+.^_`|~-]/;

function encodeRfc5987(value: string): string {
  let out = '';
  for (const ch of value) {
    if (ATTR_CHAR.test(ch)) out += ch;
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A `Content-Disposition` value for any file name (RFC 6266): `filename` is a quoted ASCII fallback (every
 * other character, quotes, backslashes, `%` and controls become `_`) and `filename*` the exact UTF-8 name,
 * percent-encoded. Path separators are dropped to the last segment, so a name never suggests a directory.
 */
export function contentDisposition(type: DispositionType, filename: string): string {
  const base = filename.split(/[/\\]/).pop() || 'download';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '');
  const name = clean.trim() === '' ? 'download' : clean;
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const value = `${type}; filename="${ascii}"`;
  return ascii === name ? value : `${value}; filename*=UTF-8''${encodeRfc5987(name)}`;
}
