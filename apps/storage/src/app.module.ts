import { Module } from '@nestjs/common';
import { configModule, objectStoreModule } from '@lib/app';
import { ServiceTokensModule } from '@lib/internal-http';
import { ObjectStore } from '@lib/s3';
import { HealthModule, MetricsModule, s3Check } from '@lib/observability';
import { StorageConfig } from './config/storage.config';
import { BytesController } from './bytes/bytes.controller';
import { BytesService } from './bytes/bytes.service';

export const SERVICE = 'storage';

@Module({
  imports: [
    configModule(StorageConfig),
    ServiceTokensModule.forApp(SERVICE),
    MetricsModule.forRoot({ service: SERVICE }),
    objectStoreModule(),
    HealthModule.forRootAsync({
      inject: [ObjectStore],
      useFactory: (store: ObjectStore) => [s3Check(store)],
    }),
  ],
  controllers: [BytesController],
  providers: [BytesService],
})
export class AppModule {}
