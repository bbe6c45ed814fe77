import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  OrgCommitUploadCommand,
  OrgCopyCommand,
  OrgCreateFolderCommand,
  OrgDeleteCommand,
  OrgEntryQuery,
  OrgFileQuery,
  OrgListingQuery,
  OrgMoveCommand,
  OrgRenameCommand,
  parseObjectKey,
  type ServicePrincipal,
} from '@lib/contracts';
import { ValidationFailedException } from '@lib/errors';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { OrgFileReadsService } from './org-file-reads.service';
import { OrgTreeMutationsService } from './org-tree-mutations.service';
import { OrgUploadCommitsService } from './org-upload-commits.service';

/**
 * Internal org storage API, called by the gateway (one hop) once it has authenticated the org key: the org
 * is the one of the call's principal. Answers the `data` of org storage's `{success, data}` envelope.
 */
@Controller('internal/org-files')
@CalledBy('gateway')
export class OrgFilesController {
  constructor(
    private readonly reads: OrgFileReadsService,
    private readonly uploads: OrgUploadCommitsService,
    private readonly mutations: OrgTreeMutationsService,
  ) {}

  @Get('children')
  list(@OnBehalfOf() p: ServicePrincipal, @Query() q: OrgListingQuery) {
    return this.reads.list(p.orgId, q.path, { limit: q.limit, cursor: q.cursor });
  }

  @Get('meta')
  meta(@OnBehalfOf() p: ServicePrincipal, @Query() q: OrgFileQuery) {
    return this.reads.meta(p.orgId, q.path);
  }

  @Get('download')
  download(@OnBehalfOf() p: ServicePrincipal, @Query() q: OrgFileQuery) {
    return this.reads.download(p.orgId, q.path);
  }

  @Get('stats')
  stats(@OnBehalfOf() p: ServicePrincipal, @Query() q: OrgEntryQuery) {
    return this.reads.stats(p.orgId, q.path);
  }

  @Post('uploads')
  @HttpCode(200)
  commitUpload(@OnBehalfOf() p: ServicePrincipal, @Body() cmd: OrgCommitUploadCommand) {
    const parsed = parseObjectKey(cmd.objectKey);
    if (parsed?.kind !== 'org_file' || parsed.orgKey !== p.orgKey) {
      throw new ValidationFailedException('objectKey is not an org file key of this org');
    }
    return this.uploads.commitUpload({
      ...cmd,
      orgId: p.orgId,
      orgKey: p.orgKey,
      actor: p.actor,
      createdBy: p.userId,
      s3Etag: cmd.s3Etag ?? null,
      contentType: cmd.contentType ?? null,
    });
  }

  @Post('folders')
  @HttpCode(200)
  createFolder(@OnBehalfOf() p: ServicePrincipal, @Body() cmd: OrgCreateFolderCommand) {
    return this.mutations.createFolder(p, cmd.path, cmd.name);
  }

  @Post('delete')
  @HttpCode(200)
  remove(@OnBehalfOf() p: ServicePrincipal, @Body() cmd: OrgDeleteCommand) {
    return this.mutations.remove(p, cmd.path, cmd.ifMatch);
  }

  @Post('rename')
  @HttpCode(200)
  rename(@OnBehalfOf() p: ServicePrincipal, @Body() cmd: OrgRenameCommand) {
    return this.mutations.rename(p, cmd.path, cmd.newName, cmd.ifMatch);
  }

  @Post('move')
  @HttpCode(200)
  move(@OnBehalfOf() p: ServicePrincipal, @Body() cmd: OrgMoveCommand) {
    return this.mutations.move(p, cmd.sourcePath, cmd.destPath, cmd.ifMatch);
  }

  @Post('copy')
  @HttpCode(200)
  copy(@OnBehalfOf() p: ServicePrincipal, @Body() cmd: OrgCopyCommand) {
    return this.mutations.copy(
      { ...p, createdBy: p.userId },
      cmd.sourcePath,
      cmd.destPath,
      cmd.newName,
    );
  }
}
