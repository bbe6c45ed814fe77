import type { ServicePrincipal } from '@lib/contracts';
import { waitFor, type TestOrg, type TestPlatform } from '@lib/testing';

export interface Usage {
  orgKey: string;
  totalBytes: number;
  inputBytes: number;
  outputBytes: number;
  fileCount: number;
  breakdown: { workflowId: string; workflowName: string; bytes: number; fileCount: number }[];
}

export interface LiveFile {
  objectId: string;
  orgId: string;
  sizeBytes: number;
  direction: 'input' | 'output' | 'none';
  workflowId: string | null;
  createdBy: string | null;
}

/** Usage as it must be: computed with plain JS from object-metadata's census of live files. */
export function truthOf(files: LiveFile[], createdBy?: string) {
  const mine = createdBy ? files.filter((f) => f.createdBy === createdBy) : files;
  const byWorkflow = new Map<string, { bytes: number; fileCount: number }>();
  for (const f of mine) {
    if (!f.workflowId) continue;
    const w = byWorkflow.get(f.workflowId) ?? { bytes: 0, fileCount: 0 };
    w.bytes += f.sizeBytes;
    w.fileCount += 1;
    byWorkflow.set(f.workflowId, w);
  }
  const sum = (pick: (f: LiveFile) => number) => mine.reduce((n, f) => n + pick(f), 0);
  return {
    totalBytes: sum((f) => f.sizeBytes),
    inputBytes: sum((f) => (f.direction === 'input' ? f.sizeBytes : 0)),
    outputBytes: sum((f) => (f.direction === 'output' ? f.sizeBytes : 0)),
    fileCount: mine.length,
    breakdown: [...byWorkflow.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([workflowId, w]) => ({ workflowId, ...w })),
  };
}

/**
 * object-metadata's census of an org's live files (every kind), page by page, read as the usage-aggregator's
 * rebuild reads it.
 */
export async function liveFiles(t: TestPlatform, o: TestOrg): Promise<LiveFile[]> {
  const principal: ServicePrincipal = {
    orgId: o.orgId,
    orgKey: o.orgKey,
    userId: null,
    role: null,
    actor: { type: 'system', id: 'usage-aggregator' },
    workflowId: null,
  };
  const authorization = `Bearer ${t.serviceToken('usage-aggregator', 'object-metadata', principal)}`;
  const files: LiveFile[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    const res = await fetch(
      `${t.platform.urls['object-metadata']}/internal/files/live?${q.toString()}`,
      { headers: { authorization } },
    );
    if (res.status !== 200) throw new Error(`census of ${o.orgId} → ${res.status}`);
    const page = (await res.json()) as { files: LiveFile[]; nextCursor: string | null };
    files.push(...page.files);
    cursor = page.nextCursor;
  } while (cursor);
  return files;
}

/** The org's usage as the gateway answers it. */
export async function usageOf(t: TestPlatform, o: TestOrg, createdBy?: string): Promise<Usage> {
  const res = await fetch(
    `${t.gatewayUrl}/api/v1/objects/storage-usage${createdBy ? `?createdBy=${createdBy}` : ''}`,
    { headers: { authorization: `Bearer ${o.adminJwt}` } },
  );
  if (res.status !== 200) throw new Error(`storage-usage → ${res.status}`);
  return (await res.json()) as Usage;
}

/** Waits until the org's usage equals the truth of object-metadata's records (the consumer catches up). */
export async function expectUsageIsTruth(
  t: TestPlatform,
  o: TestOrg,
  timeoutMs = 60_000,
): Promise<void> {
  let last: unknown;
  await waitFor(
    'usage to equal the truth of the object records',
    async () => {
      const want = truthOf(await liveFiles(t, o));
      const got = await usageOf(t, o);
      const comparable = {
        totalBytes: got.totalBytes,
        inputBytes: got.inputBytes,
        outputBytes: got.outputBytes,
        fileCount: got.fileCount,
        breakdown: got.breakdown.map(({ workflowId, bytes, fileCount }) => ({
          workflowId,
          bytes,
          fileCount,
        })),
      };
      last = { got: comparable, want };
      // Same key order on both sides (jest's realm makes fetched arrays fail a deep-equality check).
      return JSON.stringify(comparable) === JSON.stringify(want);
    },
    { timeoutMs, intervalMs: 100 },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(last)}`);
  });
}
