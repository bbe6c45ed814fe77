import { randomBytes } from 'node:crypto';
import { ORG_KEY_PATTERN } from './internal-commands';

// S3 object keys. A key is a download capability (the public download needs nothing
// else), so every key carries a token of 192 random bits. The structure says which kind of file a key
// names, so a lookup by key knows which table to ask without trying them all.
//
// WARNING: persisted (every stored file's `object_key`) and public. Never change a format: add one.

export const OBJECT_KEY_KINDS = ['object', 'org_file', 'run_file'] as const;
export type ObjectKeyKind = (typeof OBJECT_KEY_KINDS)[number];

export type RunFileDirection = 'inputs' | 'outputs';

/** Random bytes per key token: 24 bytes = 192 bits = 32 base64url characters. */
const TOKEN_BYTES = 24;
const TOKEN = '[A-Za-z0-9_-]{32}';
const ORG_KEY = ORG_KEY_PATTERN.source.slice(1, -1); // without its anchors
/** Workflow and run ids: UUIDs, or prefixed ids such as `wf_…` (letters, digits, `_`, `-`). */
const ID = '[A-Za-z0-9_-]{1,64}';
/** A run file's name: one path segment, no `/`, no control characters, at most 255 bytes (checked apart). */
const FILENAME = '[^/\\x00-\\x1f\\x7f]+';

const PATTERNS: { kind: ObjectKeyKind; pattern: RegExp }[] = [
  { kind: 'object', pattern: new RegExp(`^(${ORG_KEY})/objects/(obj_[0-9a-f]{32})/(${TOKEN})$`) },
  { kind: 'org_file', pattern: new RegExp(`^(${ORG_KEY})/files/(${TOKEN})$`) },
  {
    kind: 'run_file',
    pattern: new RegExp(
      `^(${ORG_KEY})/workflows/(${ID})/runs/(${ID})/(inputs|outputs)/(${TOKEN})/(${FILENAME})$`,
    ),
  },
];

/**
 * A key's token where the key appears in text: a URL (an S3 request path), a URL-encoded query value, a log
 * line or an error message, its slashes plain or `%2F`. Group `before` is the text ahead of the token. The
 * token is the capability, so logs and traces blank it out (`redactSecrets` of `@lib/observability`).
 */
export const KEY_TOKEN_IN_TEXT = new RegExp(
  `(?<before>(?:/|%2[Ff])(?:objects(?:/|%2[Ff])obj_[0-9a-f]{32}|files|inputs|outputs)(?:/|%2[Ff]))` +
    `${TOKEN}(?![A-Za-z0-9_-])`,
);

/** The longest key any format produces (S3 allows 1024 bytes). */
export const OBJECT_KEY_MAX_BYTES = 1024;

export function newKeyToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** `{orgKey}/objects/{objectId}/{token}`: an Objects API object. */
export function objectsApiKey(orgKey: string, objectId: string): string {
  return `${orgKey}/objects/${objectId}/${newKeyToken()}`;
}

/** `{orgKey}/files/{token}`: an org storage file; its folder path lives in metadata only. */
export function orgFileKey(orgKey: string): string {
  return `${orgKey}/files/${newKeyToken()}`;
}

/** `{orgKey}/workflows/{workflowId}/runs/{runId}/{inputs|outputs}/{token}/{filename}`: a run's file. */
export function runFileKey(
  orgKey: string,
  workflowId: string,
  runId: string,
  direction: RunFileDirection,
  filename: string,
): string {
  return `${orgKey}/workflows/${workflowId}/runs/${runId}/${direction}/${newKeyToken()}/${filename}`;
}

export interface ParsedObjectKey {
  kind: ObjectKeyKind;
  orgKey: string;
}

/** The kind and org of a well-formed key, or `null` for anything else (the caller answers 400). */
export function parseObjectKey(key: string): ParsedObjectKey | null {
  if (Buffer.byteLength(key) > OBJECT_KEY_MAX_BYTES) return null;
  for (const { kind, pattern } of PATTERNS) {
    const match = pattern.exec(key);
    if (match) return { kind, orgKey: match[1] };
  }
  return null;
}
