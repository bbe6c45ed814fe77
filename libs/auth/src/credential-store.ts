import type { ApiKeyKind } from './api-key';
import type { Role } from './principal';

/** What the guard needs to know about an API key, found by the hash of the presented secret. */
export interface ApiKeyCredential {
  apiKeyId: string;
  kind: ApiKeyKind;
  orgId: string;
  orgKey: string;
  userId: string | null;
  /** The bound user's role; null for org-wide keys. */
  role: Role | null;
  capabilities: string[];
  revokedAt: Date | null;
}

/** A user as the guard sees it when a JWT names them. */
export interface UserCredential {
  orgId: string;
  orgKey: string;
  userId: string;
  role: Role;
  capabilities: string[];
}

/**
 * Where the guard resolves credentials. The lib knows no tables: the app that owns identities (the
 * gateway) implements this, with whatever caching it needs, and provides it under `CREDENTIAL_STORE`.
 */
export interface CredentialStore {
  /** The key whose secret hashes to `hash`, revoked or not; null when there is none. */
  findApiKeyByHash(hash: string): Promise<ApiKeyCredential | null>;
  /** The user `userId` if they exist and belong to org `orgId`; null otherwise. */
  findUser(orgId: string, userId: string): Promise<UserCredential | null>;
}

/** Injection token of the app's `CredentialStore`. */
export const CREDENTIAL_STORE = Symbol('CREDENTIAL_STORE');

/** Injection token of `AuthOptions`. */
export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

export interface AuthOptions {
  /** The token of `@OperatorOnly()` routes (`Authorization: Bearer <token>`). */
  operatorToken: string;
}
