/** A user's role in their organization. */
export type Role = 'admin' | 'member';

/** How the caller proved who they are. */
export type AuthVia = 'jwt' | 'api_key' | 'org_key';

/**
 * Who is calling, resolved by the `AuthGuard` and read with `@CurrentPrincipal()`. Services take the org
 * from here, never from the request body or path, so a tenant can only name its own data.
 */
export interface Principal {
  orgId: string;
  orgKey: string;
  /** The user behind a JWT or a user-bound API key; null for org-wide keys. */
  userId: string | null;
  /** The user's role; null when no user is involved (org-wide keys). */
  role: Role | null;
  via: AuthVia;
  /** The API key used (bearer or org private key); null for JWTs. */
  apiKeyId: string | null;
  /** The org's capabilities at authentication time, e.g. `objects`. */
  capabilities: string[];
  /** A JWT scoped to one workflow (`workflow_id` claim); absent otherwise. */
  workflowId?: string | null;
}

/** Org capabilities the code checks. Stored as text, so adding one needs no migration. */
export const Capability = {
  /** The Objects API ("devbox capability"); on by default for new orgs. */
  Objects: 'objects',
} as const;

export const DEFAULT_CAPABILITIES: readonly string[] = [Capability.Objects];

export { ORG_KEY_PATTERN } from '@lib/contracts';
