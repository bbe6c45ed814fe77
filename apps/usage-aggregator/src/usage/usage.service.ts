import { Injectable } from '@nestjs/common';
import type { RunCreatedEvent, StorageFileUpdatedEvent, UsageView } from '@lib/contracts';
import type { Tx } from '@lib/database';
import {
  addChange,
  ALL_USERS,
  ALL_WORKFLOWS,
  applyFileEvent,
  FileState,
  UsageBucket,
  UsageDelta,
} from './usage-delta';
import { UsageRepository } from './usage.repository';

@Injectable()
export class UsageService {
  constructor(private readonly usage: UsageRepository) {}

  /**
   * Applies a batch of first-seen `storage_file.updated` events inside the consumer's transaction: reads each
   * file's known state once (locked), folds the events in (older versions change nothing), then writes the
   * changed files and the summed delta of each usage row in one statement.
   */
  async apply(manager: Tx, events: StorageFileUpdatedEvent[]): Promise<void> {
    const known = await this.usage.lockFiles(manager, [...new Set(events.map((e) => e.objectId))]);
    const first = new Map<string, FileState | undefined>();
    for (const event of events) {
      const current = known.get(event.objectId);
      const result = applyFileEvent(current, event);
      if (!result) continue;
      if (!first.has(event.objectId)) first.set(event.objectId, current);
      known.set(event.objectId, result.next);
    }
    const deltas = new Map<string, { bucket: UsageBucket; delta: UsageDelta }>();
    const changed: FileState[] = [];
    for (const [objectId, before] of first) {
      const after = known.get(objectId)!;
      changed.push(after);
      addChange(deltas, before, after);
    }
    await this.usage.saveBatch(manager, changed, [...deltas.values()]);
  }

  /** Records the workflow names `run.created` carries (for the breakdown). */
  async applyRuns(manager: Tx, events: RunCreatedEvent[]): Promise<void> {
    await this.usage.saveWorkflowNames(
      manager,
      events.map((e) => ({
        workflowId: e.workflowId,
        orgId: e.orgId,
        name: e.workflowName,
        namedAt: e.occurredAt,
      })),
    );
  }

  /** The org's usage, or one user's uploads in it (`createdBy`), from the pre-aggregated rows only. */
  async forOrg(orgId: string, createdBy?: string): Promise<UsageView> {
    const rows = await this.usage.findTotals(orgId, createdBy ?? ALL_USERS);
    const total = rows.find((r) => r.workflowId === ALL_WORKFLOWS);
    return {
      orgKey: null,
      totalBytes: total?.totalBytes ?? 0,
      inputBytes: total?.inputBytes ?? 0,
      outputBytes: total?.outputBytes ?? 0,
      fileCount: total?.fileCount ?? 0,
      breakdown: rows
        .filter((r) => r.workflowId !== ALL_WORKFLOWS)
        .map((r) => ({
          workflowId: r.workflowId,
          // Unknown until the workflow's run.created is consumed (topics are not ordered together).
          workflowName: r.workflowName ?? '',
          bytes: r.totalBytes,
          fileCount: r.fileCount,
        })),
    };
  }
}
