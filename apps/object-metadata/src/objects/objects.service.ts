import { Injectable, Logger } from '@nestjs/common';
import {
  EventActor,
  FileChange,
  MetadataKeysView,
  MetadataValuesView,
  OBJECT_LIMITS,
  ObjectCreateCall,
  ObjectDownloadUrlView,
  ObjectListParams,
  ObjectListView,
  ObjectView,
  objectsApiKey,
  type ServicePrincipal,
  Topic,
} from '@lib/contracts';
import { DomainException } from '@lib/errors';
import { OutboxWriter, type PreparedOutboxEvent } from '@lib/events';
import { MicroBatcher } from '@lib/queue';
import type { Tx } from '@lib/database';
import { ObjectBytesService } from '../bytes/object-bytes.service';
import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { QuotaExceededException } from '../quotas/quotas.exception';
import { StorageQuotas } from '../quotas/storage-quotas.service';
import { TtlScheduler } from '../ttl/ttl-scheduler.service';
import { objectChangedEvent, TTL_ACTOR } from './object-events';
import { objectMediaType } from './object-file-locator';
import { newObjectId } from './object-ids';
import { toObjectView } from './object-view';
import { ObjectEntity } from './object.entity';
import {
  ObjectDeletedException,
  ObjectNotFoundException,
  ObjectNotUploadedException,
  ObjectNotUploadingException,
  ObjectTooLargeException,
} from './objects.exception';
import { ListScope, ObjectsRepository } from './objects.repository';

// Redis must not hold a request hostage: past this, the reconciler schedules a purge from Postgres instead.
const SCHEDULE_TIMEOUT_MS = 2_000;

// Creates that arrive together share one transaction: one commit (the costly part: a WAL flush and the
// outbox NOTIFY, which Postgres serializes) for up to this many objects. Under light load a batch is one.
const CREATE_BATCH = { maxSize: 200, lingerMs: 1 };

/** A new object and its `created` event, prepared in the request's own context (trace, validation). */
interface PendingCreate {
  object: ObjectEntity;
  event: PreparedOutboxEvent;
}

// When to remove a deleted object's bytes once more, counted from its creation: the upload URL's lifetime
// plus a minute, as an upload that started just before the URL expired may still be landing.
const LATE_PURGE_AFTER_MS = OBJECT_LIMITS.uploadUrlSeconds * 1000 + 60_000;

@Injectable()
export class ObjectsService {
  private readonly logger = new Logger(ObjectsService.name);
  /** Answers each create's error, or null once it is committed. */
  /** The largest object (`OBJECT_MAX_BYTES`): the presigned PUT cannot bound what it takes. */
  private readonly maxBytes: number;
  private readonly creates = new MicroBatcher<PendingCreate, Error | null>({
    ...CREATE_BATCH,
    run: (batch) => this.insertCreated(batch),
  });

  constructor(
    private readonly objects: ObjectsRepository,
    private readonly outbox: OutboxWriter,
    private readonly bytes: ObjectBytesService,
    private readonly ttl: TtlScheduler,
    private readonly quotas: StorageQuotas,
    config: ObjectMetadataConfig,
  ) {
    this.maxBytes = config.objects.maxBytes;
  }

  /**
   * Creates an object in `UPLOADING` and publishes `storage_file.updated` (created) in the same
   * transaction, and answers with a presigned `upload_url`. The TTL sweeper deletes it at its `ttl_ms` deadline.
   */
  async create(cmd: ObjectCreateCall, principal: ServicePrincipal): Promise<ObjectView> {
    const id = newObjectId();
    const now = Date.now();
    const object: ObjectEntity = {
      id,
      orgId: principal.orgId,
      orgKey: principal.orgKey,
      name: cmd.name,
      contentType: cmd.content_type,
      state: 'UPLOADING',
      sizeBytes: null,
      metadata: cmd.metadata ?? null,
      objectKey: objectsApiKey(principal.orgKey, id),
      etag: null,
      createdBy: principal.userId,
      createTimeMs: now,
      deleteAfterTimeMs: typeof cmd.ttl_ms === 'number' ? now + cmd.ttl_ms : null,
      isPublic: false,
      purgePending: false,
      latePurgeAtMs: null,
      version: 1,
    };
    const [event] = await this.outbox.prepare([
      {
        topic: Topic.StorageFileUpdated,
        key: id,
        data: objectChangedEvent(object, 'created', principal.actor, now),
      },
    ]);
    const failure = await this.creates.submit({ object, event });
    if (failure) throw failure;
    return { ...toObjectView(object), upload_url: this.bytes.uploadUrl(object.objectKey) };
  }

  async get(orgId: string, id: string): Promise<ObjectView> {
    return toObjectView(await this.find(orgId, id));
  }

  /** One page of `scope`: `limit + 1` rows are read so that `has_more` is exact. */
  async list(scope: ListScope, params: ObjectListParams): Promise<ObjectListView> {
    const limit = params.limit ?? OBJECT_LIMITS.list.default;
    const filter = {
      startingAfter: params.starting_after,
      name: params.name,
      contentType: params.content_type,
      state: params.state,
      search: params.search,
    };
    const [rows, total] = await Promise.all([
      this.objects.list(scope, filter, limit + 1),
      params.include_total_count === false ? undefined : this.objects.count(scope, filter),
    ]);
    const page: ObjectListView = {
      objects: rows.slice(0, limit).map(toObjectView),
      has_more: rows.length > limit,
    };
    if (total !== undefined) page.total_count = total;
    return page;
  }

  async metadataKeys(orgId: string): Promise<MetadataKeysView> {
    return { keys: await this.objects.metadataKeys(orgId, OBJECT_LIMITS.metadataListMax) };
  }

  async metadataValues(orgId: string, key: string): Promise<MetadataValuesView> {
    return {
      key,
      values: await this.objects.metadataValues(orgId, key, OBJECT_LIMITS.metadataListMax),
    };
  }

  /**
   * UPLOADING → READ_ONLY once the bytes are in S3, recording their real size. No bytes yet: 400 and
   * nothing changes; not UPLOADING: 409. Bytes over `OBJECT_MAX_BYTES` (413), or over what the org's quota
   * has left (403), are refused and removed: the object stays UPLOADING, counted as before.
   *
   * The upload URL stays valid until it expires (nothing revokes a presigned URL), so the uploaded bytes are
   * copied inside S3 to a new key that no URL names, which becomes the object's key: downloads serve exactly
   * the bytes `size_bytes` counts, and a PUT after complete lands on the upload key, which nothing reads
   * (the key's bytes are removed here, and what a later PUT leaves there by the orphan sweep).
   */
  async complete(orgId: string, id: string, actor: EventActor): Promise<ObjectView> {
    const object = await this.find(orgId, id);
    if (object.state !== 'UPLOADING') throw new ObjectNotUploadingException(id, object.state);
    const completedKey = objectsApiKey(object.orgKey, id);
    const stored = await this.bytes
      .copy(orgId, object.objectKey, completedKey, this.maxBytes)
      .catch(async (err: unknown) => {
        if (err instanceof DomainException && err.status === 404) return null;
        if (err instanceof DomainException && err.status === 413) {
          // Larger than any object may be: refused, and the upload's bytes go.
          await this.discard(object, object.objectKey);
          throw new ObjectTooLargeException(id, this.maxBytes);
        }
        throw err;
      });
    if (!stored) {
      // Nothing uploaded; or a concurrent complete or delete took the upload key's bytes first.
      const current = await this.find(orgId, id);
      if (current.state !== 'UPLOADING') throw new ObjectNotUploadingException(id, current.state);
      throw new ObjectNotUploadedException(id);
    }
    const now = Date.now();
    const completed = await this.objects
      .transaction(async (manager) => {
        const row = await this.objects.markCompleted(manager, orgId, id, completedKey, stored);
        if (row) {
          await this.quotas.chargeOne(manager, { orgId, files: 0, bytes: stored.sizeBytes });
          await this.appendEvent(manager, row, 'overwritten', actor, now);
        }
        return row;
      })
      .catch(async (err: unknown) => {
        // Over the org's quota: nothing is recorded, and neither the upload nor its copy is kept.
        if (err instanceof QuotaExceededException) {
          await this.discard(object, completedKey);
          await this.discard(object, object.objectKey);
        }
        throw err;
      });
    if (!completed) {
      // Lost a race (a concurrent complete, delete or expiry): the copy is nobody's. Answer for the
      // state the object is in now.
      await this.discard(object, completedKey);
      throw new ObjectNotUploadingException(id, (await this.find(orgId, id)).state);
    }
    await this.discard(object, object.objectKey);
    return toObjectView(completed);
  }

  /**
   * Any state → DELETED with its event in one transaction, then the bytes are removed. The row changes
   * first: an object is never READ_ONLY without bytes. Deleting a DELETED object answers its view again.
   */
  async delete(orgId: string, id: string, actor: EventActor): Promise<ObjectView> {
    const now = Date.now();
    const object = await this.objects.transaction(async (manager) => {
      const row = await this.objects.markDeleted(manager, orgId, id, now, LATE_PURGE_AFTER_MS);
      if (row) {
        await this.quotas.charge(manager, [released(row)]);
        await this.appendEvent(manager, row, 'deleted', actor, now);
        return row;
      }
      const current = await this.objects.findInOrg(orgId, id, manager);
      if (!current) throw new ObjectNotFoundException(id);
      return current;
    });
    if (object.purgePending) await this.purgeOrRetryLater([object]);
    return toObjectView(object);
  }

  async downloadUrl(orgId: string, id: string, seconds?: number): Promise<ObjectDownloadUrlView> {
    const object = await this.find(orgId, id);
    if (object.state === 'DELETED') throw new ObjectDeletedException(id, 'download it');
    return {
      // Served as the type declared at create, never as the type the upload was sent with.
      download_url: this.bytes.downloadUrl(
        object.objectKey,
        seconds ?? OBJECT_LIMITS.download.default,
        { responseContentType: objectMediaType(object.contentType) },
      ),
    };
  }

  /** Lists the object in `list_public` (or stops listing it). Publishing a DELETED object is a 400. */
  async setPublic(orgId: string, id: string, isPublic: boolean): Promise<ObjectView> {
    const updated = await this.objects.setPublic(orgId, id, isPublic);
    if (updated) return toObjectView(updated);
    const current = await this.find(orgId, id);
    if (isPublic) throw new ObjectDeletedException(id, 'publish it');
    return toObjectView(current); // unpublishing a DELETED object: it is not listed anyway
  }

  /**
   * TTL expiry (the TTL sweeper): up to `max` live objects past their deadline turn DELETED, each with its
   * `expired` event, in one transaction; then their bytes go in one S3 request. Bytes S3 would not remove
   * stay `purge_pending` and get purge jobs. Returns how many objects it expired. When nothing is due (most
   * sweeps), one indexed read and no transaction.
   */
  async expireDue(max: number): Promise<number> {
    const now = Date.now();
    if (!(await this.objects.anyDue(now))) return 0;
    const expired = await this.objects.transaction(async (manager) => {
      const rows = await this.objects.expireDue(manager, now, max, LATE_PURGE_AFTER_MS);
      await this.quotas.charge(manager, rows.map(released));
      await this.outbox.appendMany(
        manager,
        rows.map((row) => ({
          topic: Topic.StorageFileUpdated,
          key: row.id,
          data: objectChangedEvent(row, 'expired', TTL_ACTOR, now),
        })),
      );
      return rows;
    });
    await this.purgeOrRetryLater(expired); // every expired row has its bytes to purge
    return expired.length;
  }

  /**
   * The late purge (reconciler): removes once more the bytes of deleted objects whose upload URL has
   * expired since, in case a client PUT with it after the delete. Returns how many it handled.
   */
  async latePurgeDue(max: number): Promise<number> {
    const due = await this.objects.findLatePurgesDue(Date.now(), max);
    if (due.length === 0) return 0;
    await this.bytes.deleteMany(due);
    await this.objects.clearLatePurge(due.map((o) => o.id));
    return due.length;
  }

  /** `object.purge` jobs: removes the bytes of these DELETED objects; throws (retried) while S3 fails. */
  async purgeByIds(ids: string[]): Promise<void> {
    const objects = await this.objects.findByIds(ids);
    await this.purge(objects.filter((o) => o.state === 'DELETED' && o.purgePending));
  }

  private async purge(objects: ObjectEntity[]): Promise<void> {
    if (objects.length === 0) return;
    if (objects.length === 1) await this.bytes.delete(objects[0]);
    else await this.bytes.deleteMany(objects);
    const pending = objects.filter((o) => o.purgePending).map((o) => o.id);
    if (pending.length > 0) await this.objects.clearPurgePending(pending);
  }

  /** Removes the bytes now; when storage fails, a purge job retries (and the reconciler backs it up). */
  private async purgeOrRetryLater(objects: ObjectEntity[]): Promise<void> {
    try {
      await this.purge(objects);
    } catch (err) {
      const ids = objects.map((o) => o.id);
      this.logger.warn(
        `removing the bytes of ${ids.length} object(s) failed, retrying in the background: ${String(err)}`,
      );
      await this.bestEffort(`schedule the purge of ${ids.length} object(s)`, () =>
        this.ttl.schedulePurges(ids),
      );
    }
  }

  private async find(orgId: string, id: string): Promise<ObjectEntity> {
    const object = await this.objects.findInOrg(orgId, id);
    if (!object) throw new ObjectNotFoundException(id);
    return object;
  }

  /**
   * One transaction for a batch of creates: every object and its event commit together. Should the batch
   * fail, each create is tried alone, so that one bad row fails its own request and no other.
   */
  private async insertCreated(batch: PendingCreate[]): Promise<Map<PendingCreate, Error | null>> {
    const insert = (creates: PendingCreate[]) =>
      this.objects.transaction(async (manager) => {
        // An object counts against its org's quota from its create: one file, no bytes yet.
        const refusals = await this.quotas.charge(
          manager,
          creates.map((c) => ({ orgId: c.object.orgId, files: 1, bytes: 0 })),
        );
        const admitted = creates.filter((_, i) => !refusals[i]);
        if (admitted.length > 0) {
          await this.objects.insertMany(
            manager,
            admitted.map((c) => c.object),
          );
          await this.outbox.insert(
            manager,
            admitted.map((c) => c.event),
          );
        }
        return new Map(creates.map((c, i) => [c, refusals[i]]));
      });
    try {
      return await insert(batch);
    } catch (err) {
      if (batch.length === 1) return new Map([[batch[0], asError(err)]]);
      const outcomes = await Promise.all(
        batch.map((c) => insert([c]).then((answers) => answers.get(c)!, asError)),
      );
      return new Map(batch.map((c, i) => [c, outcomes[i]]));
    }
  }

  private async appendEvent(
    manager: Tx,
    object: ObjectEntity,
    change: FileChange,
    actor: EventActor,
    now: number,
  ): Promise<void> {
    await this.outbox.append(
      manager,
      Topic.StorageFileUpdated,
      object.id,
      objectChangedEvent(object, change, actor, now),
    );
  }

  /** Removes bytes no record names; when storage fails, they are left to the orphan sweep. */
  private async discard(object: ObjectEntity, objectKey: string): Promise<void> {
    try {
      await this.bytes.delete({ orgId: object.orgId, objectKey });
    } catch (err) {
      this.logger.warn(
        `could not remove spare bytes of ${object.id} (the orphan sweep will): ${String(err)}`,
      );
    }
  }

  /** Queue work whose loss the reconciler repairs: logged, never failing the request. */
  private async bestEffort(what: string, work: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis in ${SCHEDULE_TIMEOUT_MS} ms`)),
        SCHEDULE_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([work(), timeout]);
    } catch (err) {
      this.logger.warn(`could not ${what} (the reconciler will): ${String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** What a deleted or expired object gives back to its org's quota: itself and its recorded bytes. */
const released = (o: ObjectEntity) => ({ orgId: o.orgId, files: -1, bytes: -(o.sizeBytes ?? 0) });
