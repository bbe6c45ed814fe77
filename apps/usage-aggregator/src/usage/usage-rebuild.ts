import type { FileDirection } from '@lib/contracts';
import type { DataSource } from 'typeorm';
import { UsageRepository } from './usage.repository';

/** A live file as object-metadata's census lists it (`GET /internal/files/live`). */
export interface TruthFile {
  objectId: string;
  orgId: string;
  orgKey: string;
  workflowId: string | null;
  createdBy: string | null;
  direction: FileDirection;
  sizeBytes: number;
  version: number;
}

/** One page of the census of the org; `nextCursor` null on the last. */
export type TruthPages = (
  cursor: string | null,
) => Promise<{ files: TruthFile[]; nextCursor: string | null }>;

/**
 * Recomputes an org's usage from scratch (`rebuild-usage`): every file's state from the org's census of live
 * files, and every total from the file states. Runs in one transaction that first locks the usage tables
 * against the consumer (reads of the endpoint go on): whatever the consumer applied happened before the
 * census is read, so the census includes it, and whatever it applies afterwards is newer (higher versions)
 * and lands on top. Files missing from the census stay known (their version keeps late events out) but count
 * no more. Returns the number of live files counted.
 */
export async function rebuildUsage(
  dataSource: DataSource,
  orgId: string,
  pages: TruthPages,
): Promise<number> {
  const repository = new UsageRepository(dataSource);
  return dataSource.transaction(async (manager) => {
    // A rebuild of millions of files outlasts the per-statement limit every service sets.
    await manager.query(`SET LOCAL statement_timeout = 0`);
    await manager.query(`SET LOCAL idle_in_transaction_session_timeout = '10min'`);
    await manager.query(`LOCK TABLE file_usage, usage_totals IN EXCLUSIVE MODE`);
    await manager.query(`
      CREATE TEMPORARY TABLE truth_files (
        object_id text PRIMARY KEY, org_id uuid NOT NULL, org_key text NOT NULL, workflow_id text,
        created_by uuid, direction text NOT NULL, size_bytes bigint NOT NULL, version int NOT NULL
      ) ON COMMIT DROP`);
    let count = 0;
    let cursor: string | null = null;
    do {
      const page = await pages(cursor);
      const files = page.files.filter((f) => f.orgId === orgId);
      if (files.length > 0) {
        await manager.query(
          `INSERT INTO truth_files
           SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::bigint[], $8::int[])
           ON CONFLICT DO NOTHING`,
          [
            files.map((f) => f.objectId),
            files.map((f) => f.orgId),
            files.map((f) => f.orgKey),
            files.map((f) => f.workflowId),
            files.map((f) => f.createdBy),
            files.map((f) => f.direction),
            files.map((f) => f.sizeBytes),
            files.map((f) => f.version),
          ],
        );
      }
      count += files.length;
      cursor = page.nextCursor;
    } while (cursor !== null);
    await repository.replaceWithTruth(manager, orgId);
    return count;
  });
}
