import { Controller, Get, Query } from '@nestjs/common';
import { LiveFilesQuery, type LiveFilesPage, type ServicePrincipal } from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { FilesService } from './files.service';

/**
 * Internal HTTP API over every kind of stored file: the census of an org's live files (usage truth), for
 * the usage-aggregator's rebuild. Its token names the org: a census of every org answers no one. The public
 * download's lookups are the batched calls `files.downloadUrl` and `files.streamSource` (BatchController).
 */
@Controller('internal/files')
@CalledBy('usage-aggregator')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Get('live')
  live(
    @OnBehalfOf() principal: ServicePrincipal,
    @Query() q: LiveFilesQuery,
  ): Promise<LiveFilesPage> {
    return this.files.listLive({ ...q, orgId: principal.orgId });
  }
}
