import { AccessDeniedException, AuthFailure } from './auth.exception';
import type { Principal } from './principal';

/**
 * Where a route finds the workflow it acts on, declared with `@WorkflowScoped`. The guard resolves it to a
 * workflow id and lets a token scoped to one workflow (JWT `workflow_id`) through only when it is that one.
 */
export type WorkflowTarget =
  /** The path parameter holds the workflow's id. */
  | { workflowIdParam: string }
  /** The path parameter holds the name of a workflow of the caller's org. */
  | { workflowNameParam: string }
  /** The path parameter holds the id of a run of the caller's org. */
  | { runIdParam: string }
  /**
   * The body names the workflow, and guards run before a handler reads it: the handler checks it with
   * `assertWorkflowInScope`, or hands `principal.workflowId` to the service that resolves the body.
   */
  | { inBody: true };

/**
 * Which workflow a name or a run of the caller's org belongs to: what the guard asks before a scoped token
 * acts on either. It is asked on behalf of `caller`, the principal the guard authenticated.
 */
export interface WorkflowDirectory {
  /** The id of the caller's org's workflow named `name`; null when the org has none of that name. */
  workflowIdByName(caller: Principal, name: string): Promise<string | null>;
  /** The id of the workflow of the caller's org's run `runId`; null when the org has no such run. */
  workflowIdOfRun(caller: Principal, runId: string): Promise<string | null>;
}

/** Injection token of the app's `WorkflowDirectory`. */
export const WORKFLOW_DIRECTORY = Symbol('WORKFLOW_DIRECTORY');

/**
 * The 403 of a scoped token outside its workflow. `what` names the target as the client sent it, so an
 * unknown workflow or run gets the same answer as another one (no existence oracle).
 */
export function outsideWorkflowScope(scope: string, what: string): AccessDeniedException {
  return new AccessDeniedException(
    AuthFailure.OutsideWorkflowScope,
    `This token is scoped to workflow ${scope}: it may act only on that workflow, its runs and their ` +
      `files, not on ${what}`,
  );
}

/** 403 when `principal` is scoped to a workflow other than `workflowId`; unscoped callers pass. */
export function assertWorkflowInScope(principal: Principal, workflowId: string): void {
  const scope = principal.workflowId ?? null;
  if (scope !== null && scope !== workflowId) {
    throw outsideWorkflowScope(scope, `workflow ${workflowId}`);
  }
}
