import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateway's identity schema: orgs, their users and API keys. Unqualified names resolve to the
 * `identity` schema through the connection's search_path (see `dataSourceOptions`).
 * WARNING: table and column names are persisted; change them only with a new migration.
 */
export class CreateIdentityTables1764000000000 implements MigrationInterface {
  name = 'CreateIdentityTables1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE orgs (
        id uuid PRIMARY KEY,
        key text NOT NULL,
        name text NOT NULL,
        capabilities text[] NOT NULL DEFAULT '{objects}',
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT orgs_key_format CHECK (key ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        CONSTRAINT orgs_name_not_blank CHECK (length(btrim(name)) > 0)
      )`);
    await q.query(`CREATE UNIQUE INDEX orgs_key_uq ON orgs (key)`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        email text NOT NULL,
        role text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_role_valid CHECK (role IN ('admin', 'member')),
        -- The service stores emails lower-cased, so this makes them unique case-insensitively.
        CONSTRAINT users_email_lower CHECK (email = lower(email)),
        -- Target of api_keys' composite key: a key's user is always in the key's org.
        CONSTRAINT users_org_id_id_uq UNIQUE (org_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX users_org_email_uq ON users (org_id, email)`);

    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        user_id uuid,
        kind text NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL,
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT api_keys_kind_valid CHECK (kind IN ('bearer', 'org_private')),
        CONSTRAINT api_keys_org_key_has_no_user CHECK (kind = 'bearer' OR user_id IS NULL),
        CONSTRAINT api_keys_secret_hash_sha256 CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
        CONSTRAINT api_keys_user_fk FOREIGN KEY (org_id, user_id)
          REFERENCES users (org_id, id) ON DELETE CASCADE
      )`);
    // The hot-path lookup: one unique-index probe per uncached request.
    await q.query(`CREATE UNIQUE INDEX api_keys_secret_hash_uq ON api_keys (secret_hash)`);
    await q.query(`CREATE INDEX api_keys_org_id_idx ON api_keys (org_id, created_at)`);
    await q.query(
      `CREATE INDEX api_keys_user_id_idx ON api_keys (user_id) WHERE user_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE orgs`);
  }
}
