import { AppEnv, validateEnv } from '@lib/config';
import { WithAuth } from './auth.env';

class TestEnv extends WithAuth(AppEnv) {}
const validate = validateEnv(TestEnv);
const base = { PORT: '3000', MANAGEMENT_PORT: '3100', OPERATOR_TOKEN: 'o'.repeat(32) };
const secret = 's'.repeat(32);
const jwks = {
  JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
  JWT_ISSUER: 'https://idp.example/',
  JWT_AUDIENCE: 'platform',
};

describe('WithAuth', () => {
  it('should accept JWT_SECRET alone, or JWT_JWKS_URL with its issuer and audience', () => {
    expect(validate({ ...base, JWT_SECRET: secret }).JWT_SECRET).toBe(secret);
    expect(validate({ ...base, ...jwks, JWT_SECRET: '' })).toMatchObject(jwks);
  });

  it('should refuse when both or neither of JWT_SECRET and JWT_JWKS_URL are set', () => {
    expect(() => validate(base)).toThrow(/exactly one of JWT_SECRET/);
    expect(() => validate({ ...base, ...jwks, JWT_SECRET: secret })).toThrow(
      /exactly one of JWT_SECRET/,
    );
  });

  it('should require JWT_ISSUER and JWT_AUDIENCE with JWT_JWKS_URL', () => {
    expect(() => validate({ ...base, ...jwks, JWT_ISSUER: undefined })).toThrow(
      /JWT_ISSUER is required with JWT_JWKS_URL/,
    );
    expect(() => validate({ ...base, ...jwks, JWT_AUDIENCE: '' })).toThrow(
      /JWT_AUDIENCE is required with JWT_JWKS_URL/,
    );
    // With JWT_SECRET they stay optional.
    expect(validate({ ...base, JWT_SECRET: secret }).JWT_ISSUER).toBeUndefined();
  });

  it('should refuse a JWKS URL that is not https, unless it names a loopback address', () => {
    expect(() => validate({ ...base, ...jwks, JWT_JWKS_URL: 'http://idp.example/jwks' })).toThrow(
      /JWT_JWKS_URL must be an https URL \(plain http only to a loopback address\)/,
    );
    expect(() => validate({ ...base, ...jwks, JWT_JWKS_URL: 'not a url' })).toThrow(
      /JWT_JWKS_URL must be an https URL/,
    );
    expect(
      validate({ ...base, ...jwks, JWT_JWKS_URL: 'http://127.0.0.1:8080/jwks' }).JWT_JWKS_URL,
    ).toBe('http://127.0.0.1:8080/jwks');
  });

  it('should bound JWT_MAX_LIFETIME_SECONDS, a day by default', () => {
    expect(validate({ ...base, JWT_SECRET: secret }).JWT_MAX_LIFETIME_SECONDS).toBe(86_400);
    expect(
      validate({ ...base, JWT_SECRET: secret, JWT_MAX_LIFETIME_SECONDS: '900' })
        .JWT_MAX_LIFETIME_SECONDS,
    ).toBe(900);
    for (const bad of ['0', '59', String(31 * 24 * 3600), 'a day']) {
      expect(() =>
        validate({ ...base, JWT_SECRET: secret, JWT_MAX_LIFETIME_SECONDS: bad }),
      ).toThrow(/JWT_MAX_LIFETIME_SECONDS/);
    }
  });

  it('should refuse a short JWT_SECRET and a short OPERATOR_TOKEN', () => {
    expect(() => validate({ ...base, JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET must be at least 32/,
    );
    expect(() => validate({ ...base, JWT_SECRET: secret, OPERATOR_TOKEN: 'x' })).toThrow(
      /OPERATOR_TOKEN must be at least 32/,
    );
  });
});
