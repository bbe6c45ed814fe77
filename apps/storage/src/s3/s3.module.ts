import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { S3Client } from '@aws-sdk/client-s3';
import { s3Settings } from '@lib/app';
import { Metrics } from '@lib/observability';
import {
  createS3Client,
  s3CredentialProvider,
  S3Settings,
  SigningCredentials,
  type S3ClientOptions,
} from '@lib/s3';
import { StorageEnv } from '../config/storage.env';

export const S3_SETTINGS = Symbol('S3_SETTINGS');

/** Counts each S3 operation on `/metrics` by command and status (`S3ClientOptions.onOperation`). */
export function countS3Operations(metrics: Metrics): S3ClientOptions['onOperation'] {
  const requests = metrics.counter({
    name: 's3_operations_total',
    help: 'S3 operations by SDK command and HTTP status (none: no answer, e.g. a network error).',
    labelNames: ['operation', 'status'],
  });
  return (operation, status) => requests.inc({ operation, status });
}

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
      inject: [S3_SETTINGS, Metrics],
      useFactory: (settings: S3Settings, metrics: Metrics) =>
        createS3Client(settings, { onOperation: countS3Operations(metrics) }),
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
