import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { orgFileKey, type ServicePrincipal } from '@lib/contracts';
import {
  parsePrivateKey,
  SERVICE_NAMES,
  signServiceToken,
  type ServiceName,
  type ServiceTokenClaims,
} from '@lib/internal-http';
import { startTestPlatform, type TestOrg, type TestPlatform } from '@lib/testing';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** An internal route, the apps allowed to call it, and whether it acts for an org (needs a principal). */
interface InternalRoute {
  app: Exclude<ServiceName, 'gateway'>;
  method: Method;
  /** Nest's pattern, as the app logs it when it maps the route. */
  pattern: string;
  /** A concrete path (query included) of the pattern. */
  path: string;
  callers: ServiceName[];
  actsForOrg: boolean;
}

const ID = randomUUID();
const OBJECT = `obj_${ID.replace(/-/g, '')}`;

/**
 * Every `/internal/` route of the four services. The suite compares it with the routes each app maps (its
 * start-up log): a new internal route fails the suite until it is listed here, and so attacked.
 */
const ROUTES: InternalRoute[] = [
  ...(
    [
      ['POST', '/internal/batch', '/internal/batch', false],
      ['GET', '/internal/objects', '/internal/objects', true],
      ['GET', '/internal/objects/public', '/internal/objects/public', false],
      ['GET', '/internal/objects/metadata/keys', '/internal/objects/metadata/keys', true],
      [
        'GET',
        '/internal/objects/metadata/keys/:key/values',
        '/internal/objects/metadata/keys/k/values',
        true,
      ],
      ['POST', '/internal/objects/:id/complete', `/internal/objects/${OBJECT}/complete`, true],
      ['POST', '/internal/objects/:id/delete', `/internal/objects/${OBJECT}/delete`, true],
      ['POST', '/internal/objects/:id/publish', `/internal/objects/${OBJECT}/publish`, true],
      ['POST', '/internal/objects/:id/unpublish', `/internal/objects/${OBJECT}/unpublish`, true],
      ['GET', '/internal/org-files/children', '/internal/org-files/children?path=/', true],
      ['GET', '/internal/org-files/meta', '/internal/org-files/meta?path=/a', true],
      ['GET', '/internal/org-files/download', '/internal/org-files/download?path=/a', true],
      ['GET', '/internal/org-files/stats', '/internal/org-files/stats?path=/', true],
      ['POST', '/internal/org-files/uploads', '/internal/org-files/uploads', true],
      ['POST', '/internal/org-files/folders', '/internal/org-files/folders', true],
      ['POST', '/internal/org-files/delete', '/internal/org-files/delete', true],
      ['POST', '/internal/org-files/rename', '/internal/org-files/rename', true],
      ['POST', '/internal/org-files/move', '/internal/org-files/move', true],
      ['POST', '/internal/org-files/copy', '/internal/org-files/copy', true],
      ['GET', '/internal/quotas', '/internal/quotas', true],
      ['PUT', '/internal/quotas', '/internal/quotas', true],
    ] as const
  ).map(([method, pattern, path, actsForOrg]) => ({
    app: 'object-metadata' as const,
    method,
    pattern,
    path,
    callers: ['gateway'] as ServiceName[],
    actsForOrg,
  })),
  {
    app: 'object-metadata',
    method: 'POST',
    pattern: '/internal/run-files',
    path: '/internal/run-files',
    callers: ['gateway', 'flow-orchestrator'],
    actsForOrg: true,
  },
  {
    app: 'object-metadata',
    method: 'GET',
    pattern: '/internal/run-files/latest',
    path: `/internal/run-files/latest?workflowId=${ID}&direction=input&filename=a.csv`,
    callers: ['flow-orchestrator'],
    actsForOrg: true,
  },
  {
    app: 'object-metadata',
    method: 'GET',
    pattern: '/internal/files/live',
    path: '/internal/files/live',
    callers: ['usage-aggregator'],
    actsForOrg: true,
  },
  ...(
    [
      [
        'DELETE',
        '/internal/bytes',
        `/internal/bytes?key=${orgFileKey('victim')}`,
        ['object-metadata'],
      ],
      ['POST', '/internal/bytes/delete', '/internal/bytes/delete', ['object-metadata']],
      ['POST', '/internal/bytes/copy', '/internal/bytes/copy', ['object-metadata']],
    ] as const
  ).map(([method, pattern, path, callers]) => ({
    app: 'storage' as const,
    method,
    pattern,
    path,
    callers: [...callers],
    actsForOrg: true,
  })),
  ...(
    [
      ['POST', '/internal/batch', '/internal/batch', false],
      ['POST', '/internal/flows/:name/runs', '/internal/flows/wf/runs', true],
      ['GET', '/internal/runs/:runId', `/internal/runs/${ID}`, true],
      ['GET', '/internal/workflows/:workflowId', `/internal/workflows/${ID}`, true],
      ['GET', '/internal/workflows/by-name/:name', '/internal/workflows/by-name/wf', true],
      ['GET', '/internal/runs/:runId/workflow', `/internal/runs/${ID}/workflow`, true],
      ['GET', '/internal/runs/:runId/edges/:edge', `/internal/runs/${ID}/edges/in`, true],
      [
        'POST',
        '/internal/runs/:runId/edges/:edge/complete',
        `/internal/runs/${ID}/edges/in/complete`,
        true,
      ],
      ['POST', '/internal/resources/download-url', '/internal/resources/download-url', true],
    ] as const
  ).map(([method, pattern, path, actsForOrg]) => ({
    app: 'flow-orchestrator' as const,
    method,
    pattern,
    path,
    callers: ['gateway'] as ServiceName[],
    actsForOrg,
  })),
  {
    app: 'usage-aggregator',
    method: 'GET',
    pattern: '/internal/usage',
    path: '/internal/usage',
    callers: ['gateway'],
    actsForOrg: true,
  },
];

interface Answer {
  status: number;
  body: { error?: { code?: string; message?: string; details?: { reason?: string } } };
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The principal the gateway signs for an org's admin. */
const principalOf = (o: TestOrg): ServicePrincipal => ({
  orgId: o.orgId,
  orgKey: o.orgKey,
  userId: o.adminUserId,
  role: 'admin',
  actor: { type: 'user', id: o.adminUserId },
  workflowId: null,
});

// The services answer only the platform's apps: every internal route of every service refuses a call
// without a service token, with another app's, an expired, a tampered or a forged one, and one that acts for
// no org where the route reads or changes an org's data (401/403, a JSON error saying why). The census lists
// one org's files, never every org's; storage handles only keys of the org a call acts for.
describe('service credentials (every internal route)', () => {
  let t: TestPlatform;
  let a: TestOrg;
  let b: TestOrg;

  const call = async (
    route: Pick<InternalRoute, 'app' | 'method' | 'path'>,
    token?: string,
    body?: unknown,
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${t.platform.urls[route.app]}${route.path}`, {
      method: route.method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
  };

  /** A token signed with `caller`'s key, with any times and principal. */
  const signedAs = (caller: ServiceName, claims: Partial<ServiceTokenClaims>) =>
    signServiceToken(parsePrivateKey(t.serviceKeys.privateKeys[caller]), {
      iss: caller,
      aud: 'storage',
      iat: now(),
      exp: now() + 60,
      ...claims,
    });

  const refusal = (answer: Answer) => ({
    status: answer.status,
    code: answer.body.error?.code,
    reason: answer.body.error?.details?.reason,
    message: typeof answer.body.error?.message,
  });

  beforeAll(async () => {
    // Five apps, Kafka and S3 on a shared machine: start-up may take minutes under load.
    t = await startTestPlatform({ readyTimeoutMs: 300_000 });
    [a, b] = await Promise.all([t.createOrg(), t.createOrg()]);
  }, 600_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('should list every internal route the services map', () => {
    for (const app of SERVICE_NAMES.filter((s) => s !== 'gateway')) {
      const log = readFileSync(join(t.logDir, `${app}.log`), 'utf8');
      const mapped = [...log.matchAll(/Mapped \{(\/internal\/[^,]*), (\w+)\} route/g)]
        .map(([, pattern, method]) => `${method} ${pattern}`)
        .sort();
      const listed = ROUTES.filter((r) => r.app === app)
        .map((r) => `${r.method} ${r.pattern}`)
        .sort();
      expect({ app, routes: listed }).toEqual({ app, routes: [...new Set(mapped)] });
    }
  });

  describe.each(ROUTES.map((r) => [`${r.app} ${r.method} ${r.pattern}`, r] as const))(
    '%s',
    (_label, route) => {
      const caller = route.callers[0];
      const stranger = SERVICE_NAMES.find((s) => !route.callers.includes(s))!;

      it('should refuse a call without a service token (401)', async () => {
        expect(refusal(await call(route))).toEqual({
          status: 401,
          code: 'SERVICE_UNAUTHORIZED',
          reason: 'missing_token',
          message: 'string',
        });
      });

      it("should refuse another app's valid token (403)", async () => {
        const answer = await call(route, t.serviceToken(stranger, route.app, principalOf(a)));
        expect(refusal(answer)).toEqual({
          status: 403,
          code: 'SERVICE_FORBIDDEN',
          reason: 'caller_not_allowed',
          message: 'string',
        });
        expect(answer.body.error?.message).toContain(stranger);
      });

      it('should refuse an expired token of its caller (401)', async () => {
        const expired = signedAs(caller, {
          aud: route.app,
          iat: now() - 200,
          exp: now() - 80,
          principal: principalOf(a),
        });
        expect(refusal(await call(route, expired))).toMatchObject({
          status: 401,
          reason: 'token_expired',
        });
      });

      it('should refuse a token whose principal was changed to another org (401)', async () => {
        const [header, payload, signature] = t
          .serviceToken(caller, route.app, principalOf(a))
          .split('.');
        const claims = JSON.parse(
          Buffer.from(payload, 'base64url').toString(),
        ) as ServiceTokenClaims;
        const tampered = `${header}.${b64({ ...claims, principal: principalOf(b) })}.${signature}`;
        expect(refusal(await call(route, tampered))).toMatchObject({
          status: 401,
          reason: 'bad_signature',
        });
      });

      it("should refuse a token signed with a key that is not its caller's (401)", async () => {
        const forged = signServiceToken(generateKeyPairSync('ed25519').privateKey, {
          iss: caller,
          aud: route.app,
          iat: now(),
          exp: now() + 60,
          principal: principalOf(a),
        });
        expect(refusal(await call(route, forged))).toMatchObject({
          status: 401,
          reason: 'bad_signature',
        });
      });

      if (route.actsForOrg) {
        it("should refuse its caller's token that names no org (403)", async () => {
          expect(refusal(await call(route, t.serviceToken(caller, route.app)))).toEqual({
            status: 403,
            code: 'SERVICE_FORBIDDEN',
            reason: 'missing_principal',
            message: 'string',
          });
        });
      }
    },
  );

  describe('tenant scope', () => {
    const census = { app: 'object-metadata', method: 'GET' } as const;

    /** Org A and org B each store a file through the public API. */
    beforeAll(async () => {
      for (const o of [a, b]) {
        const form = new FormData();
        form.append('file', new Blob(['bytes']), 'f.txt');
        const res = await fetch(`${t.gatewayUrl}/api/private/storage/upload`, {
          method: 'POST',
          headers: { 'api-key': o.orgPrivateKey },
          body: form,
        });
        expect(res.status).toBe(201);
      }
    });

    it("should list the live files of the token's org only, whatever the query says", async () => {
      const token = t.serviceToken('usage-aggregator', 'object-metadata', principalOf(a));
      const own = await call({ ...census, path: '/internal/files/live' }, token);
      expect(own.status).toBe(200);
      const files = (own.body as unknown as { files: { orgId: string }[] }).files;
      expect(files.length).toBeGreaterThan(0);
      expect(new Set(files.map((f) => f.orgId))).toEqual(new Set([a.orgId]));
      // The org is the principal's: a query naming another one is refused, not obeyed.
      const other = await call({ ...census, path: `/internal/files/live?orgId=${b.orgId}` }, token);
      expect(other.status).toBe(400);
      // Without an org, nothing: no census of every org.
      const none = await call(
        { ...census, path: '/internal/files/live' },
        t.serviceToken('usage-aggregator', 'object-metadata'),
      );
      expect(refusal(none)).toMatchObject({ status: 403, reason: 'missing_principal' });
    });

    it("should copy and remove bytes only under the keys of the call's org", async () => {
      const asMetadataForA = t.serviceToken('object-metadata', 'storage', principalOf(a));
      const remove = await call(
        { app: 'storage', method: 'DELETE', path: `/internal/bytes?key=${orgFileKey(b.orgKey)}` },
        asMetadataForA,
      );
      expect(refusal(remove)).toMatchObject({ status: 403, reason: 'outside_org' });
      const copy = await call(
        { app: 'storage', method: 'POST', path: '/internal/bytes/copy' },
        asMetadataForA,
        { from: orgFileKey(b.orgKey), to: orgFileKey(a.orgKey) },
      );
      expect(refusal(copy)).toMatchObject({ status: 403, reason: 'outside_org' });
      const many = await call(
        { app: 'storage', method: 'POST', path: '/internal/bytes/delete' },
        asMetadataForA,
        { keys: [orgFileKey(a.orgKey), orgFileKey(b.orgKey)] },
      );
      expect(refusal(many)).toMatchObject({ status: 403, reason: 'outside_org' });
    });

    it('should answer each batched call for the principal of its own token only', async () => {
      const batch = { app: 'object-metadata', method: 'POST', path: '/internal/batch' } as const;
      const gateway = t.serviceToken('gateway', 'object-metadata');
      const create = { name: 'x.txt', content_type: 'text' };
      const answer = await call(batch, gateway, {
        calls: [
          {
            op: 'objects.create',
            args: create,
            token: t.serviceToken('gateway', 'object-metadata', principalOf(a)),
          },
          { op: 'objects.create', args: create },
          {
            op: 'objects.create',
            args: create,
            token: t.serviceToken('gateway', 'object-metadata'),
          },
          {
            op: 'objects.create',
            args: create,
            token: t.serviceToken('flow-orchestrator', 'object-metadata', principalOf(b)),
          },
        ],
      });
      expect(answer.status).toBe(200);
      const answers = (
        answer.body as unknown as { answers: { status: number; body: Answer['body'] }[] }
      ).answers;
      expect(answers.map((c) => [c.status, c.body.error?.details?.reason])).toEqual([
        [200, undefined],
        [401, 'missing_token'],
        [403, 'missing_principal'],
        [403, 'caller_mismatch'],
      ]);
      const created = answers[0].body as unknown as { id: string };
      const seenByB = await call(
        { app: 'object-metadata', method: 'GET', path: '/internal/objects' },
        t.serviceToken('gateway', 'object-metadata', principalOf(b)),
      );
      expect(JSON.stringify(seenByB.body)).not.toContain(created.id);
    });
  });
});
