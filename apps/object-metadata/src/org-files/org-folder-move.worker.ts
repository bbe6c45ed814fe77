import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Topic } from '@lib/contracts';
import { OutboxWriter } from '@lib/events';
import { BatchLoop } from './batch-loop';
import { joinPathParts, orgFileEvent } from './org-file-events';
import { OrgFilesRepository } from './org-files.repository';

/**
 * Files per transaction (their version bumps and `moved` events). Small enough that a batch's CPU work
 * (validating and serializing its events) holds this process's event loop only briefly: requests served
 * by the same process wait for at most one batch.
 */
export const FOLDER_MOVE_BATCH = 100;

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
  private readonly loop = new BatchLoop(
    'folder move events',
    () => this.step(),
    new Logger(OrgFolderMoveWorker.name),
  );

  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  onModuleInit(): void {
    this.loop.start();
  }

  onApplicationShutdown(): void {
    this.loop.stop();
  }

  /** Processes pending moves now (in the background). */
  kick(): void {
    this.loop.kick();
  }

  /** Runs batches until no move is pending; exported for tests and benchmarks. */
  drain(): Promise<void> {
    return this.loop.drain();
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
        // Deleted since: its files get their `deleted` events.
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
            joinPathParts(top, relById.get(f.folderId) ?? '', f.name),
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
