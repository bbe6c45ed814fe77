import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DependencyUnavailableException } from '@lib/errors';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT, UnsecuredJWT } from 'jose';
import { AuthenticationFailedException } from './auth.exception';
import { JwtIssuer } from './jwt-issuer';
import { JwtVerifier, jwksUrlProblem } from './jwt-verifier';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const claims = {
  sub: '6f1d8c9e-54a4-4c57-9d5e-8b2a1f0c3d4e',
  org: '0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  org_key: 'acme',
  role: 'admin' as const,
};
const now = () => Math.floor(Date.now() / 1000);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function expectAuthFailure(p: Promise<unknown>, reason: string, message: RegExp) {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(AuthenticationFailedException);
  const failure = e as AuthenticationFailedException;
  expect(failure.status).toBe(401);
  expect(failure.reason).toBe(reason);
  expect(failure.message).toMatch(message);
}

function hs256(payload: Record<string, unknown>, secret = SECRET) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

describe(JwtVerifier.name, () => {
  describe('HS256', () => {
    const sut = new JwtVerifier({ hs256Secret: SECRET, clockToleranceSeconds: 0 });

    it('should return the claims when the token is valid', async () => {
      const { token } = await new JwtIssuer({ hs256Secret: SECRET }).issue(claims, 60);
      await expect(sut.verify(token)).resolves.toMatchObject(claims);
    });

    it('should refuse with token_expired when the token has expired', async () => {
      const token = await hs256({ ...claims, exp: now() - 10 });
      await expectAuthFailure(sut.verify(token), 'token_expired', /^JWT expired at \d{4}-/);
    });

    it('should refuse with bad_signature when the payload was tampered with', async () => {
      const token = await hs256({ ...claims, role: 'member', exp: now() + 60 });
      const [header, , signature] = token.split('.');
      const forged = Buffer.from(JSON.stringify({ ...claims, exp: now() + 60 })).toString(
        'base64url',
      );
      await expectAuthFailure(
        sut.verify(`${header}.${forged}.${signature}`),
        'bad_signature',
        /signature is invalid/,
      );
    });

    it('should refuse with bad_signature when signed with another secret', async () => {
      const token = await hs256({ ...claims, exp: now() + 60 }, `${SECRET}-other`);
      await expectAuthFailure(sut.verify(token), 'bad_signature', /signature is invalid/);
    });

    it('should refuse with algorithm_not_allowed when the token uses another algorithm', async () => {
      const token = await new SignJWT({ ...claims, exp: now() + 60 })
        .setProtectedHeader({ alg: 'HS512' })
        .sign(new TextEncoder().encode(SECRET.repeat(2)));
      await expectAuthFailure(
        sut.verify(token),
        'algorithm_not_allowed',
        /'HS512' is not accepted; this gateway accepts HS256 only/,
      );
    });

    it('should refuse with algorithm_not_allowed when the token is unsigned (alg none)', async () => {
      const token = new UnsecuredJWT({ ...claims, exp: now() + 60 }).encode();
      await expectAuthFailure(sut.verify(token), 'algorithm_not_allowed', /alg 'none'/);
    });

    it('should refuse with malformed_token when the token is garbage', async () => {
      await expectAuthFailure(sut.verify('abc.def.ghi'), 'malformed_token', /Malformed JWT/);
    });

    it('should refuse with malformed_token when a platform claim is missing or wrong', async () => {
      const noOrg = await hs256({
        sub: claims.sub,
        org_key: 'acme',
        role: 'admin',
        exp: now() + 60,
      });
      await expectAuthFailure(sut.verify(noOrg), 'malformed_token', /claim 'org' must be/);
      const badRole = await hs256({ ...claims, role: 'owner', exp: now() + 60 });
      await expectAuthFailure(sut.verify(badRole), 'malformed_token', /claim 'role' must be/);
    });

    it('should refuse with malformed_token when the token never expires', async () => {
      const token = await hs256({ ...claims });
      await expectAuthFailure(sut.verify(token), 'malformed_token', /missing the 'exp' claim/);
    });

    it('should refuse with token_not_yet_valid when nbf is in the future', async () => {
      const token = await hs256({ ...claims, exp: now() + 600, nbf: now() + 300 });
      await expectAuthFailure(sut.verify(token), 'token_not_yet_valid', /not valid yet/);
    });

    it('should refuse with token_lifetime_too_long a token that lives longer than the maximum', async () => {
      const strict = new JwtVerifier({
        hs256Secret: SECRET,
        maxLifetimeSeconds: 3600,
        clockToleranceSeconds: 5,
      });
      const issuedNow = now();
      // By its own account: exp - iat, whatever is left of it.
      const longIat = await hs256({ ...claims, iat: issuedNow - 3000, exp: issuedNow + 1000 });
      await expectAuthFailure(
        strict.verify(longIat),
        'token_lifetime_too_long',
        /its 'exp' is 4000 s after its 'iat'; a token may live at most 3600 s/,
      );
      // Without iat (or with a false one): exp - now.
      const farExp = await hs256({ ...claims, exp: issuedNow + 7200 });
      await expectAuthFailure(
        strict.verify(farExp),
        'token_lifetime_too_long',
        /it expires in \d+ s; a token may live at most 3600 s/,
      );
      const falseIat = await hs256({ ...claims, iat: issuedNow + 7000, exp: issuedNow + 7200 });
      await expectAuthFailure(strict.verify(falseIat), 'token_lifetime_too_long', /expires in/);
      // At the maximum, and a little past it from now within the clock tolerance: accepted.
      const atMax = await hs256({ ...claims, iat: issuedNow, exp: issuedNow + 3600 });
      await expect(strict.verify(atMax)).resolves.toMatchObject(claims);
      const skewed = await hs256({ ...claims, exp: issuedNow + 3603 });
      await expect(strict.verify(skewed)).resolves.toMatchObject(claims);
    });

    it('should refuse to issue a token longer-lived than its maximum', async () => {
      const issuer = new JwtIssuer({ hs256Secret: SECRET, maxLifetimeSeconds: 3600 });
      await expect(issuer.issue(claims, 3601)).rejects.toThrow(/between 1 and 3600/);
      const { token } = await issuer.issue(claims, 3600);
      const strict = new JwtVerifier({ hs256Secret: SECRET, maxLifetimeSeconds: 3600 });
      await expect(strict.verify(token)).resolves.toMatchObject(claims);
    });

    it('should check issuer and audience when configured', async () => {
      const strict = new JwtVerifier({ hs256Secret: SECRET, issuer: 'idp', audience: 'platform' });
      const issuer = new JwtIssuer({ hs256Secret: SECRET, issuer: 'idp', audience: 'platform' });
      await expect(strict.verify((await issuer.issue(claims, 60)).token)).resolves.toBeDefined();
      const other = new JwtIssuer({ hs256Secret: SECRET, issuer: 'idp', audience: 'elsewhere' });
      await expectAuthFailure(
        strict.verify((await other.issue(claims, 60)).token),
        'claim_mismatch',
        /'aud' claim does not match; expected 'platform'/,
      );
    });
  });

  describe('RS256 through a JWKS', () => {
    let server: Server;
    let jwksUrl: string;
    let privateKey: KeyLike;
    let otherKey: KeyLike;
    let jwksStatus = 200;

    beforeAll(async () => {
      const pair = await generateKeyPair('RS256');
      privateKey = pair.privateKey;
      otherKey = (await generateKeyPair('RS256')).privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
      server = createServer((_req, res) => {
        res.writeHead(jwksStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    const idp = { issuer: 'https://idp.example/', audience: 'platform' };
    const rs256 = (
      key: KeyLike,
      kid = 'k1',
      exp = now() + 60,
      registered: { iss?: string; aud?: string } = { iss: idp.issuer, aud: idp.audience },
    ) =>
      new SignJWT({ ...claims, ...registered, exp })
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(key);
    const verifier = (options: { clockToleranceSeconds?: number } = {}) =>
      new JwtVerifier({ jwksUrl, ...idp, ...options });

    it('should return the claims when the token is signed by a key of the JWKS', async () => {
      const sut = verifier();
      await expect(sut.verify(await rs256(privateKey))).resolves.toMatchObject(claims);
    });

    it('should refuse a token without the issuer or the audience, or with others', async () => {
      const sut = verifier();
      const exp = now() + 60;
      const cases: [{ iss?: string; aud?: string }, string, RegExp][] = [
        [{ aud: idp.audience }, 'malformed_token', /missing the 'iss' claim/],
        [{ iss: idp.issuer }, 'malformed_token', /missing the 'aud' claim/],
        [{ iss: 'https://evil.example/', aud: idp.audience }, 'claim_mismatch', /'iss' claim/],
        [{ iss: idp.issuer, aud: 'elsewhere' }, 'claim_mismatch', /'aud' claim/],
      ];
      for (const [registered, reason, message] of cases) {
        await expectAuthFailure(
          sut.verify(await rs256(privateKey, 'k1', exp, registered)),
          reason,
          message,
        );
      }
    });

    it('should refuse to be built without an issuer and an audience', () => {
      expect(() => new JwtVerifier({ jwksUrl })).toThrow(/needs the issuer and the audience/);
      expect(() => new JwtVerifier({ jwksUrl, issuer: idp.issuer })).toThrow(/audience/);
      expect(() => new JwtVerifier({ jwksUrl, audience: idp.audience })).toThrow(/issuer/);
    });

    it('should refuse with bad_signature when signed by a key outside the JWKS', async () => {
      const sut = verifier();
      await expectAuthFailure(sut.verify(await rs256(otherKey)), 'bad_signature', /invalid/);
      await expectAuthFailure(
        sut.verify(await rs256(otherKey, 'k2')),
        'bad_signature',
        /no key in the issuer's JWKS/,
      );
    });

    it('should refuse with token_expired when the RS256 token has expired', async () => {
      const sut = verifier({ clockToleranceSeconds: 0 });
      await expectAuthFailure(
        sut.verify(await rs256(privateKey, 'k1', now() - 5)),
        'token_expired',
        /expired/,
      );
    });

    it('should refuse an HS256 token signed with the public key (algorithm confusion)', async () => {
      const sut = verifier();
      await expectAuthFailure(
        sut.verify(await hs256({ ...claims, exp: now() + 60 })),
        'algorithm_not_allowed',
        /'HS256' is not accepted; this gateway accepts RS256 only/,
      );
    });

    it('should answer 503 when the JWKS cannot be fetched', async () => {
      jwksStatus = 500;
      try {
        const sut = verifier();
        const e = await rejection(sut.verify(await rs256(privateKey)));
        expect(e).toBeInstanceOf(DependencyUnavailableException);
      } finally {
        jwksStatus = 200;
      }
    });
  });

  it('should take an https JWKS URL, or plain http to a loopback address only', () => {
    for (const url of [
      'https://idp.example/.well-known/jwks.json',
      'http://127.0.0.1:8080/jwks',
      'http://127.1.2.3/jwks',
      'http://[::1]:8080/jwks',
    ]) {
      expect({ url, problem: jwksUrlProblem(url) }).toEqual({ url, problem: undefined });
    }
    for (const url of [
      'http://idp.example/jwks',
      'http://10.0.0.5/jwks',
      'http://localhost/jwks',
      'http://127.0.0.1.evil.example/jwks',
      'ftp://idp.example/jwks',
      'not a url',
    ]) {
      expect({ url, problem: jwksUrlProblem(url) }).toEqual({
        url,
        problem: expect.stringContaining('must be an https URL'),
      });
    }
    expect(
      () =>
        new JwtVerifier({
          jwksUrl: 'http://idp.example/jwks',
          issuer: 'https://idp.example/',
          audience: 'platform',
        }),
    ).toThrow(/The JWKS URL must be an https URL/);
  });

  it('should refuse to be built with both or neither of secret and JWKS URL', () => {
    expect(() => new JwtVerifier({})).toThrow(/exactly one/);
    expect(
      () => new JwtVerifier({ hs256Secret: SECRET, jwksUrl: 'http://127.0.0.1/jwks' }),
    ).toThrow(/exactly one/);
    expect(() => new JwtVerifier({ hs256Secret: 'short' })).toThrow(/at least 32/);
  });
});
