import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ServiceClient } from '@lib/internal-http';
import { Presigner } from '@lib/s3';
import { ObjectMetadataEnv } from '../config/object-metadata.env';
import { ObjectBytesService } from './object-bytes.service';

/** Presigning with the bucket's credentials (no S3 client: nothing here calls S3) and the storage client. */
@Global()
@Module({
  providers: [
    {
      provide: ObjectBytesService,
      inject: [ConfigService],
      useFactory: (config: ConfigService<ObjectMetadataEnv, true>) =>
        new ObjectBytesService(
          new Presigner({
            endpoint: config.get('S3_ENDPOINT'),
            publicEndpoint: config.get('S3_PUBLIC_ENDPOINT'),
            region: config.get('S3_REGION'),
            bucket: config.get('S3_BUCKET'),
            accessKeyId: config.get('S3_ACCESS_KEY_ID'),
            secretAccessKey: config.get('S3_SECRET_ACCESS_KEY'),
            forcePathStyle: config.get('S3_FORCE_PATH_STYLE'),
          }),
          new ServiceClient({ name: 'storage', baseUrl: config.get('STORAGE_URL') }),
        ),
    },
  ],
  exports: [ObjectBytesService],
})
export class BytesModule {}
