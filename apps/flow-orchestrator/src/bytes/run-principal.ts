import type { EventActor, ServicePrincipal } from '@lib/contracts';

/**
 * The principal of a call made for a run: the run's org, the user its files count for (null: none), and
 * who acts (the uploader, or the platform).
 */
export function principalOfRun(
  run: { orgId: string; orgKey: string },
  actor: EventActor,
  userId: string | null,
): ServicePrincipal {
  return { orgId: run.orgId, orgKey: run.orgKey, userId, role: null, actor, workflowId: null };
}
