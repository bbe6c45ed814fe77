import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { PlatformJwtClaims } from './jwt-claims';
import {
  DEFAULT_JWT_MAX_LIFETIME_SECONDS,
  type JwtEnv,
  MIN_HS256_SECRET_LENGTH,
} from './jwt-verifier';

export interface JwtIssuerOptions {
  hs256Secret: string;
  issuer?: string;
  audience?: string;
  /** Longest lifetime it signs, the verifier's (`JWT_MAX_LIFETIME_SECONDS`). Default a day. */
  maxLifetimeSeconds?: number;
}

export interface IssuedJwt {
  token: string;
  expiresAt: Date;
}

/** The largest `JWT_MAX_LIFETIME_SECONDS` may be. */
export const MAX_JWT_LIFETIME_SECONDS = 30 * 24 * 3600;

/**
 * Signs HS256 tokens with the shared secret, for local/dev use, the admin endpoint and the CLI.
 * Production tokens come from the IdP (RS256); this gateway never holds an RS256 private key.
 */
export class JwtIssuer {
  private readonly key: Uint8Array;
  /** Tokens live at most this long, as the gateway's verifier accepts them. */
  readonly maxLifetimeSeconds: number;

  constructor(private readonly options: JwtIssuerOptions) {
    if (options.hs256Secret.length < MIN_HS256_SECRET_LENGTH) {
      throw new Error(`The HS256 secret must be at least ${MIN_HS256_SECRET_LENGTH} characters`);
    }
    this.key = new TextEncoder().encode(options.hs256Secret);
    this.maxLifetimeSeconds = options.maxLifetimeSeconds ?? DEFAULT_JWT_MAX_LIFETIME_SECONDS;
  }

  /** An issuer when `JWT_SECRET` is set; null in RS256/JWKS mode, where tokens come from the IdP. */
  static fromEnv(env: JwtEnv): JwtIssuer | null {
    if (!env.JWT_SECRET) return null;
    return new JwtIssuer({
      hs256Secret: env.JWT_SECRET,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
      maxLifetimeSeconds: env.JWT_MAX_LIFETIME_SECONDS,
    });
  }

  async issue(claims: PlatformJwtClaims, expiresInSeconds = 3600): Promise<IssuedJwt> {
    if (
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds < 1 ||
      expiresInSeconds > this.maxLifetimeSeconds
    ) {
      throw new RangeError(
        `expiresInSeconds must be an integer between 1 and ${this.maxLifetimeSeconds}`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = now + expiresInSeconds;
    let jwt = new SignJWT({
      org: claims.org,
      org_key: claims.org_key,
      role: claims.role,
      ...(claims.workflow_id === undefined ? {} : { workflow_id: claims.workflow_id }),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID());
    if (this.options.issuer) jwt = jwt.setIssuer(this.options.issuer);
    if (this.options.audience) jwt = jwt.setAudience(this.options.audience);
    return { token: await jwt.sign(this.key), expiresAt: new Date(exp * 1000) };
  }
}
