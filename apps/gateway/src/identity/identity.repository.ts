import type { ApiKeyCredential, Role, UserCredential } from '@lib/auth';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PgErrorCode, pgErrorOf } from '@lib/database';
import { DataSource, IsNull } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';
import { IDENTITY_CONNECTION } from './identity-data-source';
import { OrgEntity } from './org.entity';
import { UserEntity } from './user.entity';

/** A unique index refused an insert; `constraint` names the index (e.g. `orgs_key_uq`). */
export class UniqueViolationError extends Error {
  constructor(readonly constraint: string) {
    super(`unique constraint ${constraint} violated`);
    this.name = 'UniqueViolationError';
  }
}

interface CredentialRow {
  api_key_id: string;
  kind: ApiKeyCredential['kind'];
  org_id: string;
  org_key: string;
  user_id: string | null;
  role: Role | null;
  capabilities: string[];
  revoked_at: Date | null;
}

interface UserCredentialRow {
  org_id: string;
  org_key: string;
  user_id: string;
  role: Role;
  capabilities: string[];
}

/** The only file of the identity feature that touches TypeORM. */
@Injectable()
export class IdentityRepository {
  constructor(@InjectDataSource(IDENTITY_CONNECTION) private readonly dataSource: DataSource) {}

  private get orgs() {
    return this.dataSource.getRepository(OrgEntity);
  }

  private get users() {
    return this.dataSource.getRepository(UserEntity);
  }

  private get apiKeys() {
    return this.dataSource.getRepository(ApiKeyEntity);
  }

  async insertOrg(org: OrgEntity): Promise<OrgEntity> {
    await this.insert(() => this.orgs.insert(org));
    return org;
  }

  findOrgById(id: string): Promise<OrgEntity | null> {
    return this.orgs.findOneBy({ id });
  }

  findOrgByKey(key: string): Promise<OrgEntity | null> {
    return this.orgs.findOneBy({ key });
  }

  listOrgs(): Promise<OrgEntity[]> {
    return this.orgs.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async updateOrgCapabilities(id: string, capabilities: string[]): Promise<OrgEntity | null> {
    const result = await this.orgs.update({ id }, { capabilities });
    return result.affected ? this.findOrgById(id) : null;
  }

  async insertUser(user: UserEntity): Promise<UserEntity> {
    await this.insert(() => this.users.insert(user));
    return user;
  }

  findUser(orgId: string, userId: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ orgId, id: userId });
  }

  findUserByEmail(orgId: string, email: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ orgId, email });
  }

  listUsers(orgId: string): Promise<UserEntity[]> {
    return this.users.find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Deletes the user and, by cascade, their API keys. False when the org has no such user. */
  async deleteUser(orgId: string, userId: string): Promise<boolean> {
    const result = await this.users.delete({ orgId, id: userId });
    return (result.affected ?? 0) > 0;
  }

  async insertApiKey(key: ApiKeyEntity): Promise<ApiKeyEntity> {
    await this.insert(() => this.apiKeys.insert(key));
    return key;
  }

  findApiKey(id: string): Promise<ApiKeyEntity | null> {
    return this.apiKeys.findOneBy({ id });
  }

  listApiKeys(orgId: string): Promise<ApiKeyEntity[]> {
    return this.apiKeys.find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Sets `revoked_at` once; revoking again keeps the first time. Null when the key does not exist. */
  async revokeApiKey(id: string, at: Date): Promise<ApiKeyEntity | null> {
    await this.apiKeys.update({ id, revokedAt: IsNull() }, { revokedAt: at });
    return this.findApiKey(id);
  }

  /** The hot path of key authentication: one probe of the unique hash index, joined to its org and user. */
  async findApiKeyCredential(secretHash: string): Promise<ApiKeyCredential | null> {
    const rows: CredentialRow[] = await this.dataSource.query(
      `SELECT k.id AS api_key_id, k.kind, k.org_id, o.key AS org_key, k.user_id, u.role,
              o.capabilities, k.revoked_at
         FROM api_keys k
         JOIN orgs o ON o.id = k.org_id
         LEFT JOIN users u ON u.id = k.user_id
        WHERE k.secret_hash = $1`,
      [secretHash],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      apiKeyId: row.api_key_id,
      kind: row.kind,
      orgId: row.org_id,
      orgKey: row.org_key,
      userId: row.user_id,
      role: row.role,
      capabilities: row.capabilities,
      revokedAt: row.revoked_at,
    };
  }

  async findUserCredential(orgId: string, userId: string): Promise<UserCredential | null> {
    const rows: UserCredentialRow[] = await this.dataSource.query(
      `SELECT u.org_id, o.key AS org_key, u.id AS user_id, u.role, o.capabilities
         FROM users u
         JOIN orgs o ON o.id = u.org_id
        WHERE u.id = $1 AND u.org_id = $2`,
      [userId, orgId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      orgId: row.org_id,
      orgKey: row.org_key,
      userId: row.user_id,
      role: row.role,
      capabilities: row.capabilities,
    };
  }

  private async insert(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (e) {
      const pg = pgErrorOf(e);
      if (pg?.code === PgErrorCode.UniqueViolation) {
        throw new UniqueViolationError(pg.constraint ?? 'unknown');
      }
      throw e;
    }
  }
}
