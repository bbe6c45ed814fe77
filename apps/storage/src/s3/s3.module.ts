import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, S3Settings } from '@lib/s3';
import { StorageEnv } from '../config/storage.env';

export const S3_SETTINGS = Symbol('S3_SETTINGS');

/** The bucket's client, built once from the validated environment. */
@Global()
@Module({
  providers: [
    {
      provide: S3_SETTINGS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<StorageEnv, true>): S3Settings => ({
        endpoint: config.get('S3_ENDPOINT'),
        publicEndpoint: config.get('S3_PUBLIC_ENDPOINT'),
        region: config.get('S3_REGION'),
        bucket: config.get('S3_BUCKET'),
        accessKeyId: config.get('S3_ACCESS_KEY_ID'),
        secretAccessKey: config.get('S3_SECRET_ACCESS_KEY'),
        forcePathStyle: config.get('S3_FORCE_PATH_STYLE'),
      }),
    },
    {
      provide: S3Client,
      inject: [S3_SETTINGS],
      useFactory: (settings: S3Settings) => createS3Client(settings),
    },
  ],
  exports: [S3_SETTINGS, S3Client],
})
export class S3Module {}
