import type { LiveFile } from '@lib/contracts';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { FileLocator, FileLocatorRegistry } from '../files/file-locator';
import { OrgFile, OrgFilesRepository } from './org-files.repository';

const toLive = (f: OrgFile): LiveFile => ({
  kind: 'org_file',
  objectId: f.id,
  orgId: f.orgId,
  orgKey: f.orgKey,
  objectKey: f.objectKey,
  filename: f.name,
  contentType: f.contentType,
  sizeBytes: f.sizeBytes,
  etag: f.s3Etag,
  direction: 'none',
  workflowId: null,
  createdBy: f.createdBy,
  version: f.version,
});

/** Org storage files (`{orgKey}/files/{token}` keys): every row is live (deleting removes it). */
@Injectable()
export class OrgFileLocator implements FileLocator, OnModuleInit {
  readonly kind = 'org_file' as const;

  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly registry: FileLocatorRegistry,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async findLive(objectKey: string): Promise<LiveFile | null> {
    const f = await this.repo.findByObjectKey(objectKey);
    return f ? toLive(f) : null;
  }

  async listLive(page: {
    orgId: string;
    afterObjectId?: string;
    limit: number;
  }): Promise<LiveFile[]> {
    const files = await this.repo.listFiles({
      orgId: page.orgId,
      afterId: page.afterObjectId,
      limit: page.limit,
    });
    return files.map(toLive);
  }
}
