import { uuidv7 } from '@lib/events';

/** Org file ids: `file_` + a UUIDv7's 32 hex digits (time-ordered). The key of its events. */
export function newOrgFileId(): string {
  return `file_${uuidv7().replaceAll('-', '')}`;
}
