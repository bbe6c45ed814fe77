import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { STREAM_CONTENT_TYPE, UploadsController } from './uploads.controller';
import { StreamingWriter } from './streaming-writer.service';

/** Streaming uploads to S3 (the bytes of org storage uploads and of run uploads). */
@Module({
  controllers: [UploadsController],
  providers: [StreamingWriter],
  exports: [StreamingWriter],
})
export class UploadsModule {}

/**
 * Leaves `application/octet-stream` bodies unread so a handler can stream `request.raw` (Fastify would
 * otherwise buffer them whole, up to its body limit).
 */
export function allowRawStreamBodies(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addContentTypeParser(STREAM_CONTENT_TYPE, (_request, _payload, done) => done(null, undefined));
}
