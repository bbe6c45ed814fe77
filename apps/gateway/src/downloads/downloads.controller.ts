import { Controller, Get, Headers, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { type FileStreamSource, parseObjectKey } from '@lib/contracts';
import { ObjectMetadataClient } from '@lib/clients';
import { DomainException } from '@lib/errors';
import type { FastifyReply } from 'fastify';
import { getPresigned } from '../http/presigned-get';
import { singleByteRange } from './byte-range';
import { DownloadRateLimitGuard } from './download-rate-limit.guard';
import { DownloadQueryDto } from './dto/download-query.dto';

/**
 * `bytes=-n` (the last n bytes) as the absolute range it means: not every S3 implementation serves suffix
 * ranges, and the file's size is known here. Anything else is passed as it is.
 */
export function absoluteSuffix(range: string, sizeBytes: number): string {
  const m = /^\s*bytes=-(\d{1,15})\s*$/.exec(range);
  if (!m || Number(m[1]) === 0) return range;
  return `bytes=${Math.max(0, sizeBytes - Number(m[1]))}-`;
}

/**
 * Public download: the object key is the capability (no authentication), rate-limited per client
 * address. The redirect is one hop: object-metadata finds the live file of any kind by its key and signs
 * the GET itself. `stream=true` streams the bytes through here: the same lookup also signs a GET over S3's
 * internal endpoint, which this sends itself (one byte range at most), so the bytes take no other hop.
 * Either way the response's type and disposition are object-metadata's `downloadHeaders`: a stored page
 * (HTML, SVG, ...) is an attachment, never rendered in S3's origin or this one.
 */
@ApiTags('objects & storage')
@Controller('api/v1/objects')
export class DownloadsController {
  constructor(private readonly metadata: ObjectMetadataClient) {}

  @Get('download')
  @UseGuards(DownloadRateLimitGuard)
  @ApiOperation({ summary: 'Download a file by its object key (public)' })
  @ApiFoundResponse({ description: 'Redirect to a presigned GET (or 200/206 with `stream=true`)' })
  @ApiBadRequestResponse({ description: 'objectKey missing or malformed, or a bad type' })
  @ApiNotFoundResponse({ description: 'No live file under this key' })
  @ApiTooManyRequestsResponse({ description: 'Too many downloads from this address' })
  async download(
    @Query() query: DownloadQueryDto,
    @Headers('range') range: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!parseObjectKey(query.objectKey)) {
      throw new DomainException(400, 'INVALID_OBJECT_KEY', 'objectKey is not a valid object key');
    }
    const type = query.type ?? 'attachment';
    if (query.stream !== 'true') {
      const { url } = await this.metadata.publicFileDownloadUrl({
        objectKey: query.objectKey,
        type,
      });
      await reply.header('cache-control', 'no-store').redirect(url, 302);
      return;
    }
    const file = await this.metadata.publicFileStreamSource({ objectKey: query.objectKey, type });
    await this.stream(file, range, reply);
  }

  private async stream(file: FileStreamSource, range: string | undefined, reply: FastifyReply) {
    const upstream = await getPresigned(
      file.url,
      range && singleByteRange(absoluteSuffix(range, file.sizeBytes)),
    );
    if (!('body' in upstream)) {
      if (upstream.status === 404) {
        throw new DomainException(404, 'FILE_NOT_FOUND', 'no file is stored under this objectKey');
      }
      reply.header('content-range', `bytes */${file.sizeBytes}`);
      throw new DomainException(
        416,
        'RANGE_NOT_SATISFIABLE',
        'the range starts past the end of the file',
      );
    }
    reply
      .status(upstream.status)
      .header('content-type', file.contentType)
      .header('content-disposition', file.contentDisposition)
      .header('accept-ranges', 'bytes')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "sandbox; default-src 'none'")
      .header('cache-control', 'private, no-store');
    // Whatever S3 stored as the type and disposition stays out.
    for (const name of ['content-length', 'content-range', 'etag', 'last-modified'] as const) {
      const value = upstream.headers[name];
      if (value !== undefined) reply.header(name, value);
    }
    await reply.send(upstream.body);
  }
}
