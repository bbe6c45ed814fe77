import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ObjectMetadataEnv } from '../config/object-metadata.env';
import { ObjectBytesService } from '../bytes/object-bytes.service';
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
    private readonly config: ConfigService<ObjectMetadataEnv, true>,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(
      () => void this.sweep(),
      this.config.get('ORG_FILE_PURGE_INTERVAL_MS', { infer: true }),
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Removes these bytes now; on failure they stay recorded and the sweep retries. Never throws. */
  async purgeNow(objectKeys: string[]): Promise<void> {
    if (objectKeys.length === 0) return;
    try {
      await this.bytes.deleteMany(objectKeys);
      await this.repo.removePurges(objectKeys);
    } catch (err) {
      this.logger.warn(`purge of ${objectKeys.length} key(s) deferred: ${(err as Error).message}`);
    }
  }

  private async sweep(): Promise<void> {
    try {
      const keys = await this.repo.pendingPurges(SWEEP_BATCH);
      await this.purgeNow(keys);
    } catch (err) {
      this.logger.warn(`purge sweep failed: ${(err as Error).message}`);
    }
  }
}
