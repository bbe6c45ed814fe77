import { sign, verify, type KeyObject } from 'node:crypto';
import { compileClassCheck, ServicePrincipal } from '@lib/contracts';
import { DomainException } from '@lib/errors';
import {
  isServiceName,
  parsePrivateKey,
  parsePublicKeys,
  type PublicKeySet,
  type ServiceName,
} from './service-keys';

// Service tokens: every internal call carries one (`Authorization: Bearer <token>`), a JWT signed with
// Ed25519 by the calling app (`iss`) for one app (`aud`), valid two minutes, naming the org and user the call
// acts for (`principal`) when it acts for one. See docs/architecture.md, "Service credentials".

/** What a service token says. */
export interface ServiceTokenClaims {
  /** The app that signed it: the caller. */
  iss: ServiceName;
  /** The app it is for. */
  aud: ServiceName;
  /** Issued at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
  /** The org (and user) the call acts for; absent on calls that act for no org (public lookups). */
  principal?: ServicePrincipal;
}

/** How long a token signed by `ServiceTokens.sign` is valid. */
export const SERVICE_TOKEN_LIFETIME_SECONDS = 120;
/** A signer reuses a token while it has more than this left, so a token reaches its audience well alive. */
const REUSE_WHILE_SECONDS_LEFT = 60;
/** The longest lifetime a verifier accepts: a token is never a long-lived credential. */
export const MAX_SERVICE_TOKEN_LIFETIME_SECONDS = 300;
/** Clock difference tolerated between two apps. */
const CLOCK_SKEW_SECONDS = 10;
/** Tokens remembered per cache (verified ones, and signed ones per audience and principal). */
const CACHED_TOKENS = 10_000;

/** `{"alg":"EdDSA","typ":"JWT"}`: the only header a service token has. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');

/**
 * Why a service refused a call, in `details.reason` of its error. The codes are the platform's own: a
 * service answers 401 and 403 only for service credentials, so a client never sees them (ServiceClient).
 */
export const ServiceAuthFailure = {
  MissingToken: 'missing_token',
  MalformedToken: 'malformed_token',
  UnknownIssuer: 'unknown_issuer',
  BadSignature: 'bad_signature',
  WrongAudience: 'wrong_audience',
  TokenExpired: 'token_expired',
  TokenNotYetValid: 'token_not_yet_valid',
  BadPrincipal: 'bad_principal',
  CallerNotAllowed: 'caller_not_allowed',
  MissingPrincipal: 'missing_principal',
  CallerMismatch: 'caller_mismatch',
  OutsideOrg: 'outside_org',
} as const;
export type ServiceAuthFailure = (typeof ServiceAuthFailure)[keyof typeof ServiceAuthFailure];

export const SERVICE_UNAUTHORIZED = 'SERVICE_UNAUTHORIZED';
export const SERVICE_FORBIDDEN = 'SERVICE_FORBIDDEN';

/** 401: no valid service token. */
export class ServiceTokenRefusedException extends DomainException {
  constructor(
    readonly reason: ServiceAuthFailure,
    message: string,
  ) {
    super(401, SERVICE_UNAUTHORIZED, message, { reason });
  }
}

/** 403: a valid token, but not for this route (another caller, or no org where one is needed). */
export class ServiceCallForbiddenException extends DomainException {
  constructor(
    readonly reason: ServiceAuthFailure,
    message: string,
  ) {
    super(403, SERVICE_FORBIDDEN, message, { reason });
  }
}

const checkPrincipal = compileClassCheck(ServicePrincipal, { closed: true });

/** Signs `claims` with `privateKey` as they are (`ServiceTokens.sign` sets the times; tests set any). */
export function signServiceToken(privateKey: KeyObject, claims: ServiceTokenClaims): string {
  const signed = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${sign(null, Buffer.from(signed), privateKey).toString('base64url')}`;
}

/** What `ServiceTokens.fromEnv` reads (the `WithServiceTokens` variables). */
export interface ServiceTokensEnv {
  SERVICE_TOKEN_PRIVATE_KEY: string;
  SERVICE_TOKEN_PUBLIC_KEYS: string;
}

/**
 * One app's service tokens: the ones it signs for its calls, and the check of those it receives. Both ends
 * cache, as these are on every internal call of the hot paths: a token for an audience and a principal is
 * signed once and reused for a minute (~50-200 µs for an Ed25519 signature, then a map lookup), and a token
 * received is verified once and remembered until it expires.
 */
export class ServiceTokens {
  private readonly signed = new BoundedCache<{ token: string; renewAt: number }>(CACHED_TOKENS);
  private readonly verified = new BoundedCache<ServiceTokenClaims>(CACHED_TOKENS);

  constructor(
    readonly service: ServiceName,
    private readonly privateKey: KeyObject,
    private readonly publicKeys: PublicKeySet,
    /** Seconds since the epoch. */
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** From the validated environment; throws when the private key's public half is not listed as this app's. */
  static fromEnv(service: ServiceName, env: ServiceTokensEnv): ServiceTokens {
    const privateKey = parsePrivateKey(env.SERVICE_TOKEN_PRIVATE_KEY);
    return new ServiceTokens(
      service,
      privateKey,
      parsePublicKeys(env.SERVICE_TOKEN_PUBLIC_KEYS, service, privateKey),
    );
  }

  /** A token for a call to `audience`, acting for `principal` when given. */
  sign(audience: ServiceName, principal?: ServicePrincipal): string {
    const now = this.now();
    const key = principal ? `${audience}\n${principalKey(principal)}` : audience;
    const cached = this.signed.get(key);
    if (cached && now < cached.renewAt) return cached.token;
    const iat = Math.floor(now);
    const exp = iat + SERVICE_TOKEN_LIFETIME_SECONDS;
    const token = signServiceToken(this.privateKey, {
      iss: this.service,
      aud: audience,
      iat,
      exp,
      ...(principal ? { principal } : {}),
    });
    this.signed.set(key, { token, renewAt: exp - REUSE_WHILE_SECONDS_LEFT });
    return token;
  }

  /** The claims of a token signed by an app of the platform for this one, alive; else a 401 saying why. */
  verify(token: string): ServiceTokenClaims {
    const now = this.now();
    const cached = this.verified.get(token);
    if (cached) {
      if (now <= cached.exp + CLOCK_SKEW_SECONDS) return cached;
      this.verified.delete(token);
    }
    const claims = this.check(token, now);
    this.verified.set(token, claims);
    return claims;
  }

  private check(token: string, now: number): ServiceTokenClaims {
    const refuse = (reason: ServiceAuthFailure, message: string) =>
      new ServiceTokenRefusedException(reason, `Service token refused: ${message}`);
    const parts = token.split('.');
    if (parts.length !== 3) {
      throw refuse(ServiceAuthFailure.MalformedToken, 'it is not header.payload.signature');
    }
    const [header, payload, signature] = parts;
    if (header !== HEADER) {
      throw refuse(ServiceAuthFailure.MalformedToken, 'only EdDSA JWTs are service tokens');
    }
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw refuse(ServiceAuthFailure.MalformedToken, 'its payload is not base64url JSON');
    }
    const { iss, aud, iat, exp, principal } = claims ?? {};
    if (!isServiceName(iss)) {
      throw refuse(
        ServiceAuthFailure.UnknownIssuer,
        `its issuer ${JSON.stringify(iss)?.slice(0, 64)} is no app of the platform`,
      );
    }
    const data = Buffer.from(`${header}.${payload}`);
    const bytes = Buffer.from(signature, 'base64url');
    if (!this.publicKeys.get(iss)!.some((key) => verify(null, data, key, bytes))) {
      throw refuse(ServiceAuthFailure.BadSignature, `it is not signed with a key of ${iss}`);
    }
    if (aud !== this.service) {
      throw refuse(
        ServiceAuthFailure.WrongAudience,
        `it is for ${JSON.stringify(aud)?.slice(0, 64)}, not ${this.service}`,
      );
    }
    if (
      !Number.isInteger(iat) ||
      !Number.isInteger(exp) ||
      (exp as number) < (iat as number) ||
      (exp as number) - (iat as number) > MAX_SERVICE_TOKEN_LIFETIME_SECONDS
    ) {
      throw refuse(
        ServiceAuthFailure.MalformedToken,
        `iat and exp must be whole seconds, at most ${MAX_SERVICE_TOKEN_LIFETIME_SECONDS} s apart`,
      );
    }
    if (now > (exp as number) + CLOCK_SKEW_SECONDS) {
      throw refuse(
        ServiceAuthFailure.TokenExpired,
        `it expired at ${new Date((exp as number) * 1000).toISOString()}`,
      );
    }
    if ((iat as number) > now + CLOCK_SKEW_SECONDS) {
      throw refuse(ServiceAuthFailure.TokenNotYetValid, 'it is issued in the future');
    }
    if (principal !== undefined) {
      const problems = checkPrincipal(principal);
      if (problems.length > 0) {
        throw refuse(
          ServiceAuthFailure.BadPrincipal,
          `its principal is invalid: ${problems.join('; ')}`,
        );
      }
    }
    return claims as unknown as ServiceTokenClaims;
  }
}

/** Every field of a principal, in a fixed order: equal principals sign the same token. */
function principalKey(p: ServicePrincipal): string {
  return `${p.orgId}\n${p.orgKey}\n${p.userId}\n${p.role}\n${p.actor.type}\n${p.actor.id}\n${p.workflowId}`;
}

/** A map of at most `max` entries: past it, the oldest entry goes. */
class BoundedCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
