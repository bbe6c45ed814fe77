import { createHash, randomBytes } from 'node:crypto';

/** `bearer`: `Authorization: Bearer` on /v1 and /api/v1. `org_private`: the `api-key` header on /api/private. */
export type ApiKeyKind = 'bearer' | 'org_private';

/**
 * WARNING: persisted in every key handed out. Never change a prefix; a new format gets a new prefix.
 * The prefix says what a leaked string is (secret scanners match on it) and lets the guard tell the
 * kinds apart before any lookup.
 */
export const API_KEY_PREFIX: Record<ApiKeyKind, string> = {
  bearer: 'sfp_live_',
  org_private: 'sfp_org_',
};

/** 32 random bytes = 256 bits, encoded base64url (43 characters). */
const SECRET_BYTES = 32;
/** Random characters kept in the visible prefix, enough to tell keys apart in a listing. */
const VISIBLE_RANDOM_CHARS = 6;
const SECRET_PATTERN = /^sfp_(live|org)_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  /** The full key. Shown once, to whoever created it; only its hash is stored. */
  secret: string;
  /** A short non-secret head of the key (`sfp_live_Ab3xY_`), safe to store and display. */
  prefix: string;
  /** Hex SHA-256 of the secret: the lookup key. */
  hash: string;
}

export function generateApiKey(kind: ApiKeyKind): GeneratedApiKey {
  const secret = API_KEY_PREFIX[kind] + randomBytes(SECRET_BYTES).toString('base64url');
  return { secret, prefix: visiblePrefix(secret, kind), hash: hashApiKey(secret) };
}

/**
 * A plain SHA-256, not a password hash (bcrypt/argon2): the secret is 256 random bits, so there is nothing
 * to brute-force and a slow hash would only slow every request. A fast hash also makes the lookup a
 * single unique-index probe.
 */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The kind a presented string claims to be by its prefix, or null when it has no known prefix. */
export function apiKeyKindOf(token: string): ApiKeyKind | null {
  if (token.startsWith(API_KEY_PREFIX.bearer)) return 'bearer';
  if (token.startsWith(API_KEY_PREFIX.org_private)) return 'org_private';
  return null;
}

/** True when the string has the exact shape of a key this platform issues. */
export function isWellFormedApiKey(token: string): boolean {
  return SECRET_PATTERN.test(token);
}

function visiblePrefix(secret: string, kind: ApiKeyKind): string {
  return secret.slice(0, API_KEY_PREFIX[kind].length + VISIBLE_RANDOM_CHARS);
}
