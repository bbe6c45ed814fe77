import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { API_KEY_PREFIX, apiKeyKindOf, hashApiKey, isWellFormedApiKey } from './api-key';
import {
  AccessDeniedException,
  AuthenticationFailedException,
  AuthFailure,
} from './auth.exception';
import {
  AUTH_SURFACE_KEY,
  type AuthenticatedRequest,
  type AuthSurface,
  REQUIRED_CAPABILITIES_KEY,
  REQUIRED_ROLE_KEY,
  WORKFLOW_SCOPE_KEY,
} from './auth.metadata';
import {
  AUTH_OPTIONS,
  type AuthOptions,
  CREDENTIAL_STORE,
  type CredentialStore,
} from './credential-store';
import { JwtVerifier } from './jwt-verifier';
import { Capability, type Principal, type Role } from './principal';
import {
  assertWorkflowInScope,
  outsideWorkflowScope,
  WORKFLOW_DIRECTORY,
  type WorkflowDirectory,
  type WorkflowTarget,
} from './workflow-scope';

const BEARER_HINT = 'send `Authorization: Bearer <api key or JWT>`';
const ORG_KEY_HINT = `send the organization private key (${API_KEY_PREFIX.org_private}…) in the \`api-key\` header`;

/** The 403 text of a missing capability; the Objects API fixes the one for `objects`. */
export function capabilityDeniedMessage(capability: string, orgKey: string): string {
  if (capability === Capability.Objects)
    return 'Forbidden. Account does not have devbox capability';
  return `Forbidden. Organization '${orgKey}' does not have the '${capability}' capability`;
}

interface RouteRequirements {
  surface: AuthSurface;
  role: Role | undefined;
  capabilities: string[];
  /** The workflow the route acts on (`@WorkflowScoped`); none: it acts on the whole org. */
  workflow: WorkflowTarget | undefined;
}

/**
 * The one guard behind `@Authenticated`, `@OperatorOnly`, `@RequireRole`, `@RequireCapability` and
 * `@WorkflowScoped`: resolves the caller for the route's surface, puts the `Principal` on the request, then
 * checks the route's role and capability requirements and, for a token scoped to one workflow, that the
 * route acts on that workflow. Each decorator applies it, so it may run more than once per request; it
 * authenticates once and only re-checks the requirements after that.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly operatorTokenDigest: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  private readonly requirements = new WeakMap<Function, WeakMap<Function, RouteRequirements>>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(CREDENTIAL_STORE) private readonly store: CredentialStore,
    @Inject(JwtVerifier) private readonly jwt: JwtVerifier,
    @Inject(AUTH_OPTIONS) options: AuthOptions,
    @Inject(WORKFLOW_DIRECTORY) private readonly workflows: WorkflowDirectory,
  ) {
    this.operatorTokenDigest = sha256(options.operatorToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') {
      throw new Error('AuthGuard only guards HTTP routes');
    }
    const { surface, role, capabilities, workflow } = this.requirementsOf(context);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();

    const principal = await this.authenticate(request, surface);
    if (!principal) return true; // the operator
    this.authorize(principal, role, capabilities);
    await this.checkWorkflowScope(principal, workflow, request);
    return true;
  }

  /**
   * Resolves the caller for `surface` from the request's headers and records it on the request: the
   * `Principal` (returned), or `operator` on the admin surface (null); a 401 saying what is wrong otherwise.
   * Once per request: the gateway calls it before the body is read, and `canActivate` then finds the caller
   * already there.
   */
  async authenticate(
    request: Pick<AuthenticatedRequest, 'headers' | 'principal' | 'operator'>,
    surface: AuthSurface,
  ): Promise<Principal | null> {
    if (surface === 'operator') {
      if (!request.operator) this.authenticateOperator(request);
      return null;
    }
    return (request.principal ??=
      surface === 'bearer'
        ? await this.authenticateBearer(request)
        : await this.authenticateOrgKey(request));
  }

  /**
   * The route's surface, role and capabilities, read from its decorators once per handler and class: the
   * metadata is fixed at startup, and the guard runs on every request (more than once when several
   * decorators apply it).
   */
  private requirementsOf(context: ExecutionContext): RouteRequirements {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byClass = this.requirements.get(handler);
    if (!byClass) this.requirements.set(handler, (byClass = new WeakMap()));
    let found = byClass.get(controller);
    if (found) return found;
    const targets = [handler, controller];
    const surface = this.reflector.getAllAndOverride<AuthSurface | undefined>(
      AUTH_SURFACE_KEY,
      targets,
    );
    if (!surface) {
      // A programming error, not a client one: fail loudly instead of serving the route unguarded.
      throw new Error(
        `${controller.name}.${handler.name}: @RequireRole/@RequireCapability ` +
          'need @Authenticated(...) on the route or its controller',
      );
    }
    found = {
      surface,
      role: this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE_KEY, targets),
      capabilities: this.reflector.getAllAndMerge<string[]>(REQUIRED_CAPABILITIES_KEY, targets),
      workflow: this.reflector.getAllAndOverride<WorkflowTarget | undefined>(
        WORKFLOW_SCOPE_KEY,
        targets,
      ),
    };
    byClass.set(controller, found);
    return found;
  }

  private authenticateOperator(request: AuthenticatedRequest): void {
    const token = bearerToken(
      request,
      'admin endpoints take `Authorization: Bearer <operator token>`',
    );
    if (apiKeyKindOf(token) !== null || looksLikeJwt(token)) {
      throw new AuthenticationFailedException(
        AuthFailure.NotOperator,
        'Admin endpoints accept only the operator token; API keys and user JWTs are not accepted here',
      );
    }
    // Compare digests: equal lengths for timingSafeEqual, and no timing leak of the token's length.
    if (!timingSafeEqual(sha256(token), this.operatorTokenDigest)) {
      throw new AuthenticationFailedException(AuthFailure.NotOperator, 'Invalid operator token');
    }
    request.operator = true;
  }

  private async authenticateBearer(request: AuthenticatedRequest): Promise<Principal> {
    if (request.headers.authorization === undefined && request.headers['api-key'] !== undefined) {
      throw new AuthenticationFailedException(
        AuthFailure.MissingCredentials,
        `Missing Authorization header; ${BEARER_HINT} (the \`api-key\` header is only for /api/private)`,
      );
    }
    const token = bearerToken(request, BEARER_HINT);
    const kind = apiKeyKindOf(token);
    if (kind === 'org_private') {
      throw new AuthenticationFailedException(
        AuthFailure.WrongKeyKind,
        'An organization private key is only accepted in the `api-key` header on /api/private; ' +
          `use a bearer API key (${API_KEY_PREFIX.bearer}…) or a JWT here`,
      );
    }
    if (kind === 'bearer') return this.principalFromApiKey(token, 'bearer');
    if (looksLikeJwt(token)) return this.principalFromJwt(token);
    throw new AuthenticationFailedException(
      AuthFailure.MalformedToken,
      `Malformed bearer token: expected an API key (${API_KEY_PREFIX.bearer}…) or a JWT`,
    );
  }

  private async authenticateOrgKey(request: AuthenticatedRequest): Promise<Principal> {
    const raw = request.headers['api-key'];
    if (raw === undefined) {
      throw new AuthenticationFailedException(
        request.headers.authorization !== undefined
          ? AuthFailure.WrongScheme
          : AuthFailure.MissingCredentials,
        request.headers.authorization !== undefined
          ? `/api/private does not accept the Authorization header; ${ORG_KEY_HINT}`
          : `Missing \`api-key\` header; ${ORG_KEY_HINT}`,
      );
    }
    if (Array.isArray(raw)) {
      throw new AuthenticationFailedException(
        AuthFailure.MalformedToken,
        'Send exactly one `api-key` header',
      );
    }
    const token = raw.trim();
    if (/^bearer\s/i.test(token)) {
      throw new AuthenticationFailedException(
        AuthFailure.WrongScheme,
        "The `api-key` header takes the raw key, without a 'Bearer ' prefix",
      );
    }
    const kind = apiKeyKindOf(token);
    if (kind === 'bearer' || looksLikeJwt(token)) {
      throw new AuthenticationFailedException(
        AuthFailure.WrongKeyKind,
        `${kind === 'bearer' ? 'A bearer API key' : 'A JWT'} is not accepted on /api/private; ${ORG_KEY_HINT}`,
      );
    }
    if (kind === null) {
      throw new AuthenticationFailedException(
        AuthFailure.MalformedToken,
        `Malformed \`api-key\` header: expected an organization private key (${API_KEY_PREFIX.org_private}…)`,
      );
    }
    return this.principalFromApiKey(token, 'org_private');
  }

  private async principalFromApiKey(
    token: string,
    expected: 'bearer' | 'org_private',
  ): Promise<Principal> {
    if (!isWellFormedApiKey(token)) {
      throw new AuthenticationFailedException(
        AuthFailure.MalformedToken,
        'Malformed API key: it does not have the length or alphabet of a key this platform issues',
      );
    }
    const key = await this.store.findApiKeyByHash(hashApiKey(token));
    if (!key) throw new AuthenticationFailedException(AuthFailure.UnknownKey, 'Unknown API key');
    if (key.revokedAt) {
      throw new AuthenticationFailedException(
        AuthFailure.RevokedKey,
        `This API key was revoked at ${key.revokedAt.toISOString()}`,
      );
    }
    if (key.kind !== expected) {
      // The prefix and the stored kind disagree only if a row was edited by hand; refuse either way.
      throw new AuthenticationFailedException(
        AuthFailure.WrongKeyKind,
        `This API key is of kind '${key.kind}', not accepted on this route`,
      );
    }
    return {
      orgId: key.orgId,
      orgKey: key.orgKey,
      userId: key.userId,
      role: key.role,
      via: key.kind === 'bearer' ? 'api_key' : 'org_key',
      apiKeyId: key.apiKeyId,
      capabilities: key.capabilities,
    };
  }

  private async principalFromJwt(token: string): Promise<Principal> {
    const claims = await this.jwt.verify(token);
    const user = await this.store.findUser(claims.org, claims.sub);
    if (!user) {
      throw new AuthenticationFailedException(
        AuthFailure.UnknownUser,
        `JWT user ${claims.sub} does not exist in org ${claims.org} (deleted, or the token is for another org)`,
      );
    }
    if (user.orgKey !== claims.org_key) {
      throw new AuthenticationFailedException(
        AuthFailure.ClaimMismatch,
        `JWT claim 'org_key' (${claims.org_key}) does not match org ${claims.org}`,
      );
    }
    return {
      orgId: user.orgId,
      orgKey: user.orgKey,
      userId: user.userId,
      // Least privilege: admin only if both the token and the directory say so.
      role: claims.role === 'admin' && user.role === 'admin' ? 'admin' : 'member',
      via: 'jwt',
      apiKeyId: null,
      capabilities: user.capabilities,
      workflowId: claims.workflow_id ?? null,
    };
  }

  private authorize(principal: Principal, role: Role | undefined, capabilities: string[]): void {
    if (role === 'admin' && principal.role !== 'admin') {
      const who =
        principal.role === 'member'
          ? `user ${principal.userId} is a member`
          : principal.via === 'org_key'
            ? 'an organization private key has no user role'
            : 'this API key is not bound to a user';
      throw new AccessDeniedException(
        AuthFailure.InsufficientRole,
        `This operation requires the admin role; ${who}`,
      );
    }
    for (const capability of capabilities) {
      if (!principal.capabilities.includes(capability)) {
        throw new AccessDeniedException(
          AuthFailure.MissingCapability,
          capabilityDeniedMessage(capability, principal.orgKey),
        );
      }
    }
  }

  /**
   * A token scoped to one workflow acts only on that workflow, its runs and their files: on the routes that
   * declare where they find their workflow (`@WorkflowScoped`), when it resolves to the scope's. Every other
   * route acts on the whole org and refuses it. Unscoped callers pass without a lookup.
   */
  private async checkWorkflowScope(
    principal: Principal,
    target: WorkflowTarget | undefined,
    request: AuthenticatedRequest,
  ): Promise<void> {
    const scope = principal.workflowId ?? null;
    if (scope === null) return;
    if (!target) throw outsideWorkflowScope(scope, 'the whole organization');
    if ('inBody' in target) return; // the handler checks the workflow its body names
    const param = (name: string) => {
      const value = request.params?.[name];
      if (value === undefined) {
        throw new Error(
          `@WorkflowScoped names the path parameter '${name}', which the route lacks`,
        );
      }
      return value;
    };
    if ('workflowIdParam' in target) {
      assertWorkflowInScope(principal, param(target.workflowIdParam));
    } else if ('workflowNameParam' in target) {
      const name = param(target.workflowNameParam);
      if ((await this.workflows.workflowIdByName(principal, name)) !== scope) {
        throw outsideWorkflowScope(scope, `workflow '${name}'`);
      }
    } else {
      const runId = param(target.runIdParam);
      if ((await this.workflows.workflowIdOfRun(principal, runId)) !== scope) {
        throw outsideWorkflowScope(scope, `run ${runId}`);
      }
    }
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

/** The token of `Authorization: Bearer <token>`, or a 401 saying what is wrong with the header. */
function bearerToken(request: AuthenticatedRequest, hint: string): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    throw new AuthenticationFailedException(
      AuthFailure.MissingCredentials,
      `Missing Authorization header; ${hint}`,
    );
  }
  if (Array.isArray(header)) {
    throw new AuthenticationFailedException(
      AuthFailure.MalformedToken,
      'Send exactly one Authorization header',
    );
  }
  const [scheme, ...rest] = header.trim().split(/\s+/);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new AuthenticationFailedException(
      AuthFailure.WrongScheme,
      `Unsupported authorization scheme '${scheme}'; ${hint}`,
    );
  }
  if (rest.length !== 1) {
    throw new AuthenticationFailedException(
      AuthFailure.MalformedToken,
      rest.length === 0
        ? 'The Authorization header has the Bearer scheme but no token'
        : 'The Authorization header must be exactly `Bearer <token>`',
    );
  }
  return rest[0];
}
