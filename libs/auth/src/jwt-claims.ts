import type { Role } from './principal';

/** The claims this platform puts in, and requires of, a JWT. */
export interface PlatformJwtClaims {
  /** The user id (UUID). */
  sub: string;
  /** The org id (UUID). */
  org: string;
  /** The org's stable key (slug). */
  org_key: string;
  role: Role;
  /** Optional: a session scoped to one workflow (resource URLs of other workflows are denied). */
  workflow_id?: string;
}

export interface VerifiedJwt extends PlatformJwtClaims {
  /** Expiry, seconds since the epoch. */
  exp: number;
}
