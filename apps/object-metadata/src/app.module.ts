import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { validateEnv } from '@lib/config';
import { dataSourceOptions } from '@lib/database';
import { EVENTS_PUBLISHER_ENTITIES, EventsModule } from '@lib/events';
import { createLogger, HealthModule, MetricsModule, postgresCheck } from '@lib/observability';
import { DataSource } from 'typeorm';
import { ObjectMetadataEnv } from './config/object-metadata.env';
import { OBJECT_METADATA_SCHEMA } from './database/migrations';
import { ObjectEntity } from './objects/object.entity';
import { ObjectsModule } from './objects/objects.module';

export const SERVICE = 'object-metadata';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      ignoreEnvFile: true,
      validate: validateEnv(ObjectMetadataEnv),
    }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<ObjectMetadataEnv, true>) =>
        dataSourceOptions({
          url: config.get('DATABASE_URL', { infer: true }),
          schema: OBJECT_METADATA_SCHEMA,
          entities: [ObjectEntity, ...EVENTS_PUBLISHER_ENTITIES],
          poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }),
          applicationName: SERVICE,
        }),
    }),
    EventsModule.forPublisherAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<ObjectMetadataEnv, true>) => ({
        source: `/${SERVICE}`,
        kafka: {
          brokers: config.get('KAFKA_BROKERS', { infer: true }).split(','),
          clientId: SERVICE,
          logger: createLogger({
            service: SERVICE,
            level: config.get('LOG_LEVEL', { infer: true }),
          }).child({
            component: 'kafka',
          }),
        },
      }),
    }),
    MetricsModule.forRoot({ service: SERVICE }),
    // Kafka is deliberately not a readiness dependency: the outbox keeps writes working through a
    // broker outage, and the relay's lag is visible in the metrics.
    HealthModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => [postgresCheck(dataSource)],
    }),
    ObjectsModule,
  ],
})
export class AppModule {}
