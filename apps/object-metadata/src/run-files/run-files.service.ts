import { Injectable, OnModuleInit } from '@nestjs/common';
import {
  type ServicePrincipal,
  StorageFileUpdatedEvent,
  Topic,
  type LiveFile,
} from '@lib/contracts';
import { NotFoundException } from '@lib/errors';
import { OutboxWriter, uuidv7 } from '@lib/events';
import { FileLocator, FileLocatorRegistry } from '../files/file-locator';
import { StorageQuotas } from '../quotas/storage-quotas.service';
import { RecordRunFileCommand } from '@lib/contracts';
import { RunFileRow, RunFilesRepository } from './run-files.repository';

function toLiveFile(f: RunFileRow): LiveFile {
  return {
    kind: 'run_file',
    objectId: f.id,
    orgId: f.orgId,
    orgKey: f.orgKey,
    objectKey: f.objectKey,
    filename: f.filename,
    contentType: f.contentType,
    sizeBytes: f.sizeBytes,
    etag: f.etag,
    direction: f.direction,
    workflowId: f.workflowId,
    createdBy: f.createdBy,
    version: f.version,
  };
}

/**
 * A run's inputs and artifacts (object-metadata records every stored file). The flow-orchestrator
 * records each file once its bytes are in S3; a repeat (a retried step, a second upload notice) changes
 * nothing and publishes nothing. Files are immutable, so each has one `storage_file.updated` (created).
 */
@Injectable()
export class RunFilesService implements FileLocator, OnModuleInit {
  readonly kind = 'run_file' as const;

  constructor(
    private readonly files: RunFilesRepository,
    private readonly outbox: OutboxWriter,
    private readonly locators: FileLocatorRegistry,
    private readonly quotas: StorageQuotas,
  ) {}

  onModuleInit(): void {
    this.locators.register(this);
  }

  /** Records the file for `principal`: its org's, stored by its user, `principal.actor` acting. */
  async record(
    cmd: RecordRunFileCommand,
    principal: ServicePrincipal,
  ): Promise<{ objectId: string; created: boolean }> {
    return this.files.transaction(async (manager) => {
      const row = await this.files.insert(manager, {
        id: uuidv7(),
        orgId: principal.orgId,
        orgKey: principal.orgKey,
        workflowId: cmd.workflowId,
        runId: cmd.runId,
        edge: cmd.edge,
        direction: cmd.direction,
        objectKey: cmd.objectKey,
        filename: cmd.filename,
        sizeBytes: cmd.sizeBytes,
        contentType: cmd.contentType ?? null,
        etag: cmd.etag ?? null,
        createdBy: principal.userId,
        version: 1,
      });
      if (!row) {
        const existing = await this.files.findByKey(cmd.objectKey);
        return { objectId: existing?.id ?? '', created: false };
      }
      // Over the org's quota: nothing is recorded (the caller removes the bytes).
      await this.quotas.chargeOne(manager, { orgId: row.orgId, files: 1, bytes: row.sizeBytes });
      const event: StorageFileUpdatedEvent = {
        orgId: row.orgId,
        orgKey: row.orgKey,
        objectId: row.id,
        objectKey: row.objectKey,
        workflowId: row.workflowId,
        runId: row.runId,
        edge: row.edge,
        direction: row.direction,
        sizeBytes: row.sizeBytes,
        previousSizeBytes: 0,
        contentType: row.contentType,
        etag: row.etag,
        change: 'created',
        version: row.version,
        actor: principal.actor,
        createdBy: row.createdBy,
        occurredAt: new Date().toISOString(),
      };
      await this.outbox.append(manager, Topic.StorageFileUpdated, row.id, event);
      return { objectId: row.id, created: true };
    });
  }

  async latest(
    orgId: string,
    workflowId: string,
    direction: 'input' | 'output',
    filename: string,
  ): Promise<{ objectKey: string; filename: string }> {
    const row = await this.files.latest(orgId, workflowId, direction, filename);
    if (!row) throw new NotFoundException(`No ${direction} file '${filename}' of ${workflowId}`);
    return { objectKey: row.objectKey, filename: row.filename };
  }

  async findLive(objectKey: string): Promise<LiveFile | null> {
    const row = await this.files.findByKey(objectKey);
    return row ? toLiveFile(row) : null;
  }

  async listLive(page: { orgId: string; afterObjectId?: string; limit: number }) {
    return (await this.files.page(page.orgId, page.afterObjectId, page.limit)).map(toLiveFile);
  }
}
