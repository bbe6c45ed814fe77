import { Injectable } from '@nestjs/common';
import { StorageFileUpdatedEvent, Topic } from '@lib/contracts';
import { OutboxWriter } from '@lib/events';
import { CreateObjectDto } from './dto/create-object.dto';
import { ObjectRecordDto, toObjectRecord } from './dto/object-view.dto';
import { newObjectId, newObjectKey, OBJECT_ID_PATTERN } from './object-ids';
import { ObjectEntity } from './object.entity';
import { ObjectNotFoundException } from './objects.exception';
import { ObjectsRepository } from './objects.repository';

@Injectable()
export class ObjectsService {
  constructor(
    private readonly objects: ObjectsRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Creates an object in `UPLOADING` and publishes `storage_file.updated` (created) in the same transaction. */
  async create(cmd: CreateObjectDto): Promise<ObjectRecordDto> {
    const id = newObjectId();
    const now = Date.now();
    const object: ObjectEntity = {
      id,
      orgId: cmd.orgId,
      orgKey: cmd.orgKey,
      name: cmd.name,
      contentType: cmd.content_type,
      state: 'UPLOADING',
      sizeBytes: null,
      metadata: cmd.metadata ?? null,
      objectKey: newObjectKey(cmd.orgKey, id),
      createdBy: cmd.createdBy ?? null,
      createTimeMs: now,
      deleteAfterTimeMs: cmd.ttl_ms ? now + cmd.ttl_ms : null,
      version: 1,
    };
    await this.objects.transaction(async (manager) => {
      await this.objects.insert(manager, object);
      await this.outbox.append(manager, Topic.StorageFileUpdated, id, fileEvent(object, cmd));
    });
    return toObjectRecord(object);
  }

  async get(orgId: string, id: string): Promise<ObjectRecordDto> {
    const object = OBJECT_ID_PATTERN.test(id) ? await this.objects.findInOrg(orgId, id) : null;
    if (!object) throw new ObjectNotFoundException(id);
    return toObjectRecord(object);
  }
}

function fileEvent(o: ObjectEntity, cmd: CreateObjectDto): StorageFileUpdatedEvent {
  return {
    orgId: o.orgId,
    orgKey: o.orgKey,
    objectId: o.id,
    objectKey: o.objectKey,
    direction: 'none',
    sizeBytes: o.sizeBytes ?? 0,
    previousSizeBytes: 0,
    contentType: o.contentType,
    etag: null,
    change: 'created',
    version: o.version,
    actor: cmd.actor,
    createdBy: o.createdBy,
    occurredAt: new Date(o.createTimeMs).toISOString(),
  };
}
