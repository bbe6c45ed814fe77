import type { Principal } from '@lib/auth';

/** Who acts, for the services and their events: the org from the credential, the user or else the key. */
export function callerOf(p: Principal) {
  return {
    orgId: p.orgId,
    orgKey: p.orgKey,
    createdBy: p.userId,
    actor: p.userId
      ? { type: 'user' as const, id: p.userId }
      : { type: 'api_key' as const, id: p.apiKeyId ?? p.orgId },
  };
}
