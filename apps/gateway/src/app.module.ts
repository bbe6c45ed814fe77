import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { configModule, objectStoreModule } from '@lib/app';
import { ServiceTokensModule } from '@lib/internal-http';
import { HealthModule, MetricsModule, postgresCheck, redisCheck } from '@lib/observability';
import { schemaCheck } from '@lib/database';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AdminModule } from './admin/admin.module';
import { FlowsController } from './flows/flows.controller';
import { TriggerController } from './flows/trigger.controller';
import { GatewayConfig } from './config/gateway.config';
import { DownloadsModule } from './downloads/downloads.module';
import { IDENTITY_SCHEMA, identityMigrations } from './database/migrations';
import { IDENTITY_CONNECTION } from './identity/identity-data-source';
import { IdentityModule } from './identity/identity.module';
import { ObjectsController } from './objects/objects.controller';
import { OrgFileUploads } from './org-storage/org-file-uploads.service';
import { OrgStorageController } from './org-storage/org-storage.controller';
import { GATEWAY_REDIS, RedisModule } from './redis/redis.module';
import { ResourcesController } from './resources/resources.controller';
import { ServiceClientsModule } from './services/service-clients.module';
import { FlowUploadsController } from './uploads/flow-uploads.controller';
import { RunInputUploads } from './uploads/run-input-uploads.service';
import { UploadsModule } from './uploads/uploads.module';
import { UsageController } from './usage/usage.controller';

export const SERVICE = 'gateway';

@Module({
  imports: [
    configModule(GatewayConfig),
    ServiceTokensModule.forApp(SERVICE),
    RedisModule,
    IdentityModule,
    AdminModule,
    ServiceClientsModule,
    DownloadsModule,
    UploadsModule,
    MetricsModule.forRoot({ service: SERVICE }),
    objectStoreModule(),
    HealthModule.forRootAsync({
      inject: [getDataSourceToken(IDENTITY_CONNECTION), GATEWAY_REDIS],
      useFactory: (identity: DataSource, redis: Redis) => [
        postgresCheck(identity),
        schemaCheck(identity, IDENTITY_SCHEMA, identityMigrations),
        redisCheck(redis),
      ],
    }),
  ],
  controllers: [
    ObjectsController,
    OrgStorageController,
    UsageController,
    FlowsController,
    TriggerController,
    ResourcesController,
    FlowUploadsController,
  ],
  providers: [OrgFileUploads, RunInputUploads],
})
export class AppModule {}
