import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity, DocumentBuilder } from '@nestjs/swagger';
import { AuthGuard } from './auth.guard';
import {
  AUTH_SURFACE_KEY,
  type AuthenticatedRequest,
  REQUIRED_CAPABILITIES_KEY,
  REQUIRED_ROLE_KEY,
  SecurityScheme,
} from './auth.metadata';
import type { Principal, Role } from './principal';

/**
 * Requires a caller on a route or controller. `'bearer'`: `Authorization: Bearer <bearer API key or JWT>`
 * (/v1/objects, /api/v1). `'org-key'`: the org private key in the `api-key` header (/api/private).
 */
export function Authenticated(surface: 'bearer' | 'org-key') {
  return applyDecorators(
    SetMetadata(AUTH_SURFACE_KEY, surface),
    UseGuards(AuthGuard),
    surface === 'bearer'
      ? ApiBearerAuth(SecurityScheme.Bearer)
      : ApiSecurity(SecurityScheme.OrgKey),
  );
}

/** Admin endpoints: only `Authorization: Bearer <OPERATOR_TOKEN>`. No principal is set. */
export function OperatorOnly() {
  return applyDecorators(
    SetMetadata(AUTH_SURFACE_KEY, 'operator'),
    UseGuards(AuthGuard),
    ApiBearerAuth(SecurityScheme.Operator),
  );
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
        description: 'Bearer API key (sfp_live_…) or JWT',
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
