import { Injectable } from '@nestjs/common';
import type { StorageFileUpdatedEvent } from '@lib/contracts';
import type { EntityManager } from 'typeorm';
import { applyFileEvent, FileState, UsageDelta } from './usage-delta';
import { UsageRepository } from './usage.repository';

export interface StorageUsageDto {
  orgKey: string | null;
  totalBytes: number;
  inputBytes: number;
  outputBytes: number;
  fileCount: number;
  breakdown: { workflowId: string; workflowName: string; bytes: number; fileCount: number }[];
}

const zero = (): UsageDelta => ({ totalBytes: 0, inputBytes: 0, outputBytes: 0, fileCount: 0 });

@Injectable()
export class UsageService {
  constructor(private readonly usage: UsageRepository) {}

  /**
   * Applies a batch of first-seen `storage_file.updated` events inside the consumer's transaction: reads each
   * file's known state once, folds the events in (older versions change nothing), then writes the files and
   * each org's summed delta with one statement each.
   */
  async apply(manager: EntityManager, events: StorageFileUpdatedEvent[]): Promise<void> {
    const known = await this.usage.lockFiles(manager, [...new Set(events.map((e) => e.objectId))]);
    const changed = new Map<string, FileState>();
    const orgs = new Map<string, { orgKey: string; delta: UsageDelta }>();
    for (const event of events) {
      const result = applyFileEvent(known.get(event.objectId), event);
      if (!result) continue;
      known.set(event.objectId, result.next);
      changed.set(event.objectId, result.next);
      const org = orgs.get(event.orgId) ?? { orgKey: event.orgKey, delta: zero() };
      org.delta.totalBytes += result.delta.totalBytes;
      org.delta.inputBytes += result.delta.inputBytes;
      org.delta.outputBytes += result.delta.outputBytes;
      org.delta.fileCount += result.delta.fileCount;
      orgs.set(event.orgId, org);
    }
    await this.usage.saveFiles(manager, [...changed.values()]);
    await this.usage.addToOrgs(manager, orgs);
  }

  async forOrg(orgId: string): Promise<StorageUsageDto> {
    const row = await this.usage.findOrg(orgId);
    return {
      orgKey: row?.orgKey ?? null,
      totalBytes: row?.totalBytes ?? 0,
      inputBytes: row?.inputBytes ?? 0,
      outputBytes: row?.outputBytes ?? 0,
      fileCount: row?.fileCount ?? 0,
      breakdown: [],
    };
  }
}
