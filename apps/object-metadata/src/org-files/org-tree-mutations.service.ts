import { Injectable } from '@nestjs/common';
import {
  checkOrgName,
  checkOrgPath,
  joinOrgPath,
  ORG_ROOT_PATH,
  orgFileKey,
  OrgPath,
  type OrgDeleteResult,
  type OrgPathResult,
} from '@lib/contracts';
import type { Tx } from '@lib/database';
import { ValidationFailedException } from '@lib/errors';
import { ObjectBytesService } from '../bytes/object-bytes.service';
import { StorageQuotas } from '../quotas/storage-quotas.service';
import { orgFileEvent } from './org-file-events';
import { newOrgFileId } from './org-file-ids';
import { OrgFilePurger } from './org-file-purger.service';
import { fileEtag, folderEtag, ifMatchHolds } from './org-file-views';
import {
  OrgNameTakenException,
  OrgPathIsRootException,
  OrgPathNotFoundException,
  OrgPreconditionFailedException,
  OrgTreeChangedException,
} from './org-files.exception';
import { OrgFilesRepository, OrgFolder } from './org-files.repository';
import { OrgFolderDeleteWorker } from './org-folder-delete.worker';
import { OrgFolderMoveWorker } from './org-folder-move.worker';
import { lastOf, OrgCaller, OrgTarget, OrgTree, parentOf } from './org-tree';

/**
 * Changes to the folder tree: files and folders reference their parent by id, so a folder rename or move
 * is one row whatever it holds; its files' `moved` events follow from a background worker
 * (`OrgFolderMoveWorker`). A folder delete marks the folder's subtree and queues the removal of its files,
 * which another worker does in batches (`OrgFolderDeleteWorker`). Every change and its
 * `storage_file.updated` events commit in one transaction; bytes no file points at any more are purged after
 * the commit (`OrgFilePurger`).
 */
@Injectable()
export class OrgTreeMutationsService {
  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly tree: OrgTree,
    private readonly bytes: ObjectBytesService,
    private readonly purger: OrgFilePurger,
    private readonly moves: OrgFolderMoveWorker,
    private readonly deletes: OrgFolderDeleteWorker,
    private readonly quotas: StorageQuotas,
  ) {}

  /** Creates folder `name` inside the existing folder `path` (root when absent). */
  async createFolder(
    caller: OrgCaller,
    rawPath: string | undefined,
    rawName: string,
  ): Promise<OrgPathResult> {
    const parent = checkOrgPath(rawPath, 'path');
    const name = checkOrgName(rawName, 'name');
    const path = joinOrgPath(parent.path, name);
    const folder = await this.tree.change(async (m) => {
      const root = await this.repo.ensureRoot(m, caller.orgId);
      const t = await this.tree.resolve(m, root, parent);
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
  async remove(caller: OrgCaller, rawPath: string, ifMatch?: string): Promise<OrgDeleteResult> {
    const p = checkOrgPath(rawPath, 'path');
    if (p.segments.length === 0) throw new OrgPathIsRootException('deleted');
    const now = Date.now();
    const result = await this.tree.change(async (m) => {
      const t = await this.tree.existing(m, caller.orgId, p, 'path');
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
        await this.tree.append(m, [
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
  ): Promise<OrgPathResult> {
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
  ): Promise<OrgPathResult> {
    const s = checkOrgPath(rawSource, 'source_path');
    const d = checkOrgPath(rawDest, 'dest_path');
    if (s.segments.length === 0) throw new OrgPathIsRootException('moved');
    const newPath = joinOrgPath(d.path, lastOf(s));
    return this.relocate(caller, s, newPath, ifMatch, async (m, t, root) => {
      const dest = await this.tree.resolve(m, root, d);
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
  ): Promise<OrgPathResult> {
    const s = checkOrgPath(rawSource, 'source_path');
    const d = checkOrgPath(rawDest, 'dest_path');
    if (s.segments.length === 0)
      throw new ValidationFailedException('copying folders is not supported');
    const name = rawNewName === undefined ? lastOf(s) : checkOrgName(rawNewName, 'new_name');
    const newPath = joinOrgPath(d.path, name);
    const m0 = this.repo.manager;
    const source = await this.tree.existing(m0, caller.orgId, s, 'source_path');
    if (source.kind === 'folder')
      throw new ValidationFailedException('copying folders is not supported');
    const objectKey = orgFileKey(caller.orgKey);
    const copied = await this.bytes.copy(caller.orgId, source.file.objectKey, objectKey);
    const now = Date.now();
    try {
      const file = await this.tree.change(async (m) => {
        const dest = await this.tree.existing(m, caller.orgId, d, 'dest_path');
        if (dest.kind === 'file') {
          throw new ValidationFailedException(`dest_path '${d.path}' is a file, not a folder`);
        }
        if (!(await this.repo.lockFolder(m, dest.folder.id))) throw new OrgTreeChangedException();
        if (await this.repo.nameTaken(m, dest.folder.id, name))
          throw new OrgNameTakenException(newPath);
        await this.quotas.chargeOne(m, { orgId: caller.orgId, files: 1, bytes: copied.sizeBytes });
        const [f] = await this.repo.insertFiles(
          m,
          [
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
          ],
          { folderId: dest.folder.id, files: 1, bytes: copied.sizeBytes },
        );
        await this.tree.append(m, [orgFileEvent(f, newPath, 'created', 0, caller.actor, now)]);
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
      m: Tx,
      t: OrgTarget,
      root: OrgFolder,
    ) => Promise<{ destId: string; name: string; sourceParentId: string }>,
  ): Promise<OrgPathResult> {
    const now = Date.now();
    const result = await this.tree.change(async (m) => {
      // Structural changes of one org are serialized: two concurrent folder moves cannot make a cycle.
      await this.repo.lockOrgTree(m, caller.orgId);
      const root = await this.repo.findRoot(m, caller.orgId);
      const t = root && (await this.tree.resolve(m, root, p));
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
        await this.tree.append(m, [
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
}
