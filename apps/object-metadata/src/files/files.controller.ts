import { Controller, Get, Query } from '@nestjs/common';
import { FileDownloadQueryDto, LiveFilesQueryDto } from './dto/files-queries.dto';
import { LiveFilesPage, FilesService, StreamableFile } from './files.service';

/** Internal HTTP API over every kind of stored file (the gateway's public download; usage truth). */
@Controller('internal/files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  /**
   * What the gateway needs to stream a file's bytes (`stream=true`); 404 when none. The redirect's presigned
   * URL is the batched call `files.downloadUrl` (BatchController).
   */
  @Get('download')
  download(@Query() q: FileDownloadQueryDto): Promise<StreamableFile> {
    return this.files.streamable(q.objectKey, q.type ?? 'attachment');
  }

  @Get('live')
  live(@Query() q: LiveFilesQueryDto): Promise<LiveFilesPage> {
    return this.files.listLive(q);
  }
}
