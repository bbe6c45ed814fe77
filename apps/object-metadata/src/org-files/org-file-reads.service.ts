import { Injectable } from '@nestjs/common';
import {
  checkOrgListCursor,
  checkOrgPath,
  encodeOrgListCursor,
  ORG_ROOT_PATH,
  ORG_STORAGE_LIMITS,
  OrgPath,
  type OrgFileDownloadView,
  type OrgFileView,
  type OrgListingView,
  type OrgStatsView,
} from '@lib/contracts';
import { ObjectBytesService } from '../bytes/object-bytes.service';
import { contentDisposition } from '../files/content-disposition';
import { fileView, folderView } from './org-file-views';
import { OrgPathIsFolderException, OrgPathNotFoundException } from './org-files.exception';
import { OrgFile, OrgFilesRepository } from './org-files.repository';
import { OrgTree, parentOf } from './org-tree';

/** Org storage's reads: folder listings, file metadata and downloads, and stats. */
@Injectable()
export class OrgFileReadsService {
  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly tree: OrgTree,
    private readonly bytes: ObjectBytesService,
  ) {}

  /**
   * One page of a folder's direct children (`/` when absent): folders first, then files, each by name;
   * `nextCursor` (null on the last page) continues after the page's last entry.
   */
  async list(
    orgId: string,
    rawPath: string | undefined,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<OrgListingView> {
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
    const t = await this.tree.resolve(m, root, p);
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
  async download(orgId: string, rawPath: string): Promise<OrgFileDownloadView> {
    const { file, path } = await this.fileAt(orgId, rawPath);
    const url = this.bytes.downloadUrl(file.objectKey, 300, {
      responseContentDisposition: contentDisposition('attachment', file.name),
      responseContentType: file.contentType ?? 'application/octet-stream',
    });
    return { ...fileView(file, parentOf(path)), url };
  }

  /** Bytes, files and folders under a folder (recursive), from the folders' counters. */
  async stats(orgId: string, rawPath: string | undefined): Promise<OrgStatsView> {
    const p = checkOrgPath(rawPath, 'path');
    const m = this.repo.manager;
    const root = await this.repo.findRoot(m, orgId);
    if (!root) {
      if (p.segments.length === 0)
        return { path: p.path, type: 'folder', bytes: 0, files: 0, folders: 0 };
      throw new OrgPathNotFoundException('path', p.path);
    }
    const t = await this.tree.resolve(m, root, p);
    if (!t) throw new OrgPathNotFoundException('path', p.path);
    if (t.kind === 'file') {
      return { path: p.path, type: 'file', bytes: t.file.sizeBytes, files: 1, folders: 0 };
    }
    return { path: p.path, type: 'folder', ...(await this.repo.stats(m, t.folder.id)) };
  }

  private async fileAt(orgId: string, rawPath: string): Promise<{ file: OrgFile; path: OrgPath }> {
    const p = checkOrgPath(rawPath, 'path');
    if (p.segments.length === 0) throw new OrgPathIsFolderException(p.path);
    const t = await this.tree.existing(this.repo.manager, orgId, p, 'path');
    if (t.kind === 'folder') throw new OrgPathIsFolderException(p.path);
    return { file: t.file, path: p };
  }
}
