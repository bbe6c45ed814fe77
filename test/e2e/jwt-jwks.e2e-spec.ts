import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, type JWTPayload, type KeyLike, SignJWT } from 'jose';
import {
  type AppInstance,
  REPO_ROOT,
  startTestPlatform,
  TestPlatform,
  waitFor,
} from '@lib/testing';

// The gateway with an identity provider's key set (RS256 through JWKS), as in production: every token's
// issuer and audience are checked, its lifetime is bounded, a deleted user's tokens stop working on every
// replica, and a gateway set up without issuer, audience or an https key set does not start.

const run = promisify(execFile);
const ISSUER = 'https://idp.test/';
const AUDIENCE = 'storage-flows-platform';
const MAX_LIFETIME_SECONDS = 3600;

describe('JWTs from an identity provider (JWKS)', () => {
  let jwks: Server;
  let jwksUrl: string;
  let signingKey: KeyLike;
  let t: TestPlatform;
  let replica: AppInstance;
  let org: { id: string; key: string };

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    // Plain http is accepted for a loopback address only; an identity provider elsewhere is https.
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    t = await startTestPlatform({
      apps: ['object-metadata', 'gateway'],
      env: {
        JWT_SECRET: '',
        JWT_JWKS_URL: jwksUrl,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        JWT_MAX_LIFETIME_SECONDS: String(MAX_LIFETIME_SECONDS),
      },
    });
    replica = await t.platform.startInstance('gateway');
    const key = `jwks-${Date.now().toString(36)}`;
    org = await t.admin<{ id: string; key: string }>('POST', '/admin/orgs', { key, name: key });
  });

  afterAll(async () => {
    await t?.stop();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const newUser = async () =>
    (
      await t.admin<{ id: string }>('POST', `/admin/orgs/${org.id}/users`, {
        email: `u-${Math.random().toString(36).slice(2)}@jwks.test`,
        role: 'member',
      })
    ).id;

  const now = () => Math.floor(Date.now() / 1000);

  /** A token of the identity provider for `userId`; `claims` replace or (undefined) remove the defaults. */
  const token = (userId: string, claims: JWTPayload = {}) => {
    const payload: JWTPayload = {
      sub: userId,
      org: org.id,
      org_key: org.key,
      role: 'member',
      iss: ISSUER,
      aud: AUDIENCE,
      iat: now(),
      exp: now() + 600,
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) {
      if (value === undefined) delete payload[name];
    }
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'idp-1' }).sign(signingKey);
  };

  const list = async (base: string, jwt: string) => {
    const res = await fetch(`${base}/v1/objects`, { headers: { authorization: `Bearer ${jwt}` } });
    return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
  };

  it("should accept the identity provider's token", async () => {
    expect((await list(t.gatewayUrl, await token(await newUser()))).status).toBe(200);
  });

  it('should refuse a token without the issuer or the audience, or with others', async () => {
    const user = await newUser();
    const cases: [JWTPayload, RegExp][] = [
      [{ iss: undefined }, /missing the 'iss' claim/],
      [{ aud: undefined }, /missing the 'aud' claim/],
      [
        { iss: 'https://other-idp.test/' },
        /'iss' claim does not match; expected 'https:\/\/idp.test\/'/,
      ],
      [{ aud: 'another-service' }, /'aud' claim does not match; expected 'storage-flows-platform'/],
    ];
    for (const [claims, message] of cases) {
      const answer = await list(t.gatewayUrl, await token(user, claims));
      expect({ claims, status: answer.status }).toEqual({ claims, status: 401 });
      expect(answer.body.error?.message).toMatch(message);
    }
  });

  it('should refuse a token that lives longer than JWT_MAX_LIFETIME_SECONDS', async () => {
    const user = await newUser();
    const longer = MAX_LIFETIME_SECONDS + 600;
    for (const claims of [
      { iat: now(), exp: now() + longer },
      { iat: undefined, exp: now() + longer },
      { iat: now() - longer + 60, exp: now() + 60 },
    ]) {
      const answer = await list(t.gatewayUrl, await token(user, claims));
      expect({ claims, status: answer.status }).toEqual({ claims, status: 401 });
      expect(answer.body.error?.message).toMatch(/^JWT lives too long: .*at most 3600 s$/);
    }
    const atMost = await token(user, { iat: now(), exp: now() + MAX_LIFETIME_SECONDS });
    expect((await list(t.gatewayUrl, atMost)).status).toBe(200);
  });

  it("should refuse a deleted user's token on every replica", async () => {
    const user = await newUser();
    const jwt = await token(user);
    // Both replicas have the user in their credential cache before the delete.
    for (const base of [t.gatewayUrl, replica.url]) {
      expect((await list(base, jwt)).status).toBe(200);
    }
    await t.admin('DELETE', `/admin/orgs/${org.id}/users/${user}`);
    expect((await list(t.gatewayUrl, jwt)).status).toBe(401);
    // The other replica hears of it through Redis, well before its cached entry would expire (30 s).
    const refused = await waitFor('the other replica to refuse the token', async () => {
      const answer = await list(replica.url, jwt);
      return answer.status === 401 && answer;
    });
    expect(refused.body.error?.message).toMatch(/does not exist in org/);
  });

  describe('a gateway set up to trust a key set without its safeguards', () => {
    /** The gateway's start-up failure (exit code and what it printed) with these variables. */
    const boot = (env: Record<string, string>) =>
      run(process.execPath, [join(REPO_ROOT, 'dist', 'apps', 'gateway', 'src', 'main.js')], {
        env: { PATH: process.env.PATH, PORT: '0', OPERATOR_TOKEN: 'o'.repeat(32), ...env },
        timeout: 60_000,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );

    it('should refuse to start without JWT_ISSUER and JWT_AUDIENCE', async () => {
      const failure = await boot({ JWT_JWKS_URL: 'https://idp.test/.well-known/jwks.json' });
      expect(failure.code).toBe(1);
      expect(failure.stderr).toContain('JWT_ISSUER is required with JWT_JWKS_URL');
      expect(failure.stderr).toContain('JWT_AUDIENCE is required with JWT_JWKS_URL');
    });

    it('should refuse to start with a key set fetched over plain http from another host', async () => {
      const failure = await boot({
        JWT_JWKS_URL: 'http://idp.test/.well-known/jwks.json',
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      });
      expect(failure.code).toBe(1);
      expect(failure.stderr).toContain(
        'JWT_JWKS_URL must be an https URL (plain http only to a loopback address)',
      );
    });
  });
});
