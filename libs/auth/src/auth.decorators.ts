import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, DocumentBuilder } from '@nestjs/swagger';
import { AuthGuard } from './auth.guard';
import {
  AUTH_SURFACE_KEY,
  type AuthenticatedRequest,
  type AuthSurface,
  REQUIRED_CAPABILITIES_KEY,
  REQUIRED_ROLE_KEY,
  SecurityScheme,
  WORKFLOW_SCOPE_KEY,
} from './auth.metadata';
import type { Principal, Role } from './principal';
import type { WorkflowTarget } from './workflow-scope';

/**
 * Requires a caller on a route or controller. `'bearer'`: `Authorization: Bearer <bearer API key or JWT>`
 * (/v1/objects, /api/v1). `'org-key'`: the org private key in the `api-key` header (/api/private).
 */
export function Authenticated(surface: 'bearer' | 'org-key') {
  return applyDecorators(
    SetAuthSurface(surface),
    UseGuards(AuthGuard),
    surface === 'bearer'
      ? ApiBearerAuth(SecurityScheme.Bearer)
      : ApiSecurity(SecurityScheme.OrgKey),
  );
}

/** Admin endpoints: only `Authorization: Bearer <OPERATOR_TOKEN>`. No principal is set. */
export function OperatorOnly() {
  return applyDecorators(
    SetAuthSurface('operator'),
    UseGuards(AuthGuard),
    ApiBearerAuth(SecurityScheme.Operator),
  );
}

/**
 * Records a route's surface on a method, or on a class and each of its methods that does not name its own:
 * a route's handler alone then tells its surface. Nest hands Fastify the handler with its metadata, and the
 * gateway reads it there (`authSurfaceOf`) to authenticate before the request body is read.
 */
function SetAuthSurface(surface: AuthSurface): ClassDecorator & MethodDecorator {
  const mark = (target: object) => Reflect.defineMetadata(AUTH_SURFACE_KEY, surface, target);
  return (target: object, _key?: string | symbol, descriptor?: { value?: unknown }) => {
    if (descriptor) {
      if (typeof descriptor.value === 'function') mark(descriptor.value);
      return;
    }
    mark(target);
    const prototype = (target as { prototype: object }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method: unknown = Object.getOwnPropertyDescriptor(prototype, name)?.value;
      if (
        name !== 'constructor' &&
        typeof method === 'function' &&
        !Reflect.hasOwnMetadata(AUTH_SURFACE_KEY, method)
      ) {
        mark(method);
      }
    }
  };
}

/** The surface a route handler requires (`@Authenticated`, `@OperatorOnly`); undefined for a public one. */
export function authSurfaceOf(handler: object): AuthSurface | undefined {
  return Reflect.getMetadata(AUTH_SURFACE_KEY, handler) as AuthSurface | undefined;
}

/** 403 unless the caller has `role` (an org-wide key has none). Needs `@Authenticated`. */
export function RequireRole(role: Role) {
  return applyDecorators(SetMetadata(REQUIRED_ROLE_KEY, role), UseGuards(AuthGuard));
}

/**
 * 403 unless the caller's org has every capability listed; the messages of `capabilityDeniedMessage`.
 * Class- and method-level requirements add up. Needs `@Authenticated`.
 */
export function RequireCapability(...capabilities: [string, ...string[]]) {
  return applyDecorators(
    SetMetadata(REQUIRED_CAPABILITIES_KEY, capabilities),
    UseGuards(AuthGuard),
  );
}

/**
 * Declares the workflow a route acts on (`target`), so that a token scoped to one workflow (JWT
 * `workflow_id`) may use the route on that workflow, its runs and their files. A route without it acts on
 * the whole org: the guard refuses scoped tokens there (403). Needs `@Authenticated`.
 */
export function WorkflowScoped(target: WorkflowTarget) {
  return applyDecorators(
    SetMetadata(WORKFLOW_SCOPE_KEY, target),
    ApiForbiddenResponse({ description: 'The token is scoped to another workflow' }),
  );
}

/** The authenticated caller of an `@Authenticated` route. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) {
      throw new Error('@CurrentPrincipal() used on a route without @Authenticated(...)');
    }
    return principal;
  },
);

/** Declares the security schemes the decorators reference in the OpenAPI document. */
export function addAuthSecuritySchemes(builder: DocumentBuilder): DocumentBuilder {
  return builder
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key or JWT',
        description:
          'Bearer API key (sfp_live_…) or JWT. A JWT with a `workflow_id` claim acts only on that ' +
          'workflow, its runs and their files: the operations that act on a workflow answer 403 for ' +
          'another one, and every other operation answers 403.',
      },
      SecurityScheme.Bearer,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'api-key', description: 'Org private key (sfp_org_…)' },
      SecurityScheme.OrgKey,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque',
        description: 'Operator token (admin endpoints)',
      },
      SecurityScheme.Operator,
    );
}
