import { Controller, Get, Query } from '@nestjs/common';
import { FileDownloadQueryDto, LiveFilesQueryDto } from './dto/files-queries.dto';
import { LiveFilesPage, FilesService, StreamableFile } from './files.service';

/** Internal HTTP API over every kind of stored file (the gateway's public download; usage truth). */
@Controller('internal/files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  /** `{url}` (302 target), or with `stream=true` what the gateway needs to stream the bytes. 404 when none. */
  @Get('download')
  download(@Query() q: FileDownloadQueryDto): Promise<{ url: string } | StreamableFile> {
    const type = q.type ?? 'attachment';
    return q.stream
      ? this.files.streamable(q.objectKey, type)
      : this.files.downloadUrl(q.objectKey, type);
  }

  @Get('live')
  live(@Query() q: LiveFilesQueryDto): Promise<LiveFilesPage> {
    return this.files.listLive(q);
  }
}
