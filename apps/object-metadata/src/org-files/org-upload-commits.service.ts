import { Injectable } from '@nestjs/common';
import {
  checkOrgName,
  checkOrgPath,
  joinOrgPath,
  OrgPath,
  StorageFileUpdatedEvent,
  type OrgFileUpload,
} from '@lib/contracts';
import { Tx } from '@lib/database';
import { KeyedBatcher } from '@lib/queue';
import { StorageQuotas } from '../quotas/storage-quotas.service';
import { orgFileEvent } from './org-file-events';
import { newOrgFileId } from './org-file-ids';
import { OrgFilePurger } from './org-file-purger.service';
import { fileEtag, fileView, ifMatchHolds } from './org-file-views';
import {
  OrgNameTakenException,
  OrgPreconditionFailedException,
  OrgTreeChangedException,
} from './org-files.exception';
import { OrgFile, OrgFilesRepository } from './org-files.repository';
import { OrgCaller, OrgTree } from './org-tree';

export interface UploadCommit extends OrgCaller {
  orgKey: string;
  createdBy: string | null;
  /** The folder (created if missing). */
  path?: string;
  name: string;
  objectKey: string;
  sizeBytes: number;
  s3Etag: string | null;
  contentType: string | null;
  ifMatch?: string;
}

/** An upload commit, validated, waiting for its folder's next transaction. */
interface PendingCommit {
  cmd: UploadCommit;
  folderPath: OrgPath;
  name: string;
}

const contentOf = (cmd: UploadCommit) => ({
  objectKey: cmd.objectKey,
  sizeBytes: cmd.sizeBytes,
  contentType: cmd.contentType,
  s3Etag: cmd.s3Etag,
});

/**
 * Upload commits: uploaded bytes recorded as a file, created or overwritten. Commits into one folder are
 * batched into one transaction, one at a time per folder; each answers on its own.
 */
@Injectable()
export class OrgUploadCommitsService {
  /** Upload commits, one transaction at a time per folder (see `commitTogether`). */
  private readonly commits = new KeyedBatcher<PendingCommit, OrgFileUpload | Error>({
    maxSize: 100,
    keyOf: (c) => `${c.cmd.orgId}:${c.folderPath.path}`,
    conflictKeyOf: (c) => c.name,
    run: (commits) => this.commitTogether(commits),
  });

  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly tree: OrgTree,
    private readonly purger: OrgFilePurger,
    private readonly quotas: StorageQuotas,
  ) {}

  /**
   * Records uploaded bytes as the file `name` in folder `path` (created when missing): a new file, or new
   * content for the existing one (last write wins, same file id, next version). `ifMatch` makes it
   * conditional (412). The replaced bytes are purged after the commit. Concurrent commits into one folder
   * share its lock and one transaction (`commitTogether`).
   */
  async commitUpload(cmd: UploadCommit): Promise<OrgFileUpload> {
    const folderPath = checkOrgPath(cmd.path, 'path');
    const name = checkOrgName(cmd.name, 'file name');
    const answer = await this.commits.submit({ cmd, folderPath, name });
    if (answer instanceof Error) throw answer;
    return answer;
  }

  /**
   * The commits' folder, created when missing, locked until the transaction ends; the root in one round
   * trip (uploads into the root are the common case).
   */
  private async lockFolder(m: Tx, orgId: string, folderPath: OrgPath) {
    if (folderPath.segments.length === 0) return this.repo.lockRoot(m, orgId);
    const root = await this.repo.ensureRoot(m, orgId);
    const folder = await this.tree.mkdirs(m, orgId, root, folderPath.segments);
    if (!(await this.repo.lockFolder(m, folder.id))) throw new OrgTreeChangedException();
    return folder;
  }

  /**
   * One folder's pending commits (distinct names, in arrival order) in one transaction of few round trips
   * (each costs more than the work in it): the folder locked once, its folders and files of those names read
   * in one query, the quota charged once, the new files inserted and its counters updated in one statement,
   * the events appended together. A commit refused on its own (a folder
   * has the name, `ifMatch` fails, the org's quota has no room) answers its error and the others go on; a
   * failed transaction fails them all (the batcher rejects each).
   */
  private async commitTogether(
    commits: PendingCommit[],
  ): Promise<Map<PendingCommit, OrgFileUpload | Error>> {
    const { orgId, orgKey } = commits[0].cmd;
    const folderPath = commits[0].folderPath;
    const now = Date.now();
    const answers = new Map<PendingCommit, OrgFileUpload | Error>();
    const replaced: OrgFile[] = [];
    await this.tree.change(async (m) => {
      answers.clear();
      replaced.length = 0;
      const folder = await this.lockFolder(m, orgId, folderPath);
      const names = commits.map((c) => c.name);
      const { files: existing, folders } = await this.repo.lockNames(m, folder.id, names);
      // Refused before anything is written: a folder has the name (409), If-Match fails (412), or the org's
      // quota has no room for the commit (403; earlier commits first).
      const refusals = new Map<PendingCommit, Error>();
      const admissible: PendingCommit[] = [];
      for (const commit of commits) {
        const path = joinOrgPath(folderPath.path, commit.name);
        const old = existing.get(commit.name);
        if (folders.has(commit.name)) refusals.set(commit, new OrgNameTakenException(path));
        else if (!ifMatchHolds(commit.cmd.ifMatch, old ? fileEtag(old) : null)) {
          refusals.set(commit, new OrgPreconditionFailedException(path));
        } else admissible.push(commit);
      }
      const overQuota = await this.quotas.charge(
        m,
        admissible.map(({ cmd, name }) => {
          const old = existing.get(name);
          return { orgId, files: old ? 0 : 1, bytes: cmd.sizeBytes - (old?.sizeBytes ?? 0) };
        }),
      );
      admissible.forEach((commit, i) => {
        const refusal = overQuota[i];
        if (refusal) refusals.set(commit, refusal);
      });
      const created: { commit: PendingCommit; file: OrgFile }[] = [];
      const events: StorageFileUpdatedEvent[] = [];
      let bytes = 0;
      for (const commit of commits) {
        const { cmd, name } = commit;
        const path = joinOrgPath(folderPath.path, name);
        const old = existing.get(name) ?? null;
        const refusal = refusals.get(commit);
        if (refusal) answers.set(commit, refusal);
        else if (old) {
          const file = await this.repo.replaceContent(m, old.id, contentOf(cmd));
          bytes += file.sizeBytes - old.sizeBytes;
          replaced.push(old);
          events.push(orgFileEvent(file, path, 'overwritten', old.sizeBytes, cmd.actor, now));
          answers.set(commit, { file: fileView(file, folderPath.path), created: false });
        } else {
          created.push({
            commit,
            file: {
              id: newOrgFileId(),
              orgId,
              orgKey,
              folderId: folder.id,
              name,
              ...contentOf(cmd),
              version: 1,
              createdBy: cmd.createdBy,
              createdAt: new Date(now),
              updatedAt: new Date(now),
            },
          });
        }
      }
      for (const { file } of created) bytes += file.sizeBytes;
      const inserted = await this.repo.insertFiles(
        m,
        created.map((c) => c.file),
        { folderId: folder.id, files: created.length, bytes },
      );
      for (const [i, file] of inserted.entries()) {
        const { commit } = created[i];
        const path = joinOrgPath(folderPath.path, file.name);
        events.push(orgFileEvent(file, path, 'created', 0, commit.cmd.actor, now));
        answers.set(commit, { file: fileView(file, folderPath.path), created: true });
      }
      await this.repo.addPurges(m, replaced);
      if (events.length > 0) await this.tree.append(m, events);
    });
    await this.purger.purgeNow(replaced);
    return answers;
  }
}
