import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { OrgQuotaView } from '@lib/contracts';
import { DataSource, EntityManager } from 'typeorm';

/** Files and bytes an org's records gain (negative: lose) in one change. */
export interface StorageChange {
  orgId: string;
  files: number;
  bytes: number;
}

interface QuotaRow {
  org_id: string;
  max_bytes: string | null;
  max_files: string | null;
  used_bytes: string;
  used_files: string;
}

const toView = (r: QuotaRow): OrgQuotaView => ({
  maxBytes: r.max_bytes === null ? null : Number(r.max_bytes),
  maxFiles: r.max_files === null ? null : Number(r.max_files),
  usedBytes: Number(r.used_bytes),
  usedFiles: Number(r.used_files),
});

/** An org without a row stores nothing and has no limits. */
export const UNLIMITED_AND_EMPTY: OrgQuotaView = {
  maxBytes: null,
  maxFiles: null,
  usedBytes: 0,
  usedFiles: 0,
};

/** The only place touching `org_quotas`. */
@Injectable()
export class OrgQuotasRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Adds each org's change (one per org) to its counters, unless it adds files or bytes past the org's
   * limits: the rule of `fitsQuota`, checked on the row as the statement locks it. Answers the orgs it added
   * to. Rows are locked in org id order, so concurrent callers cannot deadlock on them.
   */
  async addWithinLimits(m: EntityManager, changes: StorageChange[]): Promise<Set<string>> {
    const sorted = [...changes].sort((a, b) => (a.orgId < b.orgId ? -1 : 1));
    const rows = await m.query<{ org_id: string }[]>(
      `INSERT INTO org_quotas AS q (org_id, used_files, used_bytes)
       SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[])
       ON CONFLICT (org_id) DO UPDATE
         SET used_files = q.used_files + EXCLUDED.used_files,
             used_bytes = q.used_bytes + EXCLUDED.used_bytes, updated_at = now()
         WHERE (EXCLUDED.used_files <= 0 OR q.max_files IS NULL
                OR q.used_files + EXCLUDED.used_files <= q.max_files)
           AND (EXCLUDED.used_bytes <= 0 OR q.max_bytes IS NULL
                OR q.used_bytes + EXCLUDED.used_bytes <= q.max_bytes)
       RETURNING org_id`,
      [sorted.map((c) => c.orgId), sorted.map((c) => c.files), sorted.map((c) => c.bytes)],
    );
    return new Set(rows.map((r) => r.org_id));
  }

  /** Locks these orgs' rows until the transaction ends and answers them (orgs without one are absent). */
  async lock(m: EntityManager, orgIds: string[]): Promise<Map<string, OrgQuotaView>> {
    const rows = await m.query<QuotaRow[]>(
      `SELECT * FROM org_quotas WHERE org_id = ANY($1) ORDER BY org_id FOR UPDATE`,
      [orgIds],
    );
    return new Map(rows.map((r) => [r.org_id, toView(r)]));
  }

  /** Adds to an org's counters, limits aside (its changes were checked against them under `lock`). */
  async add(m: EntityManager, change: StorageChange): Promise<void> {
    await m.query(
      `UPDATE org_quotas SET used_files = used_files + $2, used_bytes = used_bytes + $3,
         updated_at = now()
       WHERE org_id = $1`,
      [change.orgId, change.files, change.bytes],
    );
  }

  async find(orgId: string): Promise<OrgQuotaView> {
    const rows = await this.db.query<QuotaRow[]>(`SELECT * FROM org_quotas WHERE org_id = $1`, [
      orgId,
    ]);
    return rows[0] ? toView(rows[0]) : UNLIMITED_AND_EMPTY;
  }

  /** Sets an org's limits (null: unlimited); its counters are untouched. */
  async setLimits(
    orgId: string,
    limits: { maxBytes: number | null; maxFiles: number | null },
  ): Promise<OrgQuotaView> {
    const rows = await this.db.query<QuotaRow[]>(
      `INSERT INTO org_quotas (org_id, max_bytes, max_files) VALUES ($1, $2, $3)
       ON CONFLICT (org_id) DO UPDATE
         SET max_bytes = EXCLUDED.max_bytes, max_files = EXCLUDED.max_files, updated_at = now()
       RETURNING *`,
      [orgId, limits.maxBytes, limits.maxFiles],
    );
    return toView(rows[0]);
  }
}
