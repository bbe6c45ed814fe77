import { Controller, Get, Query } from '@nestjs/common';
import { LiveFilesQueryDto } from './dto/files-queries.dto';
import { LiveFilesPage, FilesService } from './files.service';

/**
 * Internal HTTP API over every kind of stored file: the census of live files (usage truth). The public
 * download's lookups are the batched calls `files.downloadUrl` and `files.streamSource` (BatchController).
 */
@Controller('internal/files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Get('live')
  live(@Query() q: LiveFilesQueryDto): Promise<LiveFilesPage> {
    return this.files.listLive(q);
  }
}
