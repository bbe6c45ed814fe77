import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { S3Client } from '@aws-sdk/client-s3';
import { validateEnv } from '@lib/config';
import { S3Settings } from '@lib/s3';
import { HealthModule, MetricsModule, s3Check } from '@lib/observability';
import { StorageEnv } from './config/storage.env';
import { PresignController } from './presign/presign.controller';
import { S3_SETTINGS, S3Module } from './s3/s3.module';

export const SERVICE = 'storage';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      ignoreEnvFile: true,
      validate: validateEnv(StorageEnv),
    }),
    S3Module,
    MetricsModule.forRoot({ service: SERVICE }),
    HealthModule.forRootAsync({
      inject: [S3Client, S3_SETTINGS],
      useFactory: (client: S3Client, settings: S3Settings) => [s3Check(client, settings.bucket)],
    }),
  ],
  controllers: [PresignController],
})
export class AppModule {}
