import { AppEnv, validateEnv } from '@lib/config';
import { WithAuth } from './auth.env';

class TestEnv extends WithAuth(AppEnv) {}
const validate = validateEnv(TestEnv);
const base = { PORT: '3000', MANAGEMENT_PORT: '3100', OPERATOR_TOKEN: 'o'.repeat(32) };
const secret = 's'.repeat(32);

describe('WithAuth', () => {
  it('should accept JWT_SECRET alone or JWT_JWKS_URL alone', () => {
    expect(validate({ ...base, JWT_SECRET: secret }).JWT_SECRET).toBe(secret);
    expect(
      validate({
        ...base,
        JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
        JWT_SECRET: '',
      }).JWT_JWKS_URL,
    ).toBe('https://idp.example/.well-known/jwks.json');
  });

  it('should refuse when both or neither of JWT_SECRET and JWT_JWKS_URL are set', () => {
    expect(() => validate(base)).toThrow(/exactly one of JWT_SECRET/);
    expect(() =>
      validate({ ...base, JWT_SECRET: secret, JWT_JWKS_URL: 'https://idp.example/jwks' }),
    ).toThrow(/exactly one of JWT_SECRET/);
  });

  it('should refuse a short JWT_SECRET, a short OPERATOR_TOKEN and a bad JWKS URL', () => {
    expect(() => validate({ ...base, JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET must be at least 32/,
    );
    expect(() => validate({ ...base, JWT_SECRET: secret, OPERATOR_TOKEN: 'x' })).toThrow(
      /OPERATOR_TOKEN must be at least 32/,
    );
    expect(() => validate({ ...base, JWT_JWKS_URL: 'not a url' })).toThrow(/JWT_JWKS_URL must be/);
  });
});
