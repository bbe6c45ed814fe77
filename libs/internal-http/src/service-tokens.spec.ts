import { validateEnv } from '@lib/config';
import type { ServicePrincipal } from '@lib/contracts';
import {
  generateServiceKeys,
  parsePrivateKey,
  parsePublicKeys,
  type ServiceName,
} from './service-keys';
import {
  MAX_SERVICE_TOKEN_LIFETIME_SECONDS,
  SERVICE_TOKEN_LIFETIME_SECONDS,
  ServiceAuthFailure,
  ServiceTokenRefusedException,
  ServiceTokens,
  signServiceToken,
  type ServiceTokenClaims,
} from './service-tokens';
import { WithServiceTokens } from './service-tokens.env';

const KEYS = generateServiceKeys();
const T0 = 1_900_000_000;

const PRINCIPAL: ServicePrincipal = {
  orgId: '0190c1c4-1111-7222-8333-444455556666',
  orgKey: 'acme',
  userId: '0190c1c4-aaaa-7bbb-8ccc-dddddddddddd',
  role: 'admin',
  actor: { type: 'user', id: '0190c1c4-aaaa-7bbb-8ccc-dddddddddddd' },
  workflowId: null,
};

/** An app's tokens on a clock the test moves (seconds). */
function tokensOf(service: ServiceName, clock: { now: number }, publicKeys = KEYS.publicKeys) {
  const privateKey = parsePrivateKey(KEYS.privateKeys[service]);
  return new ServiceTokens(
    service,
    privateKey,
    parsePublicKeys(publicKeys, service, privateKey),
    () => clock.now,
  );
}

/** A token signed with `signer`'s key, with any claims (iat/exp relative to T0). */
function forged(signer: ServiceName, claims: Partial<ServiceTokenClaims>) {
  return signServiceToken(parsePrivateKey(KEYS.privateKeys[signer]), {
    iss: signer,
    aud: 'storage',
    iat: T0,
    exp: T0 + SERVICE_TOKEN_LIFETIME_SECONDS,
    ...claims,
  });
}

/** The reason of the 401 `verify` throws for `token`. */
function refusal(tokens: ServiceTokens, token: string): string {
  try {
    tokens.verify(token);
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceTokenRefusedException);
    expect((err as ServiceTokenRefusedException).status).toBe(401);
    return (err as ServiceTokenRefusedException).reason;
  }
  throw new Error('the token was accepted');
}

describe('service tokens', () => {
  const clock = { now: T0 };
  let gateway: ServiceTokens;
  let storage: ServiceTokens;

  beforeEach(() => {
    clock.now = T0;
    gateway = tokensOf('gateway', clock);
    storage = tokensOf('storage', clock);
  });

  it('should verify what another app signed for it, with the caller and the principal', () => {
    const claims = storage.verify(gateway.sign('storage', PRINCIPAL));
    expect(claims).toEqual({
      iss: 'gateway',
      aud: 'storage',
      iat: T0,
      exp: T0 + SERVICE_TOKEN_LIFETIME_SECONDS,
      principal: PRINCIPAL,
    });
    expect(storage.verify(gateway.sign('storage')).principal).toBeUndefined();
  });

  it('should reuse a token for a minute, then sign a fresh one', () => {
    const first = gateway.sign('storage', PRINCIPAL);
    clock.now = T0 + 59;
    expect(gateway.sign('storage', { ...PRINCIPAL })).toBe(first);
    expect(gateway.sign('storage', { ...PRINCIPAL, role: 'member' })).not.toBe(first);
    expect(gateway.sign('object-metadata', PRINCIPAL)).not.toBe(first);
    clock.now = T0 + 60;
    const renewed = gateway.sign('storage', PRINCIPAL);
    expect(renewed).not.toBe(first);
    expect(storage.verify(renewed).exp).toBe(T0 + 60 + SERVICE_TOKEN_LIFETIME_SECONDS);
  });

  it('should refuse a token past its expiry, also one verified before', () => {
    const token = gateway.sign('storage', PRINCIPAL);
    expect(storage.verify(token).iss).toBe('gateway');
    clock.now = T0 + SERVICE_TOKEN_LIFETIME_SECONDS + 11; // past the 10 s of clock skew
    expect(refusal(storage, token)).toBe(ServiceAuthFailure.TokenExpired);
    expect(refusal(storage, forged('gateway', { iat: T0 - 200, exp: T0 - 20 }))).toBe(
      ServiceAuthFailure.TokenExpired,
    );
  });

  it('should refuse a token issued in the future or living longer than five minutes', () => {
    expect(refusal(storage, forged('gateway', { iat: T0 + 60, exp: T0 + 120 }))).toBe(
      ServiceAuthFailure.TokenNotYetValid,
    );
    const tooLong = forged('gateway', { exp: T0 + MAX_SERVICE_TOKEN_LIFETIME_SECONDS + 1 });
    expect(refusal(storage, tooLong)).toBe(ServiceAuthFailure.MalformedToken);
  });

  it('should refuse a token for another app', () => {
    expect(refusal(storage, gateway.sign('object-metadata', PRINCIPAL))).toBe(
      ServiceAuthFailure.WrongAudience,
    );
  });

  it('should refuse a token whose principal was changed after signing', () => {
    const [header, payload, signature] = gateway.sign('storage', PRINCIPAL).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as ServiceTokenClaims;
    claims.principal!.orgId = '0190c1c4-9999-7999-8999-999999999999';
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect(refusal(storage, tampered)).toBe(ServiceAuthFailure.BadSignature);
  });

  it("should refuse a token an app signed in another app's name", () => {
    const asGateway = forged('usage-aggregator', { iss: 'gateway' }); // the usage-aggregator's key
    expect(refusal(storage, asGateway)).toBe(ServiceAuthFailure.BadSignature);
  });

  it('should refuse a token of an unknown issuer, another algorithm or no token shape', () => {
    expect(refusal(storage, forged('gateway', { iss: 'intruder' as ServiceName }))).toBe(
      ServiceAuthFailure.UnknownIssuer,
    );
    const [, payload, signature] = forged('gateway', {}).split('.');
    const none = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    expect(refusal(storage, `${none}.${payload}.`)).toBe(ServiceAuthFailure.MalformedToken);
    const hs256 = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    expect(refusal(storage, `${hs256}.${payload}.${signature}`)).toBe(
      ServiceAuthFailure.MalformedToken,
    );
    for (const junk of [
      '',
      'abc',
      'a.b',
      'a.b.c.d',
      `${forged('gateway', {}).split('.')[0]}.!!.x`,
    ]) {
      expect(refusal(storage, junk)).toBe(ServiceAuthFailure.MalformedToken);
    }
  });

  it('should refuse a validly signed token whose principal is not one', () => {
    const token = forged('gateway', { principal: { ...PRINCIPAL, orgId: 'everyone' } });
    expect(refusal(storage, token)).toBe(ServiceAuthFailure.BadPrincipal);
    const extra = forged('gateway', {
      principal: { ...PRINCIPAL, admin: true } as ServicePrincipal,
    });
    expect(refusal(storage, extra)).toBe(ServiceAuthFailure.BadPrincipal);
  });

  it('should accept either key of an app whose key is being replaced', () => {
    const next = generateServiceKeys();
    const both = `${KEYS.publicKeys},gateway:${next.publicKeys.split(',')[0].split(':')[1]}`;
    const verifier = tokensOf('storage', clock, both);
    const nextGateway = signServiceToken(parsePrivateKey(next.privateKeys.gateway), {
      iss: 'gateway',
      aud: 'storage',
      iat: T0,
      exp: T0 + 60,
    });
    expect(verifier.verify(nextGateway).iss).toBe('gateway');
    expect(verifier.verify(gateway.sign('storage')).iss).toBe('gateway');
    expect(refusal(storage, nextGateway)).toBe(ServiceAuthFailure.BadSignature);
  });
});

describe('service token keys', () => {
  it("should refuse a list without the app's own public key, or without every app", () => {
    const other = generateServiceKeys();
    const privateKey = parsePrivateKey(other.privateKeys.storage);
    expect(() => parsePublicKeys(KEYS.publicKeys, 'storage', privateKey)).toThrow(
      /does not list the public key of this app's SERVICE_TOKEN_PRIVATE_KEY as storage:/,
    );
    const withoutStorage = KEYS.publicKeys
      .split(',')
      .filter((e) => !e.startsWith('storage:'))
      .join(',');
    expect(() =>
      parsePublicKeys(withoutStorage, 'gateway', parsePrivateKey(KEYS.privateKeys.gateway)),
    ).toThrow(/names no key of storage/);
  });

  it('should name each bad variable at boot', () => {
    const validate = validateEnv(WithServiceTokens(class {}));
    expect(() => validate({})).toThrow(/SERVICE_TOKEN_PRIVATE_KEY is required/);
    expect(() =>
      validate({ SERVICE_TOKEN_PRIVATE_KEY: 'short', SERVICE_TOKEN_PUBLIC_KEYS: 'gateway:x' }),
    ).toThrow(
      /SERVICE_TOKEN_PRIVATE_KEY must be an Ed25519 private key[\s\S]*SERVICE_TOKEN_PUBLIC_KEYS must list the public key of every app/,
    );
    expect(
      validate({
        SERVICE_TOKEN_PRIVATE_KEY: KEYS.privateKeys.gateway,
        // Separators may be newlines and spaces too (a folded YAML value).
        SERVICE_TOKEN_PUBLIC_KEYS: KEYS.publicKeys.replace(/,/g, ',\n  '),
      }),
    ).toMatchObject({ SERVICE_TOKEN_PRIVATE_KEY: KEYS.privateKeys.gateway });
  });
});
