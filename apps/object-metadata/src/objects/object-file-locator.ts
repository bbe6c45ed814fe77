import { Injectable, OnModuleInit } from '@nestjs/common';
import type { ObjectContentType, LiveFile } from '@lib/contracts';
import { FileLocator, FileLocatorRegistry } from '../files/file-locator';
import { ObjectEntity } from './object.entity';
import { ObjectsRepository } from './objects.repository';

/**
 * The media type an object's downloads are served as, from the type declared at create: never the
 * Content-Type its upload was sent with, which the uploader chose.
 */
const MEDIA_TYPES: Record<ObjectContentType, string> = {
  unspecified: 'application/octet-stream',
  text: 'text/plain; charset=utf-8',
  binary: 'application/octet-stream',
  gzip: 'application/gzip',
  tar: 'application/x-tar',
  tgz: 'application/gzip',
};

export function objectMediaType(contentType: ObjectContentType): string {
  return MEDIA_TYPES[contentType];
}

function toLiveFile(o: ObjectEntity): LiveFile {
  return {
    kind: 'object',
    objectId: o.id,
    orgId: o.orgId,
    orgKey: o.orgKey,
    objectKey: o.objectKey,
    filename: o.name,
    contentType: objectMediaType(o.contentType),
    sizeBytes: o.sizeBytes ?? 0,
    etag: o.etag,
    direction: 'none',
    workflowId: null,
    createdBy: o.createdBy,
    version: o.version,
  };
}

/**
 * Objects API objects as files (kind `object`). A download finds READ_ONLY objects only (their bytes are
 * confirmed); the usage census also lists UPLOADING ones, as files of 0 bytes, because their `created`
 * event counts them so (in the Objects API an object exists from its create on).
 */
@Injectable()
export class ObjectFileLocator implements FileLocator, OnModuleInit {
  readonly kind = 'object' as const;

  constructor(
    private readonly registry: FileLocatorRegistry,
    private readonly objects: ObjectsRepository,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async findLive(objectKey: string): Promise<LiveFile | null> {
    const object = await this.objects.findReadableByKey(objectKey);
    return object ? toLiveFile(object) : null;
  }

  async listLive(page: { orgId: string; afterObjectId?: string; limit: number }) {
    const rows = await this.objects.listNotDeleted({
      orgId: page.orgId,
      afterId: page.afterObjectId,
      limit: page.limit,
    });
    return rows.map(toLiveFile);
  }
}
