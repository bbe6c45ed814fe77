import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Topic } from '@lib/contracts';
import { OutboxWriter } from '@lib/events';
import { orgFileEvent } from './org-file-events';
import { OrgFilesRepository } from './org-files.repository';

/**
 * Files per transaction (their version bumps and `moved` events). Small enough that a batch's CPU work
 * (validating and serializing its events) holds this process's event loop only briefly: requests served
 * by the same process wait for at most one batch.
 */
export const FOLDER_MOVE_BATCH = 100;
const POLL_INTERVAL_MS = 1_000;

const joinAll = (...parts: string[]) => parts.filter((s) => s !== '').join('/');

/**
 * Publishes the `moved` events of the files inside a renamed or moved folder. The request changed one
 * folder row and queued a row in `org_folder_moves` in the same transaction (so it stays O(1)); this
 * worker walks the folder's files in id order, `FOLDER_MOVE_BATCH` per transaction: each batch bumps the
 * files' versions and appends their events with their path as it is now, and records how far it got.
 * Every replica runs it; `FOR UPDATE SKIP LOCKED` gives each job to one. A crash resumes from the last
 * committed batch. Woken right after a move commits, and by a poll.
 */
@Injectable()
export class OrgFolderMoveWorker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OrgFolderMoveWorker.name);
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.kick(), POLL_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Processes pending moves now (in the background). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => (this.running = false));
  }

  /** Runs batches until no move is pending; exported for tests and benchmarks. */
  async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.step())) {
          await new Promise((resolve) => setImmediate(resolve)); // let waiting requests run
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      const code = (err as { driverError?: { code?: string } }).driverError?.code;
      // A request holds some of the files (55P03): the poll retries once it is done.
      if (code === '55P03') this.logger.debug('folder move events wait for a request');
      else this.logger.warn(`folder move events failed (retried): ${(err as Error).message}`);
    }
  }

  /** One batch of one move; false when nothing is pending. */
  async step(): Promise<boolean> {
    return this.repo.transaction(async (m) => {
      const job = await this.repo.claimFolderMove(m);
      if (!job) return false;
      // No tree lock: requests never wait for this worker (its file locks are NOWAIT). A subfolder moved
      // away meanwhile gets its own job, so at worst a file gets one more `moved` event.
      const top = await this.repo.folderPath(m, job.folderId);
      if (top === null) {
        // Deleted since: its files got their `deleted` events.
        await this.repo.finishFolderMove(m, job.id);
        return true;
      }
      const sub = await this.repo.subtree(m, job.folderId);
      const relById = new Map(sub.map((s) => [s.id, s.relPath]));
      const files = await this.repo.bumpFilesIn(
        m,
        [...relById.keys()],
        job.afterFileId,
        FOLDER_MOVE_BATCH,
      );
      const now = Date.now();
      await this.outbox.appendMany(
        m,
        files.map((f) => ({
          topic: Topic.StorageFileUpdated,
          key: f.id,
          data: orgFileEvent(
            f,
            joinAll(top, relById.get(f.folderId) ?? '', f.name),
            'moved',
            f.sizeBytes,
            job.actor,
            now,
          ),
        })),
      );
      if (files.length < FOLDER_MOVE_BATCH) await this.repo.finishFolderMove(m, job.id);
      else await this.repo.advanceFolderMove(m, job.id, files[files.length - 1].id);
      return true;
    });
  }
}
