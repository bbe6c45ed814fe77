import { DependencyUnavailableException } from '@lib/errors';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import { AuthenticationFailedException, AuthFailure } from './auth.exception';
import type { VerifiedJwt } from './jwt-claims';

export interface JwtVerifierOptions {
  /** Shared secret for HS256 (local and dev). Exactly one of `hs256Secret` and `jwksUrl`. */
  hs256Secret?: string;
  /**
   * JWKS endpoint of a production IdP; tokens are RS256. https, or http to a loopback address only
   * (`jwksUrlProblem`); `issuer` and `audience` are then required.
   */
  jwksUrl?: string;
  /** When set, the `iss` claim must equal it. */
  issuer?: string;
  /** When set, the `aud` claim must contain it. */
  audience?: string;
  /**
   * Longest life of a token: one whose `exp` is further than this from its `iat` or from now is refused.
   * Default `DEFAULT_JWT_MAX_LIFETIME_SECONDS`.
   */
  maxLifetimeSeconds?: number;
  /** Allowed clock skew between the issuer and us. Default 5 s. */
  clockToleranceSeconds?: number;
  /** Timeout of one JWKS fetch. Default 3 s. */
  jwksTimeoutMs?: number;
}

/** The auth variables of the environment, as the gateway's env class holds them. */
export interface JwtEnv {
  JWT_SECRET?: string;
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  JWT_MAX_LIFETIME_SECONDS?: number;
}

export const MIN_HS256_SECRET_LENGTH = 32;

/** A token lives at most a day unless `JWT_MAX_LIFETIME_SECONDS` says otherwise. */
export const DEFAULT_JWT_MAX_LIFETIME_SECONDS = 24 * 3600;

/**
 * Why `url` cannot be the JWKS URL, or undefined when it can: https, or plain http to a literal loopback
 * address (127.0.0.0/8, [::1]: a key set served on the same host, as in tests), which no network path
 * can alter. Keys fetched over plain http from elsewhere could be replaced in transit, and with them
 * every token.
 */
export function jwksUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an https URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  const loopback = /^127(\.\d{1,3}){3}$/.test(parsed.hostname) || parsed.hostname === '[::1]';
  if (parsed.protocol === 'http:' && loopback) return undefined;
  return 'must be an https URL (plain http only to a loopback address)';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BEARER_MESSAGE = 'send `Authorization: Bearer <api key or JWT>`';

/**
 * Verifies the platform's JWTs: HS256 with a shared secret, or RS256 against a remote JWKS (fetched
 * lazily, cached, refetched when an unknown `kid` shows up). Every failure is a 401 whose message says
 * what is wrong; a JWKS that cannot be fetched is a 503 (the token may well be fine).
 */
export class JwtVerifier {
  readonly algorithm: 'HS256' | 'RS256';
  private readonly hmacKey?: Uint8Array;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;
  private readonly verifyOptions: JWTVerifyOptions & { clockTolerance: number };
  private readonly maxLifetimeSeconds: number;

  constructor(private readonly options: JwtVerifierOptions) {
    if (Boolean(options.hs256Secret) === Boolean(options.jwksUrl)) {
      throw new Error('JwtVerifier needs exactly one of hs256Secret (HS256) and jwksUrl (RS256)');
    }
    this.maxLifetimeSeconds = options.maxLifetimeSeconds ?? DEFAULT_JWT_MAX_LIFETIME_SECONDS;
    if (options.hs256Secret) {
      if (options.hs256Secret.length < MIN_HS256_SECRET_LENGTH) {
        throw new Error(`The HS256 secret must be at least ${MIN_HS256_SECRET_LENGTH} characters`);
      }
      this.algorithm = 'HS256';
      this.hmacKey = new TextEncoder().encode(options.hs256Secret);
    } else {
      const problem = jwksUrlProblem(options.jwksUrl!);
      if (problem) throw new Error(`The JWKS URL ${problem}`);
      if (!options.issuer || !options.audience) {
        throw new Error(
          "RS256 through a JWKS needs the issuer and the audience: every token's iss and aud are checked",
        );
      }
      this.algorithm = 'RS256';
      this.jwks = createRemoteJWKSet(new URL(options.jwksUrl!), {
        timeoutDuration: options.jwksTimeoutMs ?? 3_000,
        // An unknown kid triggers a refetch at most this often, so junk tokens cannot hammer the IdP.
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
    }
    this.verifyOptions = {
      algorithms: [this.algorithm],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['exp'],
    };
  }

  static fromEnv(env: JwtEnv): JwtVerifier {
    return new JwtVerifier({
      hs256Secret: env.JWT_SECRET || undefined,
      jwksUrl: env.JWT_JWKS_URL || undefined,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
      maxLifetimeSeconds: env.JWT_MAX_LIFETIME_SECONDS,
    });
  }

  /** Checks signature, algorithm, expiry and lifetime, issuer/audience and the platform's claims. */
  async verify(token: string): Promise<VerifiedJwt> {
    this.checkHeader(token);
    let payload: JWTPayload;
    try {
      payload = this.hmacKey
        ? (await jwtVerify(token, this.hmacKey, this.verifyOptions)).payload
        : (await jwtVerify(token, this.jwks!, this.verifyOptions)).payload;
    } catch (e) {
      throw this.translate(e);
    }
    return this.checkClaims(payload);
  }

  private checkHeader(token: string): void {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AuthenticationFailedException(
        AuthFailure.MalformedToken,
        `Malformed JWT: its header is not valid base64url JSON; ${BEARER_MESSAGE}`,
      );
    }
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      throw new AuthenticationFailedException(
        AuthFailure.AlgorithmNotAllowed,
        "Unsigned JWTs (alg 'none') are not accepted",
      );
    }
    if (alg !== this.algorithm) {
      throw new AuthenticationFailedException(
        AuthFailure.AlgorithmNotAllowed,
        `JWT algorithm '${String(alg)}' is not accepted; this gateway accepts ${this.algorithm} only`,
      );
    }
  }

  private translate(e: unknown): Error {
    const fail = (reason: AuthFailure, message: string) =>
      new AuthenticationFailedException(reason, message);
    if (e instanceof errors.JWTExpired) {
      const exp = typeof e.payload.exp === 'number' ? new Date(e.payload.exp * 1000) : null;
      return fail(
        AuthFailure.TokenExpired,
        exp ? `JWT expired at ${exp.toISOString()}` : 'JWT has expired',
      );
    }
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.claim === 'nbf')
        return fail(AuthFailure.TokenNotYetValid, 'JWT is not valid yet (nbf)');
      if (e.reason === 'missing') {
        return fail(AuthFailure.MalformedToken, `JWT is missing the '${e.claim}' claim`);
      }
      const expected =
        e.claim === 'iss' ? this.options.issuer : e.claim === 'aud' ? this.options.audience : null;
      return fail(
        AuthFailure.ClaimMismatch,
        expected
          ? `JWT '${e.claim}' claim does not match; expected '${expected}'`
          : `JWT '${e.claim}' claim is invalid: ${e.message}`,
      );
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) {
      return fail(AuthFailure.BadSignature, 'JWT signature is invalid');
    }
    if (e instanceof errors.JWKSNoMatchingKey) {
      return fail(
        AuthFailure.BadSignature,
        "JWT signature cannot be verified: no key in the issuer's JWKS matches its 'kid'",
      );
    }
    if (e instanceof errors.JWKSMultipleMatchingKeys) {
      return fail(
        AuthFailure.MalformedToken,
        "JWT has no 'kid' header and the issuer's JWKS holds several keys",
      );
    }
    if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) {
      return fail(
        AuthFailure.AlgorithmNotAllowed,
        `JWT algorithm is not accepted; this gateway accepts ${this.algorithm} only`,
      );
    }
    if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) {
      return fail(AuthFailure.MalformedToken, `Malformed JWT: ${e.message}`);
    }
    // Anything else in RS256 mode comes from fetching the JWKS (timeout, connection refused, non-200).
    if (this.jwks) {
      return new DependencyUnavailableException(
        'Cannot verify the JWT right now: the identity provider key set (JWKS) is unreachable',
      );
    }
    return e instanceof Error ? e : new Error(String(e));
  }

  /**
   * Refuses a token that lives longer than `maxLifetimeSeconds`: by its own account (`exp - iat`), or from
   * now (`exp - now`, beyond the clock tolerance), so that a token without `iat` or with a false one is held
   * to the same bound.
   */
  private checkLifetime(exp: number, iat: number | undefined): void {
    const max = this.maxLifetimeSeconds;
    const tooLong = (why: string) =>
      new AuthenticationFailedException(
        AuthFailure.TokenLifetimeTooLong,
        `JWT lives too long: ${why}; a token may live at most ${max} s`,
      );
    if (iat !== undefined && exp - iat > max) {
      throw tooLong(`its 'exp' is ${exp - iat} s after its 'iat'`);
    }
    const left = exp - Math.floor(Date.now() / 1000);
    if (left > max + this.verifyOptions.clockTolerance) {
      throw tooLong(`it expires in ${left} s`);
    }
  }

  private checkClaims(payload: JWTPayload): VerifiedJwt {
    const bad = (claim: string, what: string) =>
      new AuthenticationFailedException(
        AuthFailure.MalformedToken,
        `JWT claim '${claim}' must be ${what}`,
      );
    const { sub, exp, iat } = payload;
    this.checkLifetime(exp!, iat);
    const org = payload['org'];
    const orgKey = payload['org_key'];
    const role = payload['role'];
    if (typeof sub !== 'string' || !UUID.test(sub)) throw bad('sub', 'the user id (a UUID)');
    if (typeof org !== 'string' || !UUID.test(org)) throw bad('org', 'the org id (a UUID)');
    if (typeof orgKey !== 'string' || orgKey === '') throw bad('org_key', 'the org key');
    if (role !== 'admin' && role !== 'member') throw bad('role', "'admin' or 'member'");
    const workflowId = payload['workflow_id'];
    if (workflowId !== undefined && (typeof workflowId !== 'string' || workflowId === '')) {
      throw bad('workflow_id', 'a workflow id when present');
    }
    return {
      sub,
      org,
      org_key: orgKey,
      role,
      exp: exp!,
      ...(workflowId === undefined ? {} : { workflow_id: workflowId }),
    };
  }
}
