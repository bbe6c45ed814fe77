import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { ObjectBytesService, type StoredFileRef } from '../bytes/object-bytes.service';
import { OrgFilesRepository } from './org-files.repository';

const SWEEP_BATCH = 1000;

/**
 * Removes bytes no org file points at any more (overwritten or deleted files, failed copies). The keys
 * are recorded in `org_file_purges` in the transaction that orphaned them, removed right after the
 * commit, and retried every `ORG_FILE_PURGE_INTERVAL_MS` when storage was unavailable: a crash orphans nothing.
 */
@Injectable()
export class OrgFilePurger implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OrgFilePurger.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly bytes: ObjectBytesService,
    private readonly config: ObjectMetadataConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.orgFiles.purgeIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Removes these bytes now; on failure they stay recorded and the sweep retries. Never throws. */
  async purgeNow(files: readonly StoredFileRef[]): Promise<void> {
    if (files.length === 0) return;
    try {
      await this.bytes.deleteMany(files);
      await this.repo.removePurges(files.map((f) => f.objectKey));
    } catch (err) {
      this.logger.warn(`purge of ${files.length} key(s) deferred: ${(err as Error).message}`);
    }
  }

  private async sweep(): Promise<void> {
    try {
      await this.purgeNow(await this.repo.pendingPurges(SWEEP_BATCH));
    } catch (err) {
      this.logger.warn(`purge sweep failed: ${(err as Error).message}`);
    }
  }
}
