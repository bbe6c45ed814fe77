import { Module } from '@nestjs/common';
import { S3Client } from '@aws-sdk/client-s3';
import { configModule } from '@lib/app';
import { ServiceTokensModule } from '@lib/internal-http';
import { S3Settings } from '@lib/s3';
import { HealthModule, MetricsModule, s3Check } from '@lib/observability';
import { StorageEnv } from './config/storage.env';
import { BytesController } from './bytes/bytes.controller';
import { BytesService } from './bytes/bytes.service';
import { S3_SETTINGS, S3Module } from './s3/s3.module';
import { UploadsModule } from './uploads/uploads.module';

export const SERVICE = 'storage';

@Module({
  imports: [
    configModule(StorageEnv),
    ServiceTokensModule.forApp(SERVICE),
    S3Module,
    UploadsModule,
    MetricsModule.forRoot({ service: SERVICE }),
    HealthModule.forRootAsync({
      inject: [S3Client, S3_SETTINGS],
      useFactory: (client: S3Client, settings: S3Settings) => [s3Check(client, settings.bucket)],
    }),
  ],
  controllers: [BytesController],
  providers: [BytesService],
})
export class AppModule {}
