import { Capability } from '@lib/auth';
import { DomainException } from '@lib/errors';
import type { IdentityService, OrgEntity, UserEntity } from './gateway';

export const DEMO_ORG_KEY = 'demo';
export const DEMO_ADMIN_EMAIL = 'admin@demo.local';

/** What `demo` prints; the local start script reads these fields. */
export interface DemoCredentials {
  orgId: string;
  orgKey: string;
  userId: string;
  email: string;
  /** Bearer API key: `Authorization: Bearer <apiKey>` on /v1/objects and /api/v1. */
  apiKey: string;
  apiKeyId: string;
  /** Org private key: `api-key: <orgPrivateKey>` on /api/private. */
  orgPrivateKey: string;
  orgPrivateKeyId: string;
  /** HS256 JWT of the admin user: `Authorization: Bearer <jwt>`. */
  jwt: string;
  jwtExpiresAt: string;
}

/**
 * Idempotent: reuses org `demo` and its admin user when they exist (also when another `demo` run
 * creates them concurrently), then mints fresh credentials; old ones stay valid.
 */
export async function ensureDemo(
  identity: IdentityService,
  expiresInSeconds: number,
): Promise<DemoCredentials> {
  const org = await ensureOrg(identity);
  const user = await ensureAdmin(identity, org);
  const stamp = new Date().toISOString();
  const bearer = await identity.createApiKey(org.id, { name: `demo ${stamp}`, userId: user.id });
  const orgKey = await identity.createPrivateKey(org.id, { name: `demo ${stamp}` });
  const jwt = await identity.issueJwt({ orgId: org.id, userId: user.id, expiresInSeconds });
  return {
    orgId: org.id,
    orgKey: org.key,
    userId: user.id,
    email: user.email,
    apiKey: bearer.secret,
    apiKeyId: bearer.apiKey.id,
    orgPrivateKey: orgKey.secret,
    orgPrivateKeyId: orgKey.apiKey.id,
    jwt: jwt.token,
    jwtExpiresAt: jwt.expiresAt.toISOString(),
  };
}

async function ensureOrg(identity: IdentityService): Promise<OrgEntity> {
  let org: OrgEntity;
  try {
    org = await identity.createOrg({ key: DEMO_ORG_KEY, name: 'Demo' });
  } catch (e) {
    if (!isConflict(e)) throw e;
    org = await identity.findOrg(DEMO_ORG_KEY);
  }
  if (!org.capabilities.includes(Capability.Objects)) {
    org = await identity.updateCapabilities(org.id, [...org.capabilities, Capability.Objects]);
  }
  return org;
}

async function ensureAdmin(identity: IdentityService, org: OrgEntity): Promise<UserEntity> {
  const existing = await identity.findUserByEmail(org.id, DEMO_ADMIN_EMAIL);
  if (existing) return existing;
  try {
    return await identity.createUser(org.id, { email: DEMO_ADMIN_EMAIL, role: 'admin' });
  } catch (e) {
    if (!isConflict(e)) throw e;
    return identity.findUser(org.id, DEMO_ADMIN_EMAIL);
  }
}

function isConflict(e: unknown): boolean {
  return e instanceof DomainException && e.status === 409;
}
