import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Topic } from '@lib/contracts';
import { OutboxWriter } from '@lib/events';
import { BatchLoop } from './batch-loop';
import { joinPathParts, orgFileEvent } from './org-file-events';
import { OrgFilePurger } from './org-file-purger.service';
import { OrgFile, OrgFilesRepository } from './org-files.repository';

/** Files deleted per transaction, with their `deleted` events (the same bound as a folder move's batch). */
export const FOLDER_DELETE_BATCH = 100;

/**
 * Removes the files of deleted folders. The request marked the folder's subtree (out of every listing, walk
 * and write from then on) and queued a row in `org_folder_deletes` in one transaction, whatever the folder
 * holds; this worker deletes its files `FOLDER_DELETE_BATCH` per transaction, each batch with its files'
 * `deleted` events (their paths as they were when the folder was deleted) and their bytes recorded for the
 * purge, then the folders and the job. A batch commits whole or not at all and the next one takes the files
 * that are left, so a crash resumes where it stopped and no file gets two events. Every replica runs it;
 * `FOR UPDATE SKIP LOCKED` gives each job to one. Woken right after a delete commits, and by a poll.
 */
@Injectable()
export class OrgFolderDeleteWorker implements OnModuleInit, OnApplicationShutdown {
  private readonly loop = new BatchLoop(
    'folder delete',
    () => this.step(),
    new Logger(OrgFolderDeleteWorker.name),
  );

  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly outbox: OutboxWriter,
    private readonly purger: OrgFilePurger,
  ) {}

  onModuleInit(): void {
    this.loop.start();
  }

  onApplicationShutdown(): void {
    this.loop.stop();
  }

  /** Processes pending deletes now (in the background). */
  kick(): void {
    this.loop.kick();
  }

  /** Runs batches until no delete is pending; exported for tests. */
  drain(): Promise<void> {
    return this.loop.drain();
  }

  /** One batch of one delete, then the purge of its bytes; false when nothing is pending. */
  async step(): Promise<boolean> {
    const purged: OrgFile[] = [];
    const worked = await this.repo.transaction(async (m) => {
      purged.length = 0;
      const job = await this.repo.claimFolderDelete(m);
      if (!job) return false;
      const sub = await this.repo.subtree(m, job.folderId);
      const relById = new Map(sub.map((s) => [s.id, s.relPath]));
      const folderIds = [...relById.keys()];
      const files = await this.repo.deleteNextFiles(m, folderIds, FOLDER_DELETE_BATCH);
      const now = Date.now();
      await this.outbox.appendMany(
        m,
        files.map((f) => ({
          topic: Topic.StorageFileUpdated,
          key: f.id,
          data: orgFileEvent(
            { ...f, version: f.version + 1 },
            joinPathParts(job.path, relById.get(f.folderId) ?? '', f.name),
            'deleted',
            f.sizeBytes,
            job.actor,
            now,
          ),
        })),
      );
      purged.push(...files);
      await this.repo.addPurges(m, purged);
      if (files.length < FOLDER_DELETE_BATCH) {
        await this.repo.deleteFolders(m, folderIds);
        await this.repo.finishFolderDelete(m, job.id);
      }
      return true;
    });
    await this.purger.purgeNow(purged);
    return worked;
  }
}
