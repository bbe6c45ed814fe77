import { Module } from '@nestjs/common';
import { StreamingUploads } from './streaming-uploads.service';

/** Streaming uploads straight to S3 (see `StreamingUploads`). */
@Module({
  providers: [StreamingUploads],
  exports: [StreamingUploads],
})
export class UploadsModule {}
