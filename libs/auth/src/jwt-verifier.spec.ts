import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DependencyUnavailableException } from '@lib/errors';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT, UnsecuredJWT } from 'jose';
import { AuthenticationFailedException } from './auth.exception';
import { JwtIssuer } from './jwt-issuer';
import { JwtVerifier } from './jwt-verifier';

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

    const rs256 = (key: KeyLike, kid = 'k1', exp = now() + 60) =>
      new SignJWT({ ...claims, exp }).setProtectedHeader({ alg: 'RS256', kid }).sign(key);

    it('should return the claims when the token is signed by a key of the JWKS', async () => {
      const sut = new JwtVerifier({ jwksUrl });
      await expect(sut.verify(await rs256(privateKey))).resolves.toMatchObject(claims);
    });

    it('should refuse with bad_signature when signed by a key outside the JWKS', async () => {
      const sut = new JwtVerifier({ jwksUrl });
      await expectAuthFailure(sut.verify(await rs256(otherKey)), 'bad_signature', /invalid/);
      await expectAuthFailure(
        sut.verify(await rs256(otherKey, 'k2')),
        'bad_signature',
        /no key in the issuer's JWKS/,
      );
    });

    it('should refuse with token_expired when the RS256 token has expired', async () => {
      const sut = new JwtVerifier({ jwksUrl, clockToleranceSeconds: 0 });
      await expectAuthFailure(
        sut.verify(await rs256(privateKey, 'k1', now() - 5)),
        'token_expired',
        /expired/,
      );
    });

    it('should refuse an HS256 token signed with the public key (algorithm confusion)', async () => {
      const sut = new JwtVerifier({ jwksUrl });
      await expectAuthFailure(
        sut.verify(await hs256({ ...claims, exp: now() + 60 })),
        'algorithm_not_allowed',
        /'HS256' is not accepted; this gateway accepts RS256 only/,
      );
    });

    it('should answer 503 when the JWKS cannot be fetched', async () => {
      jwksStatus = 500;
      try {
        const sut = new JwtVerifier({ jwksUrl });
        const e = await rejection(sut.verify(await rs256(privateKey)));
        expect(e).toBeInstanceOf(DependencyUnavailableException);
      } finally {
        jwksStatus = 200;
      }
    });
  });

  it('should refuse to be built with both or neither of secret and JWKS URL', () => {
    expect(() => new JwtVerifier({})).toThrow(/exactly one/);
    expect(
      () => new JwtVerifier({ hs256Secret: SECRET, jwksUrl: 'http://127.0.0.1/jwks' }),
    ).toThrow(/exactly one/);
    expect(() => new JwtVerifier({ hs256Secret: 'short' })).toThrow(/at least 32/);
  });
});
