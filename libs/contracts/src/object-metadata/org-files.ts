import { IsInt, IsOptional, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import { PageLimit } from '../objects';
import { ORG_STORAGE_LIMITS } from '../org-storage';

// object-metadata's org storage routes (`ObjectMetadataClient`, org files): the gateway calls them once it
// has authenticated the org key, and the org is the call's principal's. Paths and names are checked by the
// service with checkOrgPath / checkOrgName (the same checks as the gateway's); here they only need to be
// strings of a sane length.

const PATH_CHARS = 4 * ORG_STORAGE_LIMITS.pathBytes;

/** A folder (or any entry): absent or `/` for the root. */
export class OrgEntryQuery {
  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  path?: string;
}

/** One page of a folder listing; the cursor is checked by the service (`checkOrgListCursor`). */
export class OrgListingQuery extends OrgEntryQuery {
  @PageLimit(ORG_STORAGE_LIMITS.list.max)
  limit?: number;

  @IsOptional()
  @IsString()
  @Length(1, 2048)
  cursor?: string;
}

/** One file. */
export class OrgFileQuery {
  @IsString()
  @Length(0, PATH_CHARS)
  path!: string;
}

export class OrgCommand {
  /** RFC 9110 `If-Match` of the client, passed through. */
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  ifMatch?: string;
}

export class OrgDeleteCommand extends OrgCommand {
  @IsString()
  @Length(0, PATH_CHARS)
  path!: string;
}

export class OrgCreateFolderCommand extends OrgCommand {
  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  path?: string;

  @IsString()
  @Length(0, PATH_CHARS)
  name!: string;
}

export class OrgRenameCommand extends OrgCommand {
  @IsString()
  @Length(0, PATH_CHARS)
  path!: string;

  @IsString()
  @Length(0, PATH_CHARS)
  newName!: string;
}

export class OrgMoveCommand extends OrgCommand {
  @IsString()
  @Length(0, PATH_CHARS)
  sourcePath!: string;

  @IsString()
  @Length(0, PATH_CHARS)
  destPath!: string;
}

export class OrgCopyCommand extends OrgCommand {
  @IsString()
  @Length(0, PATH_CHARS)
  sourcePath!: string;

  @IsString()
  @Length(0, PATH_CHARS)
  destPath!: string;

  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  newName?: string;
}

/** Records bytes the gateway stored under a fresh org file key as the file `name` in the folder `path`. */
export class OrgCommitUploadCommand extends OrgCommand {
  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  path?: string;

  @IsString()
  @Length(0, PATH_CHARS)
  name!: string;

  @IsString()
  @Length(1, 1024)
  objectKey!: string;

  @IsInt()
  @Min(0)
  @Max(ORG_STORAGE_LIMITS.uploadBytes)
  sizeBytes!: number;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Length(1, 1024)
  s3Etag?: string | null;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Length(1, 255)
  contentType?: string | null;
}

export interface OrgFileView {
  type: 'file';
  name: string;
  path: string;
  sizeBytes: number;
  contentType: string | null;
  etag: string;
  /** Extension: the file's public download key (the public download's `GET /api/v1/objects/download?objectKey=`). */
  objectKey: string;
  createdAt: string;
  updatedAt: string;
}

export interface OrgFolderView {
  type: 'folder';
  name: string;
  path: string;
  etag: string;
  updatedAt: string;
}

/** A page of a folder's entries, folders first, by name. */
export interface OrgListingView {
  path: string;
  entries: (OrgFolderView | OrgFileView)[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** A file and a short-lived presigned GET of its bytes. */
export type OrgFileDownloadView = OrgFileView & { url: string };

/** Bytes, files and folders under an entry (recursive). */
export interface OrgStatsView {
  path: string;
  type: 'file' | 'folder';
  bytes: number;
  files: number;
  folders: number;
}

/** The entry a change touched, at its (new) path. */
export interface OrgPathResult {
  type: 'file' | 'folder';
  path: string;
  previousPath?: string;
  etag?: string;
}

/** What a delete removed. */
export type OrgDeleteResult = OrgPathResult & { deletedFiles: number; deletedFolders: number };

/** A recorded upload: the file, and whether it is new (else it overwrote one). */
export interface OrgFileUpload {
  file: OrgFileView;
  created: boolean;
}
