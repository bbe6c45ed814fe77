import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentPrincipal, Principal } from '@lib/auth';
import {
  checkOrgListCursor,
  checkOrgName,
  checkOrgPath,
  ORG_STORAGE_LIMITS,
  type OrgFileUpload,
} from '@lib/contracts';
import { DependencyUnavailableException } from '@lib/errors';
import { ObjectMetadataClient } from '@lib/clients';
import { OrgStorageErrors } from '../docs/error-responses';
import { getPresigned } from '../http/presigned-get';
import { servicePrincipalOf } from '../services/service-principal';
import { MultipartBody } from '../http/json-only-body';
import { OrgFileUploads } from './org-file-uploads.service';
import {
  CopyBody,
  CreateFolderBody,
  MoveBody,
  OrgListQuery,
  OrgPathQuery,
  OrgRequiredPathQuery,
  RenameBody,
} from './org-storage.dto';

/** Org storage's success envelope. */
const ok = <T>(data: T) => ({ success: true as const, data });

/** An upload's answer: 201 for a new file, 200 for an overwrite, with the file's `ETag`. */
const uploaded = (reply: FastifyReply, { file, created }: OrgFileUpload) => {
  void reply.status(created ? 201 : 200).header('etag', file.etag);
  return ok({ ...file, created });
};

// The examples and error answers of the OpenAPI document (`/docs-json`).
const ETAG = '"6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b.3"';
const FILE_EXAMPLE = {
  type: 'file',
  name: 'q3.csv',
  path: 'reports/q3.csv',
  sizeBytes: 2048,
  contentType: 'text/csv',
  etag: ETAG,
  objectKey: 'acme/files/1f0c6a5e9d8b4c7a',
  createdAt: '2026-01-05T09:30:00.000Z',
  updatedAt: '2026-01-05T09:30:00.000Z',
};
const FOLDER_EXAMPLE = {
  type: 'folder',
  name: 'reports',
  path: 'reports',
  etag: ETAG,
  updatedAt: '2026-01-05T09:30:00.000Z',
};
const MOVED_EXAMPLE = {
  type: 'file',
  path: 'archive/q3.csv',
  previousPath: 'reports/q3.csv',
  etag: ETAG,
};
const okExample = (description: string, data: unknown) =>
  ApiOkResponse({ description, example: { success: true, data } });
const PATH_INVALID =
  'A path or name that is not valid (absolute, `..`, control characters, too long).';
const NOT_FOUND = 'No such file or folder.';
const IF_MATCH_FAILED = 'Extension: `If-Match` does not match the entry’s current `ETag`.';
const NAME_TAKEN =
  'PATH_EXISTS: the name is taken; or TREE_CHANGED: a folder moved meanwhile (retry).';
const QUOTA = 'QUOTA_EXCEEDED: the organization’s storage quota would be passed.';

/**
 * Organization storage (`/api/private/storage`), authenticated by the org private key in the
 * `api-key` header only. Metadata is one call to object-metadata; an upload is `OrgFileUploads` (bytes
 * streamed to S3, then recorded); downloads stream from S3 through a presigned URL. Extensions:
 * `ETag` / `If-Match`, `POST /copy`, `GET /stats`.
 */
@ApiTags('org-storage')
@Controller('api/private/storage')
@Authenticated('org-key')
export class OrgStorageController {
  constructor(
    private readonly metadata: ObjectMetadataClient,
    private readonly fileUploads: OrgFileUploads,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'List the direct children of a folder, folders first, by name, a page at a time (404: missing, or a file)',
  })
  @okExample('One page of the folder’s entries.', {
    path: 'reports',
    entries: [{ ...FOLDER_EXAMPLE, name: '2026', path: 'reports/2026' }, FILE_EXAMPLE],
    hasMore: false,
    nextCursor: null,
  })
  @OrgStorageErrors({ 400: `${PATH_INVALID} Or a bad \`limit\` or \`cursor\`.`, 404: NOT_FOUND })
  async list(@CurrentPrincipal() p: Principal, @Query() q: OrgListQuery) {
    const path = checkOrgPath(q.path, 'path').path;
    if (q.cursor !== undefined) checkOrgListCursor(q.cursor, 'cursor');
    return ok(
      await this.metadata.orgListing(servicePrincipalOf(p), {
        path,
        limit: q.limit,
        cursor: q.cursor,
      }),
    );
  }

  @MultipartBody()
  @Post('upload')
  @HttpCode(200)
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    summary:
      'Upload a file (multipart `file`, optional `path`); 10 MB max (413); overwrites (last write wins) ' +
      'unless `If-Match` (extension) does not match (412). 201 for a new file, 200 for an overwrite.',
  })
  @okExample('An existing file overwritten (`ETag` header: its new ETag).', {
    ...FILE_EXAMPLE,
    created: false,
  })
  @ApiResponse({
    status: 201,
    description: 'A new file (`ETag` header: its ETag).',
    example: { success: true, data: { ...FILE_EXAMPLE, created: true } },
  })
  @OrgStorageErrors({
    400: `No \`file\` part, a broken multipart body, or ${PATH_INVALID.toLowerCase()}`,
    403: QUOTA,
    404: 'The folder `path` does not exist.',
    409: NAME_TAKEN,
    412: IF_MATCH_FAILED,
    413: `The file is larger than ${ORG_STORAGE_LIMITS.uploadBytes} bytes.`,
    415: 'The body is not multipart/form-data.',
  })
  async upload(
    @CurrentPrincipal() p: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('if-match') ifMatch?: string,
  ) {
    return uploaded(reply, await this.fileUploads.upload(p, request, ifMatch));
  }

  @Get('meta')
  @ApiOperation({ summary: 'A file’s metadata (400: a folder; 404: missing); `ETag` header' })
  @okExample('The file (`ETag` header: its ETag).', FILE_EXAMPLE)
  @OrgStorageErrors({ 400: `${PATH_INVALID} Or a folder.`, 404: NOT_FOUND })
  async meta(
    @CurrentPrincipal() p: Principal,
    @Query() q: OrgRequiredPathQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const path = checkOrgPath(q.path, 'path').path;
    const view = await this.metadata.orgFileMeta(servicePrincipalOf(p), { path });
    void reply.header('etag', view.etag);
    return ok(view);
  }

  @Delete('file')
  @ApiOperation({ summary: 'Delete a file or a folder with everything in it (400: the root)' })
  @okExample('What was deleted.', {
    type: 'folder',
    path: 'reports',
    deletedFiles: 12,
    deletedFolders: 2,
  })
  @OrgStorageErrors({
    400: `${PATH_INVALID} Or the root.`,
    404: NOT_FOUND,
    409: NAME_TAKEN,
    412: IF_MATCH_FAILED,
  })
  async remove(
    @CurrentPrincipal() p: Principal,
    @Query() q: OrgRequiredPathQuery,
    @Headers('if-match') ifMatch?: string,
  ) {
    const path = checkOrgPath(q.path, 'path').path;
    return ok(await this.metadata.deleteOrgEntry(servicePrincipalOf(p), { path, ifMatch }));
  }

  @Get('download')
  @ApiOperation({ summary: 'Download a file’s bytes (400: a folder; 404: missing)' })
  @ApiOkResponse({
    description: 'The file’s bytes, with its `Content-Type`, `Content-Length` and `ETag`.',
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  })
  @OrgStorageErrors({
    400: `${PATH_INVALID} Or a folder.`,
    404: NOT_FOUND,
    503: 'Storage did not serve the bytes; retry.',
  })
  async download(
    @CurrentPrincipal() p: Principal,
    @Query() q: OrgRequiredPathQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const path = checkOrgPath(q.path, 'path').path;
    const file = await this.metadata.orgFileDownload(servicePrincipalOf(p), { path });
    const s3 = await getPresigned(file.url, undefined);
    if (!('body' in s3)) {
      throw new DependencyUnavailableException(`S3 answered ${s3.status} for the file's bytes`);
    }
    void reply
      .status(200)
      .header('content-type', s3.headers['content-type'] ?? 'application/octet-stream')
      .header('content-disposition', s3.headers['content-disposition'] ?? 'attachment')
      .header('content-length', s3.headers['content-length'] ?? String(file.sizeBytes))
      .header('etag', file.etag);
    await reply.send(s3.body);
  }

  @Post('folder')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a folder `name` in `path`; answers its canonical path (409: exists)',
  })
  @ApiResponse({
    status: 201,
    description: 'The new folder.',
    example: { success: true, data: { type: 'folder', path: 'reports/2026', etag: ETAG } },
  })
  @OrgStorageErrors({
    400: `${PATH_INVALID} Or \`path\` is a file.`,
    404: 'The parent folder `path` does not exist.',
    409: NAME_TAKEN,
  })
  async createFolder(@CurrentPrincipal() p: Principal, @Body() body: CreateFolderBody) {
    const name = checkOrgName(body.name, 'name');
    const path = checkOrgPath(body.path, 'path').path;
    return ok(await this.metadata.createOrgFolder(servicePrincipalOf(p), { path, name }));
  }

  @Post('rename')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rename a file or folder in place (409: the name is taken)' })
  @okExample('The entry at its new path.', {
    ...MOVED_EXAMPLE,
    path: 'reports/q3-final.csv',
  })
  @OrgStorageErrors({
    400: `${PATH_INVALID} Or the root.`,
    404: NOT_FOUND,
    409: NAME_TAKEN,
    412: IF_MATCH_FAILED,
  })
  async rename(
    @CurrentPrincipal() p: Principal,
    @Body() body: RenameBody,
    @Headers('if-match') ifMatch?: string,
  ) {
    const path = checkOrgPath(body.path, 'path').path;
    const newName = checkOrgName(body.new_name, 'new_name');
    return ok(
      await this.metadata.renameOrgEntry(servicePrincipalOf(p), { path, newName, ifMatch }),
    );
  }

  @Post('move')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Move a file or folder into the folder `dest_path` (409: name taken there)',
  })
  @okExample('The entry at its new path.', MOVED_EXAMPLE)
  @OrgStorageErrors({
    400: `${PATH_INVALID} Or the root, a file as \`dest_path\`, or a folder into itself.`,
    404: 'No such file or folder, or no folder `dest_path`.',
    409: NAME_TAKEN,
    412: IF_MATCH_FAILED,
  })
  async move(
    @CurrentPrincipal() p: Principal,
    @Body() body: MoveBody,
    @Headers('if-match') ifMatch?: string,
  ) {
    const sourcePath = checkOrgPath(body.source_path, 'source_path').path;
    const destPath = checkOrgPath(body.dest_path, 'dest_path').path;
    return ok(
      await this.metadata.moveOrgEntry(servicePrincipalOf(p), { sourcePath, destPath, ifMatch }),
    );
  }

  @Post('copy')
  @HttpCode(200)
  @ApiOperation({ summary: 'Extension: copy a file into the folder `dest_path` (409: name taken)' })
  @okExample('The copy.', { ...MOVED_EXAMPLE, previousPath: 'reports/q3.csv' })
  @OrgStorageErrors({
    400: `${PATH_INVALID} Or a folder as the source, or a file as \`dest_path\`.`,
    403: QUOTA,
    404: 'No such file, or no folder `dest_path`.',
    409: NAME_TAKEN,
  })
  async copy(@CurrentPrincipal() p: Principal, @Body() body: CopyBody) {
    const sourcePath = checkOrgPath(body.source_path, 'source_path').path;
    const destPath = checkOrgPath(body.dest_path, 'dest_path').path;
    const newName =
      body.new_name === undefined ? undefined : checkOrgName(body.new_name, 'new_name');
    return ok(
      await this.metadata.copyOrgFile(servicePrincipalOf(p), { sourcePath, destPath, newName }),
    );
  }

  @Get('stats')
  @ApiOperation({ summary: 'Extension: bytes, files and folders under a folder (recursive)' })
  @okExample('The totals.', {
    path: 'reports',
    type: 'folder',
    bytes: 1048576,
    files: 12,
    folders: 2,
  })
  @OrgStorageErrors({ 400: PATH_INVALID, 404: NOT_FOUND })
  async stats(@CurrentPrincipal() p: Principal, @Query() q: OrgPathQuery) {
    const path = checkOrgPath(q.path, 'path').path;
    return ok(await this.metadata.orgStats(servicePrincipalOf(p), { path }));
  }
}
