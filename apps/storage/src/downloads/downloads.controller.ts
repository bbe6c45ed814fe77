import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ObjectKeyQueryDto } from '../bytes/bytes.dto';
import { DownloadsService } from './downloads.service';

/** Headers of S3's answer passed on to the caller. */
const PASSED = ['content-length', 'content-range', 'etag', 'last-modified'] as const;

/**
 * Streams an object's bytes (the gateway's `?stream=true` download), honouring one `Range`: 200 or 206
 * with S3's Content-Range, 416 for a range past the end. Never buffered.
 */
@Controller('internal/downloads')
export class DownloadsController {
  constructor(private readonly downloads: DownloadsService) {}

  @Get()
  async download(
    @Query() query: ObjectKeyQueryDto,
    @Headers('range') range: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const object = await this.downloads.open(query.key, range);
    reply.status(object.status).header('accept-ranges', 'bytes');
    for (const name of PASSED) {
      const value = object.headers[name];
      if (value !== undefined) reply.header(name, value);
    }
    if (object.status === 416) {
      await reply.type('application/json').send(
        JSON.stringify({
          error: {
            code: 'RANGE_NOT_SATISFIABLE',
            message: 'the range starts past the end of the file',
          },
        }),
      );
      return;
    }
    await reply.type('application/octet-stream').send(object.body);
  }
}
