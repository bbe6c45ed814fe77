import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { FileState, UsageDelta } from './usage-delta';

export interface OrgUsageRow {
  orgId: string;
  orgKey: string;
  totalBytes: number;
  inputBytes: number;
  outputBytes: number;
  fileCount: number;
}

interface FileUsageRow {
  object_id: string;
  org_id: string;
  workflow_id: string | null;
  created_by: string | null;
  direction: FileState['direction'];
  size_bytes: string;
  live: boolean;
  version: number;
}

/** The only place that touches the usage tables. */
@Injectable()
export class UsageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Known states of these files, locked until the transaction ends (concurrent partitions stay exact). */
  async lockFiles(manager: EntityManager, objectIds: string[]): Promise<Map<string, FileState>> {
    const rows: FileUsageRow[] = await manager.query(
      `SELECT * FROM file_usage WHERE object_id = ANY($1) ORDER BY object_id FOR UPDATE`,
      [objectIds],
    );
    return new Map(
      rows.map((r) => [
        r.object_id,
        {
          objectId: r.object_id,
          orgId: r.org_id,
          workflowId: r.workflow_id,
          createdBy: r.created_by,
          direction: r.direction,
          sizeBytes: Number(r.size_bytes),
          live: r.live,
          version: r.version,
        },
      ]),
    );
  }

  async saveFiles(manager: EntityManager, files: FileState[]): Promise<void> {
    if (files.length === 0) return;
    await manager.query(
      `INSERT INTO file_usage (object_id, org_id, workflow_id, created_by, direction, size_bytes, live, version)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::bigint[], $7::bool[], $8::int[])
       ON CONFLICT (object_id) DO UPDATE SET
         workflow_id = EXCLUDED.workflow_id, created_by = EXCLUDED.created_by, direction = EXCLUDED.direction,
         size_bytes = EXCLUDED.size_bytes, live = EXCLUDED.live, version = EXCLUDED.version`,
      [
        files.map((f) => f.objectId),
        files.map((f) => f.orgId),
        files.map((f) => f.workflowId),
        files.map((f) => f.createdBy),
        files.map((f) => f.direction),
        files.map((f) => f.sizeBytes),
        files.map((f) => f.live),
        files.map((f) => f.version),
      ],
    );
  }

  /** Adds the deltas of a batch to each org's totals, one row per org. */
  async addToOrgs(
    manager: EntityManager,
    deltas: Map<string, { orgKey: string; delta: UsageDelta }>,
  ): Promise<void> {
    const orgs = [...deltas.entries()].sort(([a], [b]) => a.localeCompare(b)); // fixed lock order
    if (orgs.length === 0) return;
    await manager.query(
      `INSERT INTO org_usage (org_id, org_key, total_bytes, input_bytes, output_bytes, file_count)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
       ON CONFLICT (org_id) DO UPDATE SET
         org_key = EXCLUDED.org_key,
         total_bytes = org_usage.total_bytes + EXCLUDED.total_bytes,
         input_bytes = org_usage.input_bytes + EXCLUDED.input_bytes,
         output_bytes = org_usage.output_bytes + EXCLUDED.output_bytes,
         file_count = org_usage.file_count + EXCLUDED.file_count`,
      [
        orgs.map(([id]) => id),
        orgs.map(([, o]) => o.orgKey),
        orgs.map(([, o]) => o.delta.totalBytes),
        orgs.map(([, o]) => o.delta.inputBytes),
        orgs.map(([, o]) => o.delta.outputBytes),
        orgs.map(([, o]) => o.delta.fileCount),
      ],
    );
  }

  async findOrg(orgId: string): Promise<OrgUsageRow | undefined> {
    const rows: Record<string, string>[] = await this.dataSource.query(
      `SELECT org_id, org_key, total_bytes, input_bytes, output_bytes, file_count FROM org_usage WHERE org_id = $1`,
      [orgId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      orgId: r.org_id,
      orgKey: r.org_key,
      totalBytes: Number(r.total_bytes),
      inputBytes: Number(r.input_bytes),
      outputBytes: Number(r.output_bytes),
      fileCount: Number(r.file_count),
    };
  }
}
