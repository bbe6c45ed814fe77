import { randomUUID } from 'node:crypto';
import {
  type ApiKeyKind,
  DEFAULT_CAPABILITIES,
  generateApiKey,
  JwtIssuer,
  ORG_KEY_PATTERN,
  type Role,
} from '@lib/auth';
import { ValidationFailedException } from '@lib/errors';
import { Inject, Injectable } from '@nestjs/common';
import { ApiKeyEntity } from './api-key.entity';
import { CredentialInvalidationService } from './credential-invalidation.service';
import { IdentityErrorCode, IdentityException } from './identity.exception';
import { IdentityRepository, UniqueViolationError } from './identity.repository';
import { OrgEntity } from './org.entity';
import { UserEntity } from './user.entity';

/** Injection token of the `JwtIssuer | null` (null when the gateway verifies RS256 through a JWKS). */
export const JWT_ISSUER = Symbol('JWT_ISSUER');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CAPABILITY = /^[a-z][a-z0-9_-]{0,31}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export interface OrgDetails {
  org: OrgEntity;
  users: UserEntity[];
  apiKeys: ApiKeyEntity[];
}

/** A key as created: the one moment its secret exists outside the client's hands. */
export interface CreatedApiKey {
  apiKey: ApiKeyEntity;
  secret: string;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  org: OrgEntity;
  user: UserEntity;
}

/**
 * Orgs, users and API keys: the operations behind the admin endpoints and the admin CLI. Inputs are
 * checked here too (the CLI has no HTTP pipe), with messages that name the bad value.
 */
@Injectable()
export class IdentityService {
  constructor(
    private readonly repository: IdentityRepository,
    private readonly invalidations: CredentialInvalidationService,
    @Inject(JWT_ISSUER) private readonly jwtIssuer: JwtIssuer | null,
  ) {}

  async createOrg(input: {
    key: string;
    name: string;
    capabilities?: string[];
  }): Promise<OrgEntity> {
    if (!ORG_KEY_PATTERN.test(input.key)) {
      throw invalid(
        `org key '${input.key}' must be 2-63 lower-case letters, digits or dashes, starting with a letter or digit`,
      );
    }
    const name = input.name.trim();
    if (!name) throw invalid('org name must not be empty');
    const org: OrgEntity = {
      id: randomUUID(),
      key: input.key,
      name,
      capabilities: normalizeCapabilities(input.capabilities ?? [...DEFAULT_CAPABILITIES]),
      createdAt: new Date(),
    };
    try {
      return await this.repository.insertOrg(org);
    } catch (e) {
      if (e instanceof UniqueViolationError) {
        throw new IdentityException(
          IdentityErrorCode.OrgKeyTaken,
          `an org with key '${input.key}' already exists`,
        );
      }
      throw e;
    }
  }

  listOrgs(): Promise<OrgEntity[]> {
    return this.repository.listOrgs();
  }

  /** The org by id; 404 when unknown. */
  async getOrg(orgId: string): Promise<OrgEntity> {
    const org = UUID.test(orgId) ? await this.repository.findOrgById(orgId) : null;
    if (!org) throw new IdentityException(IdentityErrorCode.OrgNotFound, `org ${orgId} not found`);
    return org;
  }

  /** The org by id or key (CLI convenience); 404 when neither matches. */
  async findOrg(keyOrId: string): Promise<OrgEntity> {
    const org = UUID.test(keyOrId)
      ? await this.repository.findOrgById(keyOrId)
      : await this.repository.findOrgByKey(keyOrId);
    if (!org)
      throw new IdentityException(IdentityErrorCode.OrgNotFound, `org '${keyOrId}' not found`);
    return org;
  }

  async getOrgDetails(orgId: string): Promise<OrgDetails> {
    const org = await this.getOrg(orgId);
    const [users, apiKeys] = await Promise.all([
      this.repository.listUsers(org.id),
      this.repository.listApiKeys(org.id),
    ]);
    return { org, users, apiKeys };
  }

  async updateCapabilities(orgId: string, capabilities: string[]): Promise<OrgEntity> {
    await this.getOrg(orgId);
    const org = await this.repository.updateOrgCapabilities(
      orgId,
      normalizeCapabilities(capabilities),
    );
    if (!org) throw new IdentityException(IdentityErrorCode.OrgNotFound, `org ${orgId} not found`);
    // Cached principals carry the org's capabilities: drop them on every replica.
    await this.invalidations.publish({ type: 'org', orgId });
    return org;
  }

  async createUser(orgId: string, input: { email: string; role: Role }): Promise<UserEntity> {
    const org = await this.getOrg(orgId);
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw invalid(`'${input.email}' is not an email address`);
    if (input.role !== 'admin' && input.role !== 'member') {
      throw invalid(`role must be 'admin' or 'member', not '${String(input.role)}'`);
    }
    try {
      return await this.repository.insertUser({
        id: randomUUID(),
        orgId: org.id,
        email,
        role: input.role,
        createdAt: new Date(),
      });
    } catch (e) {
      if (e instanceof UniqueViolationError) {
        throw new IdentityException(
          IdentityErrorCode.UserEmailTaken,
          `org '${org.key}' already has a user with email '${email}'`,
        );
      }
      throw e;
    }
  }

  /** The user of an org by id or email; 404 when not in that org. */
  async findUser(orgId: string, idOrEmail: string): Promise<UserEntity> {
    const user = UUID.test(idOrEmail)
      ? await this.repository.findUser(orgId, idOrEmail)
      : await this.repository.findUserByEmail(orgId, idOrEmail.trim().toLowerCase());
    if (!user) {
      throw new IdentityException(
        IdentityErrorCode.UserNotFound,
        `user '${idOrEmail}' not found in org ${orgId}`,
      );
    }
    return user;
  }

  /**
   * Deletes a user and their API keys; their JWTs and keys stop working on every replica at once
   * (the whole org's cached credentials are dropped, which is cheap and rare).
   */
  async deleteUser(orgId: string, userId: string): Promise<void> {
    const org = await this.getOrg(orgId);
    const user = await this.findUser(org.id, userId);
    await this.repository.deleteUser(org.id, user.id);
    await this.invalidations.publish({ type: 'org', orgId: org.id });
  }

  /** Null when the org has no user with that email (for idempotent provisioning). */
  findUserByEmail(orgId: string, email: string): Promise<UserEntity | null> {
    return this.repository.findUserByEmail(orgId, email.trim().toLowerCase());
  }

  /** A bearer key (`Authorization: Bearer`), org-wide or acting as `userId`. */
  async createApiKey(
    orgId: string,
    input: { name: string; userId?: string },
  ): Promise<CreatedApiKey> {
    const org = await this.getOrg(orgId);
    const user = input.userId ? await this.findUser(org.id, input.userId) : null;
    return this.createKey(org, 'bearer', input.name, user?.id ?? null);
  }

  /** The org private key of org storage (`api-key` header on /api/private). */
  async createPrivateKey(orgId: string, input: { name: string }): Promise<CreatedApiKey> {
    const org = await this.getOrg(orgId);
    return this.createKey(org, 'org_private', input.name, null);
  }

  /**
   * Revokes a key everywhere: the row first (the truth), then an invalidation to every gateway's cache.
   * Idempotent: revoking again keeps the first revocation time.
   */
  async revokeApiKey(apiKeyId: string): Promise<ApiKeyEntity> {
    const key = UUID.test(apiKeyId)
      ? await this.repository.revokeApiKey(apiKeyId, new Date())
      : null;
    if (!key) {
      throw new IdentityException(
        IdentityErrorCode.ApiKeyNotFound,
        `API key ${apiKeyId} not found`,
      );
    }
    await this.invalidations.publish({ type: 'api_key', apiKeyId: key.id, hash: key.secretHash });
    return key;
  }

  /** An HS256 JWT for a user (local/dev); a 400 when the gateway runs with a JWKS instead. */
  async issueJwt(input: {
    orgId: string;
    userId: string;
    expiresInSeconds?: number;
    workflowId?: string;
  }): Promise<IssuedToken> {
    if (!this.jwtIssuer) {
      throw new IdentityException(
        IdentityErrorCode.JwtIssuanceUnavailable,
        'JWTs can only be issued with JWT_SECRET (HS256); this gateway verifies RS256 tokens ' +
          'from the identity provider (JWT_JWKS_URL), which must issue them',
      );
    }
    const expiresIn = input.expiresInSeconds ?? 3600;
    const max = this.jwtIssuer.maxLifetimeSeconds;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > max) {
      throw invalid(
        `expiresInSeconds must be an integer between 1 and ${max} (JWT_MAX_LIFETIME_SECONDS)`,
      );
    }
    const org = await this.getOrg(input.orgId);
    const user = await this.findUser(org.id, input.userId);
    const { token, expiresAt } = await this.jwtIssuer.issue(
      {
        sub: user.id,
        org: org.id,
        org_key: org.key,
        role: user.role,
        ...(input.workflowId === undefined ? {} : { workflow_id: input.workflowId }),
      },
      expiresIn,
    );
    return { token, expiresAt, org, user };
  }

  private async createKey(
    org: OrgEntity,
    kind: ApiKeyKind,
    rawName: string,
    userId: string | null,
  ): Promise<CreatedApiKey> {
    const name = rawName.trim();
    if (!name) throw invalid('API key name must not be empty');
    const generated = generateApiKey(kind);
    const apiKey = await this.repository.insertApiKey({
      id: randomUUID(),
      orgId: org.id,
      userId,
      kind,
      name,
      prefix: generated.prefix,
      secretHash: generated.hash,
      createdAt: new Date(),
      revokedAt: null,
    });
    return { apiKey, secret: generated.secret };
  }
}

function invalid(message: string): ValidationFailedException {
  return new ValidationFailedException(message);
}

function normalizeCapabilities(capabilities: string[]): string[] {
  for (const c of capabilities) {
    if (!CAPABILITY.test(c)) {
      throw invalid(`capability '${c}' must be 1-32 lower-case letters, digits, '_' or '-'`);
    }
  }
  return [...new Set(capabilities)].sort();
}
