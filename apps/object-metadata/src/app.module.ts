import { Module } from '@nestjs/common';
import { configModule, databaseModule, eventsPublisherModule } from '@lib/app';
import { EVENTS_PUBLISHER_ENTITIES } from '@lib/events';
import { ServiceTokensModule } from '@lib/internal-http';
import { HealthModule, MetricsModule, postgresCheck, redisCheck } from '@lib/observability';
import { schemaCheck } from '@lib/database';
import { DataSource } from 'typeorm';
import { BatchModule } from './batch/batch.module';
import { BytesModule } from './bytes/bytes.module';
import { ObjectMetadataConfig } from './config/object-metadata.config';
import { FilesModule } from './files/files.module';
import { OBJECT_METADATA_SCHEMA, objectMetadataMigrations } from './database/migrations';
import { ObjectEntity } from './objects/object.entity';
import { ObjectsModule } from './objects/objects.module';
import { OrgFilesModule } from './org-files/org-files.module';
import { RunFilesModule } from './run-files/run-files.module';
import { TtlQueueModule } from './ttl/ttl-queue.module';
import { TtlScheduler } from './ttl/ttl-scheduler.service';
import { TtlModule } from './ttl/ttl.module';

export const SERVICE = 'object-metadata';

@Module({
  imports: [
    configModule(ObjectMetadataConfig),
    ServiceTokensModule.forApp(SERVICE),
    databaseModule({
      service: SERVICE,
      schema: OBJECT_METADATA_SCHEMA,
      entities: [ObjectEntity, ...EVENTS_PUBLISHER_ENTITIES],
    }),
    eventsPublisherModule(SERVICE),
    MetricsModule.forRoot({ service: SERVICE }),
    // Kafka is deliberately not a readiness dependency: the outbox keeps writes working through a
    // broker outage, and the relay's lag is visible in the metrics. Redis is: TTL expiries run on it.
    HealthModule.forRootAsync({
      imports: [TtlQueueModule],
      inject: [DataSource, TtlScheduler],
      useFactory: (dataSource: DataSource, ttl: TtlScheduler) => [
        postgresCheck(dataSource),
        schemaCheck(dataSource, OBJECT_METADATA_SCHEMA, objectMetadataMigrations),
        redisCheck({ ping: () => ttl.ping() }),
      ],
    }),
    BatchModule,
    BytesModule,
    FilesModule,
    ObjectsModule,
    OrgFilesModule,
    RunFilesModule,
    TtlModule,
  ],
})
export class AppModule {}
