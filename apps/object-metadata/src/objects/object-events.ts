import type { EventActor, FileChange, StorageFileUpdatedEvent } from '@lib/contracts';
import type { ObjectEntity } from './object.entity';

/** The platform itself, when a TTL expires an object. */
export const TTL_ACTOR: EventActor = { type: 'system', id: 'ttl-expiry' };

/**
 * `storage_file.updated` for one change of an object. Sizes follow the object's content:
 * created → 0 (nothing uploaded yet); complete → `overwritten` from 0 to the uploaded size; deleted and
 * expired → from the last size to 0. `version` is the row's, bumped by the same UPDATE.
 */
export function objectChangedEvent(
  o: ObjectEntity,
  change: FileChange,
  actor: EventActor,
  occurredAt: number,
): StorageFileUpdatedEvent {
  const size = o.sizeBytes ?? 0;
  const gone = change === 'deleted' || change === 'expired';
  return {
    orgId: o.orgId,
    orgKey: o.orgKey,
    objectId: o.id,
    objectKey: o.objectKey,
    direction: 'none',
    sizeBytes: gone ? 0 : size,
    previousSizeBytes: change === 'overwritten' ? 0 : gone ? size : 0,
    contentType: o.contentType,
    etag: gone ? null : o.etag,
    change,
    version: o.version,
    actor,
    createdBy: o.createdBy,
    occurredAt: new Date(occurredAt).toISOString(),
  };
}
