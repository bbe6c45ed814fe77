import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { parseObjectKey } from '@lib/contracts';
import { ValidationFailedException } from '@lib/errors';
import {
  OrgCommitUploadDto,
  OrgCopyDto,
  OrgCreateFolderDto,
  OrgDeleteDto,
  OrgMoveDto,
  OrgListQueryDto,
  OrgPathQueryDto,
  OrgRenameDto,
  OrgRequiredPathQueryDto,
} from './dto/org-files.dto';
import { OrgFilesService } from './org-files.service';

/**
 * Internal org storage API, called by the gateway (one hop) once it has authenticated the org key. Answers
 * the `data` of seed 004's envelope.
 */
@Controller('internal/org-files')
export class OrgFilesController {
  constructor(private readonly files: OrgFilesService) {}

  @Get('children')
  list(@Query() q: OrgListQueryDto) {
    return this.files.list(q.orgId, q.path, { limit: q.limit, cursor: q.cursor });
  }

  @Get('meta')
  meta(@Query() q: OrgRequiredPathQueryDto) {
    return this.files.meta(q.orgId, q.path);
  }

  @Get('download')
  download(@Query() q: OrgRequiredPathQueryDto) {
    return this.files.download(q.orgId, q.path);
  }

  @Get('stats')
  stats(@Query() q: OrgPathQueryDto) {
    return this.files.stats(q.orgId, q.path);
  }

  @Post('uploads')
  @HttpCode(200)
  commitUpload(@Body() cmd: OrgCommitUploadDto) {
    const parsed = parseObjectKey(cmd.objectKey);
    if (parsed?.kind !== 'org_file' || parsed.orgKey !== cmd.orgKey) {
      throw new ValidationFailedException('objectKey is not an org file key of this org');
    }
    return this.files.commitUpload({
      ...cmd,
      createdBy: cmd.createdBy ?? null,
      s3Etag: cmd.s3Etag ?? null,
      contentType: cmd.contentType ?? null,
    });
  }

  @Post('folders')
  @HttpCode(200)
  createFolder(@Body() cmd: OrgCreateFolderDto) {
    return this.files.createFolder(cmd, cmd.path, cmd.name);
  }

  @Post('delete')
  @HttpCode(200)
  remove(@Body() cmd: OrgDeleteDto) {
    return this.files.remove(cmd, cmd.path, cmd.ifMatch);
  }

  @Post('rename')
  @HttpCode(200)
  rename(@Body() cmd: OrgRenameDto) {
    return this.files.rename(cmd, cmd.path, cmd.newName, cmd.ifMatch);
  }

  @Post('move')
  @HttpCode(200)
  move(@Body() cmd: OrgMoveDto) {
    return this.files.move(cmd, cmd.sourcePath, cmd.destPath, cmd.ifMatch);
  }

  @Post('copy')
  @HttpCode(200)
  copy(@Body() cmd: OrgCopyDto) {
    return this.files.copy(
      { ...cmd, createdBy: cmd.createdBy ?? null },
      cmd.sourcePath,
      cmd.destPath,
      cmd.newName,
    );
  }
}
