import type { Principal } from '@lib/auth';
import type { ServicePrincipal } from '@lib/contracts';

/**
 * The principal the gateway signs into its calls to the services: the org, user, role and workflow scope
 * of the credential it authenticated, and who acts for the events (the user, else the API key).
 */
export function servicePrincipalOf(p: Principal): ServicePrincipal {
  return {
    orgId: p.orgId,
    orgKey: p.orgKey,
    userId: p.userId,
    role: p.role,
    actor: p.userId
      ? { type: 'user', id: p.userId }
      : { type: 'api_key', id: p.apiKeyId ?? p.orgId },
    workflowId: p.workflowId ?? null,
  };
}
