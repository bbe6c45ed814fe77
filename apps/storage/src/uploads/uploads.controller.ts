import { Controller, HttpCode, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ServicePrincipal } from '@lib/contracts';
import { CalledBy, OnBehalfOf } from '@lib/internal-http';
import { assertKeysOfOrg } from '../bytes/org-keys';
import { StreamingWriter } from './streaming-writer.service';
import { StreamUploadQueryDto, StreamUploadResultDto } from './uploads.dto';
import { UploadTooLargeException } from './uploads.exception';

/** The content type of a streamed body: raw bytes, read as they arrive (see `allowRawStreamBodies`). */
export const STREAM_CONTENT_TYPE = 'application/octet-stream';

/**
 * Streaming uploads (`PUT /internal/uploads?key=&maxBytes=&contentType=`), called by the gateway: the
 * request body is the file's bytes, piped to S3 as they arrive, under a key of the call principal's org.
 * Answers what was stored, or 413 past `maxBytes` with nothing stored.
 */
@Controller('internal/uploads')
@CalledBy('gateway')
export class UploadsController {
  constructor(private readonly writer: StreamingWriter) {}

  @Put()
  @HttpCode(200)
  async upload(
    @OnBehalfOf() principal: ServicePrincipal,
    @Query() query: StreamUploadQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<StreamUploadResultDto> {
    assertKeysOfOrg(principal, [query.key]);
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > query.maxBytes) {
      throw new UploadTooLargeException(query.maxBytes);
    }
    return this.writer.write(request.raw, {
      key: query.key,
      maxBytes: query.maxBytes,
      contentType: query.contentType,
    });
  }
}
