import { joinOrgPath, type OrgFileView, type OrgFolderView } from '@lib/contracts';
import type { OrgFile, OrgFolder } from './org-files.repository';

/**
 * ETags of org storage entries: the entry's id and version. Every change (new bytes, rename, move) bumps
 * the version, so an `If-Match` taken before any change fails after it.
 */
export const fileEtag = (f: Pick<OrgFile, 'id' | 'version'>) => `"${f.id}.${f.version}"`;
export const folderEtag = (f: Pick<OrgFolder, 'id' | 'version'>) => `"${f.id}.${f.version}"`;

export function fileView(f: OrgFile, folderPath: string): OrgFileView {
  return {
    type: 'file',
    name: f.name,
    path: joinOrgPath(folderPath, f.name),
    sizeBytes: f.sizeBytes,
    contentType: f.contentType,
    etag: fileEtag(f),
    objectKey: f.objectKey,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}

export function folderView(f: OrgFolder, parentPath: string): OrgFolderView {
  return {
    type: 'folder',
    name: f.name,
    path: joinOrgPath(parentPath, f.name),
    etag: folderEtag(f),
    updatedAt: f.updatedAt.toISOString(),
  };
}

/**
 * RFC 9110 If-Match: absent → no condition; `*` → the entry must exist; else one of the listed ETags
 * must equal the current one (weak ETags never match: the comparison is strong).
 */
export function ifMatchHolds(header: string | undefined, etag: string | null): boolean {
  if (header === undefined) return true;
  if (etag === null) return false;
  const tags = header.split(',').map((t) => t.trim());
  return tags.includes('*') || tags.includes(etag);
}
