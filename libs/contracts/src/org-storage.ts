// Org storage: the rules of paths and names, shared by the gateway (public input) and
// object-metadata (its internal input), so both refuse the same things.
//
// A canonical path is relative: names joined by `/`, no leading or trailing `/`; the root folder is `/`
// (or an empty path). Names are Unicode in NFC: a name that NFC-normalizes to something else is refused
// rather than silently rewritten, so two visually equal names can never be two different files.

import { ValidationFailedException } from '@lib/errors';

export const ORG_STORAGE_LIMITS = {
  /** One name (file or folder): 1 to 255 UTF-8 bytes. */
  nameBytes: 255,
  /** A whole path: at most 1024 UTF-8 bytes. */
  pathBytes: 1024,
  /** Upload size: 10 MiB (org storage's documented "10 MB"); one byte more is a 413. */
  uploadBytes: 10 * 1024 * 1024,
  /** Entries per folder listing page (`limit`): 1 to 5000, default 1000. */
  list: { default: 1000, max: 5000 },
} as const;

/** The root folder as answered in responses. */
export const ORG_ROOT_PATH = '/';

/** A path checked and split: `segments` is empty for the root. */
export interface OrgPath {
  /** Canonical form: `a/b/c`, or `/` for the root. */
  path: string;
  segments: string[];
}

/** Thrown by the parsers; the message names the problem (callers turn it into a 400 naming the field). */
export class InvalidOrgPathError extends Error {}

// C0 and C1 controls, DEL, and the invisible characters that make one name look like another (bidi
// overrides and isolates, zero-width characters, BOM, line and paragraph separators), and U+FFFD, the
// replacement character a decoder leaves where the input was not valid UTF-8.
const FORBIDDEN_CHARS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffd]/u;
/** Half of a UTF-16 surrogate pair: not a character (cannot be encoded as UTF-8). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Percent-escapes (`%2e%2e`, `%252e`, `%2f`, …): a name is never decoded here, but a name that looks
// encoded would turn into something else (`..`, `a/b`) in any layer that decodes it, so none is stored.
const ENCODED_SEPARATOR = /%[0-9a-f]{2}/i;

/**
 * Checks one file or folder name; returns it unchanged (it is already canonical) or throws
 * `InvalidOrgPathError`.
 */
export function parseOrgName(name: unknown, what = 'name'): string {
  if (typeof name !== 'string') throw new InvalidOrgPathError(`${what} must be a string`);
  if (name.length === 0) throw new InvalidOrgPathError(`${what} must not be empty`);
  if (LONE_SURROGATE.test(name)) throw new InvalidOrgPathError(`${what} is not valid Unicode`);
  if (name === '.' || name === '..')
    throw new InvalidOrgPathError(`${what} must not be '.' or '..'`);
  if (name.includes('/')) throw new InvalidOrgPathError(`${what} must not contain '/'`);
  if (name.includes('\\')) throw new InvalidOrgPathError(`${what} must not contain '\\'`);
  if (FORBIDDEN_CHARS.test(name)) {
    throw new InvalidOrgPathError(`${what} must not contain control or invisible characters`);
  }
  if (ENCODED_SEPARATOR.test(name)) {
    throw new InvalidOrgPathError(`${what} must not contain percent-escapes such as %2e`);
  }
  if (name.trim() !== name || name.trim().length === 0) {
    throw new InvalidOrgPathError(`${what} must not start or end with whitespace`);
  }
  if (name.normalize('NFC') !== name) {
    throw new InvalidOrgPathError(`${what} must be in Unicode NFC form`);
  }
  if (Buffer.byteLength(name) > ORG_STORAGE_LIMITS.nameBytes) {
    throw new InvalidOrgPathError(`${what} is longer than ${ORG_STORAGE_LIMITS.nameBytes} bytes`);
  }
  return name;
}

/**
 * Checks a path (`a/b/c`; `/` or empty for the root) and splits it. Refused: absolute paths (`/a`),
 * empty segments (`a//b`, `a/`), `.` and `..`, backslashes, control characters, encoded separators,
 * non-NFC names, names over 255 bytes and paths over 1024 bytes.
 */
export function parseOrgPath(path: unknown, what = 'path'): OrgPath {
  if (path === undefined || path === null) return { path: ORG_ROOT_PATH, segments: [] };
  if (typeof path !== 'string') throw new InvalidOrgPathError(`${what} must be a string`);
  if (path === '' || path === ORG_ROOT_PATH) return { path: ORG_ROOT_PATH, segments: [] };
  if (Buffer.byteLength(path) > ORG_STORAGE_LIMITS.pathBytes) {
    throw new InvalidOrgPathError(`${what} is longer than ${ORG_STORAGE_LIMITS.pathBytes} bytes`);
  }
  if (path.startsWith('/')) {
    throw new InvalidOrgPathError(`${what} must be relative (no leading '/')`);
  }
  const segments = path.split('/');
  segments.forEach((s, i) => {
    if (s === '') throw new InvalidOrgPathError(`${what} must not have empty segments`);
    parseOrgName(s, `${what} segment ${i + 1}`);
  });
  return { path: segments.join('/'), segments };
}

/** Joins a folder path and a name into a canonical path. */
export function joinOrgPath(folder: string, name: string): string {
  return folder === ORG_ROOT_PATH || folder === '' ? name : `${folder}/${name}`;
}

/**
 * Where a folder listing page starts: after this entry. A listing is ordered folders first, then files,
 * each by name, so the last entry of a page says where the next one begins (keyset: a page costs the
 * same however deep, and entries added or removed meanwhile are neither repeated nor skipped).
 */
export interface OrgListCursor {
  type: 'folder' | 'file';
  name: string;
}

/** The opaque `cursor` a page answers as `nextCursor`: base64url of `[type, name]`. */
export function encodeOrgListCursor(after: OrgListCursor): string {
  return Buffer.from(JSON.stringify([after.type, after.name]), 'utf8').toString('base64url');
}

/** Reads a `cursor` given back by a client; throws `InvalidOrgPathError` for anything else. */
export function parseOrgListCursor(raw: unknown, what = 'cursor'): OrgListCursor {
  const invalid = () =>
    new InvalidOrgPathError(`${what} must be the nextCursor of a previous page of this listing`);
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048 || !/^[\w-]+$/.test(raw)) {
    throw invalid();
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid();
  const [type, name] = decoded as unknown[];
  if (type !== 'folder' && type !== 'file') throw invalid();
  try {
    return { type, name: parseOrgName(name, what) };
  } catch {
    throw invalid();
  }
}

/** Runs one of the parsers above on a request field: its `InvalidOrgPathError` becomes a 400 naming `field`. */
function checked<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InvalidOrgPathError) {
      throw new ValidationFailedException(err.message, [{ field, problems: [err.message] }]);
    }
    throw err;
  }
}

/** `parseOrgPath` of a request field; a 400 (`ValidationFailedException`) naming it when invalid. */
export const checkOrgPath = (value: unknown, field: string): OrgPath =>
  checked(field, () => parseOrgPath(value, field));

/** `parseOrgName` of a request field; a 400 naming it when invalid. */
export const checkOrgName = (value: unknown, field: string): string =>
  checked(field, () => parseOrgName(value, field));

/** `parseOrgListCursor` of a request field; a 400 naming it when invalid. */
export const checkOrgListCursor = (value: unknown, field: string): OrgListCursor =>
  checked(field, () => parseOrgListCursor(value, field));
