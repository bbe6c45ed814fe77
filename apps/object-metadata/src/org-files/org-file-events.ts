import type { EventActor, FileChange, StorageFileUpdatedEvent } from '@lib/contracts';
import type { OrgFile } from './org-files.repository';

/**
 * `storage_file.updated` for one change of an org file: created (0 → size), overwritten (old →
 * new size), moved (size unchanged; `path` is the new one), deleted (size → 0). `version` is the row's,
 * bumped by the same transaction.
 */
export function orgFileEvent(
  f: OrgFile,
  path: string,
  change: FileChange,
  previousSizeBytes: number,
  actor: EventActor,
  occurredAt: number,
): StorageFileUpdatedEvent {
  const gone = change === 'deleted';
  return {
    orgId: f.orgId,
    orgKey: f.orgKey,
    objectId: f.id,
    objectKey: f.objectKey,
    path,
    direction: 'none',
    sizeBytes: gone ? 0 : f.sizeBytes,
    previousSizeBytes,
    contentType: f.contentType,
    etag: gone ? null : f.s3Etag,
    change,
    version: f.version,
    actor,
    createdBy: f.createdBy,
    occurredAt: new Date(occurredAt).toISOString(),
  };
}

/** A file's path from its parts (a folder path, a path below it, a name), empty parts skipped. */
export const joinPathParts = (...parts: string[]): string =>
  parts.filter((s) => s !== '').join('/');
