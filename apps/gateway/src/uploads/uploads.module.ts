import { Module } from '@nestjs/common';
import { StreamingUploads } from './streaming-uploads.service';

/** Streaming uploads to S3 through the storage service (see `StreamingUploads`). */
@Module({
  providers: [StreamingUploads],
  exports: [StreamingUploads],
})
export class UploadsModule {}
