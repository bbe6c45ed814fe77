import { Injectable } from '@nestjs/common';
import {
  checkOrgListCursor,
  checkOrgName,
  checkOrgPath,
  EventActor,
  encodeOrgListCursor,
  joinOrgPath,
  ORG_ROOT_PATH,
  orgFileKey,
  ORG_STORAGE_LIMITS,
  OrgPath,
  StorageFileUpdatedEvent,
  Topic,
} from '@lib/contracts';
import { ValidationFailedException } from '@lib/errors';
import { OutboxWriter } from '@lib/events';
import { KeyedBatcher } from '@lib/queue';
import { EntityManager, QueryFailedError } from 'typeorm';
import { ObjectBytesService } from '../bytes/object-bytes.service';
import { orgFileEvent } from './org-file-events';
import { newOrgFileId } from './org-file-ids';
import {
  fileEtag,
  fileView,
  folderEtag,
  folderView,
  ifMatchHolds,
  OrgFileView,
  OrgFolderView,
} from './org-file-views';
import {
  OrgNameTakenException,
  OrgPathIsFolderException,
  OrgPathIsRootException,
  OrgPathNotFoundException,
  OrgPreconditionFailedException,
  OrgTreeChangedException,
} from './org-files.exception';
import { OrgFile, OrgFilesRepository, OrgFolder } from './org-files.repository';
import { OrgFilePurger } from './org-file-purger.service';
import { OrgFolderDeleteWorker } from './org-folder-delete.worker';
import { StorageQuotas } from '../quotas/storage-quotas.service';
import { OrgFolderMoveWorker } from './org-folder-move.worker';
import { contentDisposition } from '../files/content-disposition';

/** Who asks: the org (from the gateway's authentication) and the actor of the events. */
export interface OrgCaller {
  orgId: string;
  actor: EventActor;
}

type Target =
  | { kind: 'folder'; folder: OrgFolder; path: OrgPath }
  | { kind: 'file'; file: OrgFile; folder: OrgFolder; path: OrgPath };

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

interface CommittedUpload {
  file: OrgFileView;
  created: boolean;
}

const contentOf = (cmd: UploadCommit) => ({
  objectKey: cmd.objectKey,
  sizeBytes: cmd.sizeBytes,
  contentType: cmd.contentType,
  s3Etag: cmd.s3Etag,
});

export interface PathResult {
  type: 'file' | 'folder';
  path: string;
  previousPath?: string;
  etag?: string;
}

const parentOf = (p: OrgPath) => p.segments.slice(0, -1).join('/');
const lastOf = (p: OrgPath) => p.segments[p.segments.length - 1];

/**
 * Org storage over a folder tree: files and folders reference their parent by id, so a folder
 * rename or move is one row whatever it holds; its files' `moved` events follow from a background worker
 * (`OrgFolderMoveWorker`). A folder delete marks the folder's subtree and queues the removal of its files,
 * which another worker does in batches (`OrgFolderDeleteWorker`). Every change and its
 * `storage_file.updated` events commit in one transaction; bytes no file points at any more are purged after
 * the commit (`OrgFilePurger`).
 */
@Injectable()
export class OrgFilesService {
  /** Upload commits, one transaction at a time per folder (see `commitTogether`). */
  private readonly commits = new KeyedBatcher<PendingCommit, CommittedUpload | Error>({
    maxSize: 100,
    keyOf: (c) => `${c.cmd.orgId}:${c.folderPath.path}`,
    conflictKeyOf: (c) => c.name,
    run: (commits) => this.commitTogether(commits),
  });

  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly outbox: OutboxWriter,
    private readonly bytes: ObjectBytesService,
    private readonly purger: OrgFilePurger,
    private readonly moves: OrgFolderMoveWorker,
    private readonly deletes: OrgFolderDeleteWorker,
    private readonly quotas: StorageQuotas,
  ) {}

  /**
   * One page of a folder's direct children (`/` when absent): folders first, then files, each by name;
   * `nextCursor` (null on the last page) continues after the page's last entry.
   */
  async list(
    orgId: string,
    rawPath: string | undefined,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<{
    path: string;
    entries: (OrgFolderView | OrgFileView)[];
    hasMore: boolean;
    nextCursor: string | null;
  }> {
    const p = checkOrgPath(rawPath, 'path');
    const after = page.cursor === undefined ? undefined : checkOrgListCursor(page.cursor, 'cursor');
    const limit = page.limit ?? ORG_STORAGE_LIMITS.list.default;
    const m = this.repo.manager;
    const root = await this.repo.findRoot(m, orgId);
    if (!root) {
      if (p.segments.length === 0) {
        return { path: ORG_ROOT_PATH, entries: [], hasMore: false, nextCursor: null };
      }
      throw new OrgPathNotFoundException('folder', p.path);
    }
    const t = await this.resolve(m, root, p);
    if (!t || t.kind !== 'folder') throw new OrgPathNotFoundException('folder', p.path);
    const here = p.segments.join('/');
    // One entry more than asked says whether another page follows.
    const { folders, files } = await this.repo.childrenPage(m, t.folder.id, {
      after,
      limit: limit + 1,
    });
    const entries = [
      ...folders.map((f) => folderView(f, here)),
      ...files.map((f) => fileView(f, here)),
    ];
    const hasMore = entries.length > limit;
    const shown = entries.slice(0, limit);
    const last = shown.at(-1);
    return {
      path: p.path,
      entries: shown,
      hasMore,
      nextCursor:
        hasMore && last ? encodeOrgListCursor({ type: last.type, name: last.name }) : null,
    };
  }

  /** A file's metadata; a folder is a 400, a missing file a 404. */
  async meta(orgId: string, rawPath: string): Promise<OrgFileView> {
    const { file, path } = await this.fileAt(orgId, rawPath);
    return fileView(file, parentOf(path));
  }

  /** A file's metadata and a short-lived presigned GET for its bytes (`attachment`, its name). */
  async download(orgId: string, rawPath: string): Promise<OrgFileView & { url: string }> {
    const { file, path } = await this.fileAt(orgId, rawPath);
    const url = this.bytes.downloadUrl(file.objectKey, 300, {
      responseContentDisposition: contentDisposition('attachment', file.name),
      responseContentType: file.contentType ?? 'application/octet-stream',
    });
    return { ...fileView(file, parentOf(path)), url };
  }

  /** Bytes, files and folders under a folder (recursive), from the folders' counters. */
  async stats(
    orgId: string,
    rawPath: string | undefined,
  ): Promise<{
    path: string;
    type: 'file' | 'folder';
    bytes: number;
    files: number;
    folders: number;
  }> {
    const p = checkOrgPath(rawPath, 'path');
    const m = this.repo.manager;
    const root = await this.repo.findRoot(m, orgId);
    if (!root) {
      if (p.segments.length === 0)
        return { path: p.path, type: 'folder', bytes: 0, files: 0, folders: 0 };
      throw new OrgPathNotFoundException('path', p.path);
    }
    const t = await this.resolve(m, root, p);
    if (!t) throw new OrgPathNotFoundException('path', p.path);
    if (t.kind === 'file') {
      return { path: p.path, type: 'file', bytes: t.file.sizeBytes, files: 1, folders: 0 };
    }
    return { path: p.path, type: 'folder', ...(await this.repo.stats(m, t.folder.id)) };
  }

  /**
   * Records uploaded bytes as the file `name` in folder `path` (created when missing): a new file, or new
   * content for the existing one (last write wins, same file id, next version). `ifMatch` makes it
   * conditional (412). The replaced bytes are purged after the commit. Concurrent commits into one folder
   * share its lock and one transaction (`commitTogether`).
   */
  async commitUpload(cmd: UploadCommit): Promise<{ file: OrgFileView; created: boolean }> {
    const folderPath = checkOrgPath(cmd.path, 'path');
    const name = checkOrgName(cmd.name, 'file name');
    const answer = await this.commits.submit({ cmd, folderPath, name });
    if (answer instanceof Error) throw answer;
    return answer;
  }

  /**
   * One folder's pending commits (distinct names, in arrival order) in one transaction: the folder locked
   * once, its folders and files of those names read in one query each, the new files inserted in one
   * statement, its counters updated once, the events appended together. A commit refused on its own (a folder
   * has the name, `ifMatch` fails, the org's quota has no room) answers its error and the others go on; a
   * failed transaction fails them all (the batcher rejects each).
   */
  private async commitTogether(
    commits: PendingCommit[],
  ): Promise<Map<PendingCommit, CommittedUpload | Error>> {
    const { orgId, orgKey } = commits[0].cmd;
    const folderPath = commits[0].folderPath;
    const now = Date.now();
    const answers = new Map<PendingCommit, CommittedUpload | Error>();
    const replaced: OrgFile[] = [];
    await this.tx(async (m) => {
      answers.clear();
      replaced.length = 0;
      const root = await this.repo.ensureRoot(m, orgId);
      const folder = await this.mkdirs(m, orgId, root, folderPath.segments);
      if (!(await this.repo.lockFolder(m, folder.id))) throw new OrgTreeChangedException();
      const names = commits.map((c) => c.name);
      const folders = await this.repo.childFolderNames(m, folder.id, names);
      const existing = await this.repo.lockFilesIn(m, folder.id, names);
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
      const inserted = await this.repo.insertFiles(
        m,
        created.map((c) => c.file),
      );
      for (const [i, file] of inserted.entries()) {
        const { commit } = created[i];
        bytes += file.sizeBytes;
        const path = joinOrgPath(folderPath.path, file.name);
        events.push(orgFileEvent(file, path, 'created', 0, commit.cmd.actor, now));
        answers.set(commit, { file: fileView(file, folderPath.path), created: true });
      }
      await this.repo.addToCounts(m, folder.id, inserted.length, bytes);
      await this.repo.addPurges(m, replaced);
      if (events.length > 0) await this.append(m, events);
    });
    await this.purger.purgeNow(replaced);
    return answers;
  }

  /** Creates folder `name` inside the existing folder `path` (root when absent). */
  async createFolder(
    caller: OrgCaller,
    rawPath: string | undefined,
    rawName: string,
  ): Promise<PathResult> {
    const parent = checkOrgPath(rawPath, 'path');
    const name = checkOrgName(rawName, 'name');
    const path = joinOrgPath(parent.path, name);
    const folder = await this.tx(async (m) => {
      const root = await this.repo.ensureRoot(m, caller.orgId);
      const t = await this.resolve(m, root, parent);
      if (!t) throw new OrgPathNotFoundException('folder', parent.path);
      if (t.kind === 'file')
        throw new ValidationFailedException(`'${parent.path}' is a file, not a folder`);
      if (!(await this.repo.lockFolder(m, t.folder.id))) throw new OrgTreeChangedException();
      if (await this.repo.nameTaken(m, t.folder.id, name)) throw new OrgNameTakenException(path);
      return this.repo.insertFolder(m, caller.orgId, t.folder.id, name);
    });
    return { type: 'folder', path, etag: folderEtag(folder) };
  }

  /**
   * Deletes a file, or a folder with everything under it (one `deleted` event per file). A folder goes at
   * once, whatever it holds: its subtree is marked and its files are removed, with their events, by the
   * background worker in batches; the answer counts them from the folders' counters.
   */
  async remove(
    caller: OrgCaller,
    rawPath: string,
    ifMatch?: string,
  ): Promise<PathResult & { deletedFiles: number; deletedFolders: number }> {
    const p = checkOrgPath(rawPath, 'path');
    if (p.segments.length === 0) throw new OrgPathIsRootException('deleted');
    const now = Date.now();
    const result = await this.tx(async (m) => {
      const t = await this.existing(m, caller.orgId, p, 'path');
      if (t.kind === 'file') {
        if (!(await this.repo.lockFolder(m, t.folder.id))) {
          throw new OrgPathNotFoundException('path', p.path);
        }
        const file = await this.repo.fileIn(m, t.folder.id, t.file.name, true);
        if (!file) throw new OrgPathNotFoundException('path', p.path);
        if (!ifMatchHolds(ifMatch, fileEtag(file)))
          throw new OrgPreconditionFailedException(p.path);
        await this.repo.deleteFile(m, file.id);
        await this.repo.addToCounts(m, t.folder.id, -1, -file.sizeBytes);
        await this.quotas.charge(m, [{ orgId: caller.orgId, files: -1, bytes: -file.sizeBytes }]);
        await this.repo.addPurges(m, [file]);
        const gone = { ...file, version: file.version + 1 };
        await this.append(m, [
          orgFileEvent(gone, p.path, 'deleted', file.sizeBytes, caller.actor, now),
        ]);
        return { type: 'file' as const, purged: [file], files: 1, folders: 0 };
      }
      await this.repo.lockOrgTree(m, caller.orgId);
      const folder = await this.repo.lockFolder(m, t.folder.id);
      if (!folder) throw new OrgPathNotFoundException('path', p.path);
      if (!ifMatchHolds(ifMatch, folderEtag(folder)))
        throw new OrgPreconditionFailedException(p.path);
      const ids = (await this.repo.subtree(m, folder.id)).map((s) => s.id);
      // Writers into any of these folders lock it first: they wait, then find it deleted (409).
      await this.repo.lockFolders(m, ids);
      const job = await this.repo.addFolderDelete(m, caller.orgId, folder.id, p.path, caller.actor);
      const held = await this.repo.markDeleted(m, folder.id, ids, job);
      // Its files stop counting against the org's quota now, not as the worker removes them.
      await this.quotas.charge(m, [
        { orgId: caller.orgId, files: -held.files, bytes: -held.bytes },
      ]);
      return { type: 'folder' as const, purged: [], files: held.files, folders: ids.length };
    });
    if (result.type === 'folder') this.deletes.kick();
    await this.purger.purgeNow(result.purged);
    return {
      type: result.type,
      path: p.path,
      deletedFiles: result.files,
      deletedFolders: result.folders,
    };
  }

  /** Renames a file or folder in place; 409 when the new name is taken. */
  async rename(
    caller: OrgCaller,
    rawPath: string,
    rawNewName: string,
    ifMatch?: string,
  ): Promise<PathResult> {
    const p = checkOrgPath(rawPath, 'path');
    const name = checkOrgName(rawNewName, 'new_name');
    if (p.segments.length === 0) throw new OrgPathIsRootException('renamed');
    const newPath = joinOrgPath(parentOf(p) || ORG_ROOT_PATH, name);
    return this.relocate(caller, p, newPath, ifMatch, (_m, t) => {
      const parentId = t.kind === 'file' ? t.folder.id : t.folder.parentId!;
      return Promise.resolve({ destId: parentId, name, sourceParentId: parentId });
    });
  }

  /** Moves a file or folder into the folder `destPath`; 409 when its name is taken there. */
  async move(
    caller: OrgCaller,
    rawSource: string,
    rawDest: string,
    ifMatch?: string,
  ): Promise<PathResult> {
    const s = checkOrgPath(rawSource, 'source_path');
    const d = checkOrgPath(rawDest, 'dest_path');
    if (s.segments.length === 0) throw new OrgPathIsRootException('moved');
    const newPath = joinOrgPath(d.path, lastOf(s));
    return this.relocate(caller, s, newPath, ifMatch, async (m, t, root) => {
      const dest = await this.resolve(m, root, d);
      if (!dest) throw new OrgPathNotFoundException('dest_path', d.path);
      if (dest.kind === 'file') {
        throw new ValidationFailedException(`dest_path '${d.path}' is a file, not a folder`);
      }
      if (t.kind === 'folder') {
        const above = await this.repo.ancestorIds(m, dest.folder.id);
        if (dest.folder.id === t.folder.id || above.includes(t.folder.id)) {
          throw new ValidationFailedException(`a folder cannot be moved into itself`, [
            { field: 'dest_path', problems: ['is the source folder or inside it'] },
          ]);
        }
      }
      const sourceParentId = t.kind === 'file' ? t.folder.id : t.folder.parentId!;
      return { destId: dest.folder.id, name: lastOf(s), sourceParentId };
    });
  }

  /** Copies a file (new id, new bytes) into the folder `destPath`, as `newName` or its own name. */
  async copy(
    caller: OrgCaller & { orgKey: string; createdBy: string | null },
    rawSource: string,
    rawDest: string,
    rawNewName?: string,
  ): Promise<PathResult> {
    const s = checkOrgPath(rawSource, 'source_path');
    const d = checkOrgPath(rawDest, 'dest_path');
    if (s.segments.length === 0)
      throw new ValidationFailedException('copying folders is not supported');
    const name = rawNewName === undefined ? lastOf(s) : checkOrgName(rawNewName, 'new_name');
    const newPath = joinOrgPath(d.path, name);
    const m0 = this.repo.manager;
    const source = await this.existing(m0, caller.orgId, s, 'source_path');
    if (source.kind === 'folder')
      throw new ValidationFailedException('copying folders is not supported');
    const objectKey = orgFileKey(caller.orgKey);
    const copied = await this.bytes.copy(caller.orgId, source.file.objectKey, objectKey);
    const now = Date.now();
    try {
      const file = await this.tx(async (m) => {
        const dest = await this.existing(m, caller.orgId, d, 'dest_path');
        if (dest.kind === 'file') {
          throw new ValidationFailedException(`dest_path '${d.path}' is a file, not a folder`);
        }
        if (!(await this.repo.lockFolder(m, dest.folder.id))) throw new OrgTreeChangedException();
        if (await this.repo.nameTaken(m, dest.folder.id, name))
          throw new OrgNameTakenException(newPath);
        await this.quotas.chargeOne(m, { orgId: caller.orgId, files: 1, bytes: copied.sizeBytes });
        const [f] = await this.repo.insertFiles(m, [
          {
            id: newOrgFileId(),
            orgId: caller.orgId,
            orgKey: caller.orgKey,
            folderId: dest.folder.id,
            name,
            objectKey,
            sizeBytes: copied.sizeBytes,
            contentType: source.file.contentType,
            s3Etag: copied.etag,
            version: 1,
            createdBy: caller.createdBy,
            createdAt: new Date(now),
            updatedAt: new Date(now),
          },
        ]);
        await this.repo.addToCounts(m, dest.folder.id, 1, f.sizeBytes);
        await this.append(m, [orgFileEvent(f, newPath, 'created', 0, caller.actor, now)]);
        return f;
      });
      return { type: 'file', path: newPath, previousPath: s.path, etag: fileEtag(file) };
    } catch (err) {
      await this.purger.purgeNow([{ orgId: caller.orgId, objectKey }]);
      throw err;
    }
  }

  /**
   * Rename and move: one row changes (the file's, or the folder's: O(1) whatever it holds). A folder's
   * files get their `moved` events from the background worker, queued in the same transaction.
   */
  private async relocate(
    caller: OrgCaller,
    p: OrgPath,
    newPath: string,
    ifMatch: string | undefined,
    plan: (
      m: EntityManager,
      t: Target,
      root: OrgFolder,
    ) => Promise<{ destId: string; name: string; sourceParentId: string }>,
  ): Promise<PathResult> {
    const now = Date.now();
    const result = await this.tx(async (m) => {
      // Structural changes of one org are serialized: two concurrent folder moves cannot make a cycle.
      await this.repo.lockOrgTree(m, caller.orgId);
      const root = await this.repo.findRoot(m, caller.orgId);
      const t = root && (await this.resolve(m, root, p));
      if (!root || !t) throw new OrgPathNotFoundException('path', p.path);
      const { destId, name, sourceParentId } = await plan(m, t, root);
      const currentName = lastOf(p);
      if (destId === sourceParentId && name === currentName) {
        const etag = t.kind === 'file' ? fileEtag(t.file) : folderEtag(t.folder);
        if (!ifMatchHolds(ifMatch, etag)) throw new OrgPreconditionFailedException(p.path);
        return { type: t.kind, etag, moved: false };
      }
      await this.repo.lockFolders(m, [sourceParentId, destId]);
      if (await this.repo.nameTaken(m, destId, name)) throw new OrgNameTakenException(newPath);
      if (t.kind === 'file') {
        const file = await this.repo.fileIn(m, sourceParentId, currentName, true);
        if (!file) throw new OrgPathNotFoundException('path', p.path);
        if (!ifMatchHolds(ifMatch, fileEtag(file)))
          throw new OrgPreconditionFailedException(p.path);
        const moved = await this.repo.relocateFile(m, file.id, destId, name);
        if (destId !== sourceParentId) {
          await this.repo.addToCounts(m, sourceParentId, -1, -file.sizeBytes);
          await this.repo.addToCounts(m, destId, 1, file.sizeBytes);
        }
        await this.append(m, [
          orgFileEvent(moved, newPath, 'moved', moved.sizeBytes, caller.actor, now),
        ]);
        return { type: 'file' as const, etag: fileEtag(moved), moved: false };
      }
      const folder = await this.repo.lockFolder(m, t.folder.id);
      if (!folder) throw new OrgPathNotFoundException('path', p.path);
      if (!ifMatchHolds(ifMatch, folderEtag(folder)))
        throw new OrgPreconditionFailedException(p.path);
      const moved = await this.repo.relocateFolder(m, folder.id, destId, name);
      await this.repo.addFolderMove(m, caller.orgId, folder.id, caller.actor);
      return { type: 'folder' as const, etag: folderEtag(moved), moved: true };
    });
    if (result.moved) this.moves.kick();
    return { type: result.type, path: newPath, previousPath: p.path, etag: result.etag };
  }

  private async fileAt(orgId: string, rawPath: string): Promise<{ file: OrgFile; path: OrgPath }> {
    const p = checkOrgPath(rawPath, 'path');
    if (p.segments.length === 0) throw new OrgPathIsFolderException(p.path);
    const t = await this.existing(this.repo.manager, orgId, p, 'path');
    if (t.kind === 'folder') throw new OrgPathIsFolderException(p.path);
    return { file: t.file, path: p };
  }

  private async existing(
    m: EntityManager,
    orgId: string,
    p: OrgPath,
    field: string,
  ): Promise<Target> {
    const root = await this.repo.findRoot(m, orgId);
    const t = root && (await this.resolve(m, root, p));
    if (!t) throw new OrgPathNotFoundException(field, p.path);
    return t;
  }

  /** What `p` names: a folder (the root for an empty path), a file, or nothing (null). */
  private async resolve(m: EntityManager, root: OrgFolder, p: OrgPath): Promise<Target | null> {
    const chain = await this.repo.walk(m, root.id, p.segments);
    const deepest = chain[chain.length - 1];
    if (chain.length === p.segments.length + 1) return { kind: 'folder', folder: deepest, path: p };
    if (chain.length === p.segments.length) {
      const file = await this.repo.fileIn(m, deepest.id, lastOf(p));
      return file ? { kind: 'file', file, folder: deepest, path: p } : null;
    }
    return null;
  }

  /** The folder at `segments`, creating what is missing; 409 when a segment is a file. */
  private async mkdirs(
    m: EntityManager,
    orgId: string,
    root: OrgFolder,
    segments: string[],
  ): Promise<OrgFolder> {
    const chain = await this.repo.walk(m, root.id, segments);
    let current = chain[chain.length - 1];
    for (let i = chain.length - 1; i < segments.length; i++) {
      const name = segments[i];
      if (!(await this.repo.lockFolder(m, current.id))) throw new OrgTreeChangedException();
      const next =
        (await this.repo.childFolder(m, current.id, name)) ??
        ((await this.repo.fileIn(m, current.id, name))
          ? null
          : await this.repo.insertFolder(m, orgId, current.id, name));
      if (!next) throw new OrgNameTakenException(segments.slice(0, i + 1).join('/'));
      current = next;
    }
    return current;
  }

  private async append(m: EntityManager, events: StorageFileUpdatedEvent[]): Promise<void> {
    await this.outbox.appendMany(
      m,
      events.map((data) => ({ topic: Topic.StorageFileUpdated, key: data.objectId, data })),
    );
  }

  /**
   * A transaction whose races answer 409, not 500: two creators of one name (unique index), a folder
   * deleted while a change wrote into it (foreign key). A deadlock (a writer walking down the tree while a
   * folder delete locks its subtree) is retried, then a 409 too.
   */
  private async tx<T>(work: (m: EntityManager) => Promise<T>, attempt = 1): Promise<T> {
    try {
      return await this.repo.transaction(work);
    } catch (err) {
      const code = err instanceof QueryFailedError && (err.driverError as { code?: string }).code;
      if (code === '23505') throw new OrgNameTakenException('the target');
      if (code === '40P01' && attempt < 3) return this.tx(work, attempt + 1);
      if (code === '23503' || code === '40P01') throw new OrgTreeChangedException();
      throw err;
    }
  }
}
