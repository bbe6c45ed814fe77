import { QUOTA_EXCEEDED, type OrgQuotaView } from '@lib/contracts';
import { DomainException } from '@lib/errors';
import type { StorageChange } from './org-quotas.repository';

/** A change refused because it would add files or bytes past its org's storage quota (403). */
export class QuotaExceededException extends DomainException {
  constructor(quota: OrgQuotaView, change: StorageChange) {
    const files = change.files > 0 && quota.maxFiles !== null;
    super(
      403,
      QUOTA_EXCEEDED,
      files && quota.usedFiles + change.files > quota.maxFiles!
        ? `storage quota exceeded: the organization stores ${quota.usedFiles} of its ${quota.maxFiles} files`
        : `storage quota exceeded: ${change.bytes} more bytes would pass the organization's ` +
            `${quota.maxBytes} (${quota.usedBytes} stored)`,
      quota,
    );
  }
}
