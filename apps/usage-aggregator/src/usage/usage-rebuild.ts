import type { DataSource } from 'typeorm';
import { type TruthFile, UsageRepository } from './usage.repository';

export type { TruthFile };

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
    await repository.beginRebuild(manager);
    let count = 0;
    let cursor: string | null = null;
    do {
      const page = await pages(cursor);
      const files = page.files.filter((f) => f.orgId === orgId);
      if (files.length > 0) await repository.addTruthFiles(manager, files);
      count += files.length;
      cursor = page.nextCursor;
    } while (cursor !== null);
    await repository.replaceWithTruth(manager, orgId);
    return count;
  });
}
