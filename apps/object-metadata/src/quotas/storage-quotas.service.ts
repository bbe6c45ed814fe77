import { Injectable } from '@nestjs/common';
import type { OrgQuotaParams, OrgQuotaView } from '@lib/contracts';
import type { Tx } from '@lib/database';
import { OrgQuotasRepository, StorageChange } from './org-quotas.repository';
import { QuotaExceededException } from './quotas.exception';

/** Whether a change keeps its org within its limits: what it adds, if anything, fits in what is left. */
export function fitsQuota(quota: OrgQuotaView, change: StorageChange): boolean {
  return (
    (change.files <= 0 ||
      quota.maxFiles === null ||
      quota.usedFiles + change.files <= quota.maxFiles) &&
    (change.bytes <= 0 ||
      quota.maxBytes === null ||
      quota.usedBytes + change.bytes <= quota.maxBytes)
  );
}

/**
 * Per-org storage quotas (files and bytes), checked where the records are written: every change of a
 * stored file of any kind counts here, in its own transaction, before its writes. The counters are exact
 * at every commit (no event pipeline between them and the check), so the records of an org never pass its
 * quota, whatever the concurrency: a charge locks the org's row until its transaction ends.
 */
@Injectable()
export class StorageQuotas {
  constructor(private readonly repo: OrgQuotasRepository) {}

  /**
   * Counts these changes, in the caller's transaction: each is admitted (null) or refused (its exception)
   * when it would add files or bytes past its org's quota, earlier changes first. Removals always pass. One
   * statement for the changes of every org that stays within its limits; an org that would not has its
   * changes weighed one by one under its row's lock.
   */
  async charge(m: Tx, changes: StorageChange[]): Promise<(QuotaExceededException | null)[]> {
    const answers: (QuotaExceededException | null)[] = changes.map(() => null);
    if (changes.length === 0) return answers;
    const totals = new Map<string, StorageChange>();
    for (const c of changes) {
      const total = totals.get(c.orgId) ?? { orgId: c.orgId, files: 0, bytes: 0 };
      total.files += c.files;
      total.bytes += c.bytes;
      totals.set(c.orgId, total);
    }
    const added = await this.repo.addWithinLimits(m, [...totals.values()]);
    const refused = [...totals.keys()].filter((orgId) => !added.has(orgId));
    if (refused.length === 0) return answers;
    const quotas = await this.repo.lock(m, refused);
    for (const orgId of refused) {
      // Only a row's limits refuse, so the org has one.
      const quota = { ...quotas.get(orgId)! };
      const admitted: StorageChange = { orgId, files: 0, bytes: 0 };
      changes.forEach((c, i) => {
        if (c.orgId !== orgId) return;
        if (!fitsQuota(quota, c)) {
          answers[i] = new QuotaExceededException(quota, c);
          return;
        }
        quota.usedFiles += c.files;
        quota.usedBytes += c.bytes;
        admitted.files += c.files;
        admitted.bytes += c.bytes;
      });
      if (admitted.files !== 0 || admitted.bytes !== 0) await this.repo.add(m, admitted);
    }
    return answers;
  }

  /** `charge` of one change; throws its refusal. */
  async chargeOne(m: Tx, change: StorageChange): Promise<void> {
    const [refusal] = await this.charge(m, [change]);
    if (refusal) throw refusal;
  }

  view(orgId: string): Promise<OrgQuotaView> {
    return this.repo.find(orgId);
  }

  setLimits(orgId: string, limits: OrgQuotaParams): Promise<OrgQuotaView> {
    return this.repo.setLimits(orgId, limits);
  }
}
