import type { Principal } from './principal';

/** Which credential a route accepts. */
export type AuthSurface = 'bearer' | 'org-key' | 'operator';

export const AUTH_SURFACE_KEY = 'auth:surface';
export const REQUIRED_ROLE_KEY = 'auth:required-role';
export const REQUIRED_CAPABILITIES_KEY = 'auth:required-capabilities';
export const WORKFLOW_SCOPE_KEY = 'auth:workflow-scope';

/** OpenAPI security scheme names used by the decorators; register them with `addAuthSecuritySchemes`. */
export const SecurityScheme = {
  Bearer: 'bearer',
  OrgKey: 'api-key',
  Operator: 'operator',
} as const;

/** What the guard adds to the request. */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The route's path parameters. */
  params?: Record<string, string | undefined>;
  principal?: Principal;
  /** Set when the operator token was presented on an `@OperatorOnly()` route. */
  operator?: boolean;
}
