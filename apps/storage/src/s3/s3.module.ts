import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { S3Client } from '@aws-sdk/client-s3';
import { s3Settings } from '@lib/app';
import { createS3Client, s3CredentialProvider, S3Settings, SigningCredentials } from '@lib/s3';
import { StorageEnv } from '../config/storage.env';

export const S3_SETTINGS = Symbol('S3_SETTINGS');

/** The bucket's client and the credentials presigned requests are signed with, built once from the environment. */
@Global()
@Module({
  providers: [
    {
      provide: S3_SETTINGS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<StorageEnv, true>): S3Settings => s3Settings(config),
    },
    {
      provide: S3Client,
      inject: [S3_SETTINGS],
      useFactory: (settings: S3Settings) => createS3Client(settings),
    },
    {
      provide: SigningCredentials,
      inject: [S3_SETTINGS],
      useFactory: (settings: S3Settings) => SigningCredentials.load(s3CredentialProvider(settings)),
    },
  ],
  exports: [S3_SETTINGS, S3Client, SigningCredentials],
})
export class S3Module {}
