import { BullModule } from '@nestjs/bullmq';
import { Module, OnApplicationShutdown } from '@nestjs/common';
import { queueMetricsProvider } from '@lib/queue';
import { S3_SETTINGS } from '@lib/app';
import { QueueName } from '@lib/contracts';
import { ObjectMetadataClient } from '@lib/clients';
import { ServiceTokens } from '@lib/internal-http';
import { ObjectStore, Presigner, S3Settings, SigningCredentials } from '@lib/s3';
import { RunBytes } from '../bytes/run-bytes';
import { FlowOrchestratorConfig } from '../config/flow-orchestrator.config';
import { ResourcesController } from '../resources/resources.controller';
import { ResourcesService } from '../resources/resources.service';
import { StepRegistry } from '../steps/step-registry';
import { S3WebhookController } from '../uploads/s3-webhook.controller';
import { UploadWatchProcessor } from '../uploads/upload-watch.processor';
import { RunDeadlines } from './run-deadlines';
import { RunExecutor } from './run-executor.service';
import { RunExpiryService } from './run-expiry.service';
import { RunQueue } from './run-queue.service';
import { RunStateMachine } from './run-state-machine.service';
import { RunTriggersService } from './run-triggers.service';
import { RunUploadEdgesService } from './run-upload-edges.service';
import { RunViews } from './run-views';
import { RunsController } from './runs.controller';
import { RunsProcessor } from './runs.processor';
import { RunsReconciler } from './runs-reconciler.service';
import { RunsRepository } from './runs.repository';
import { WorkflowDefinitionsService } from './workflow-definitions.service';

class ObjectMetadataClientShutdown implements OnApplicationShutdown {
  constructor(private readonly client: ObjectMetadataClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/** Workflows, runs, their queues and workers, steps, upload notices and resource URLs. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Runs }, { name: QueueName.UploadWatch })],
  controllers: [RunsController, ResourcesController, S3WebhookController],
  providers: [
    queueMetricsProvider(QueueName.Runs, QueueName.UploadWatch),
    {
      provide: RunBytes,
      inject: [ObjectStore, S3_SETTINGS, SigningCredentials],
      useFactory: (store: ObjectStore, settings: S3Settings, credentials: SigningCredentials) =>
        new RunBytes(store, new Presigner(settings, credentials)),
    },
    {
      provide: ObjectMetadataClient,
      inject: [FlowOrchestratorConfig, ServiceTokens],
      useFactory: ({ services }: FlowOrchestratorConfig, tokens: ServiceTokens) =>
        ObjectMetadataClient.connect({ baseUrl: services.objectMetadataUrl, tokens }),
    },
    {
      provide: ObjectMetadataClientShutdown,
      inject: [ObjectMetadataClient],
      useFactory: (client: ObjectMetadataClient) => new ObjectMetadataClientShutdown(client),
    },
    {
      provide: StepRegistry,
      inject: [FlowOrchestratorConfig],
      useFactory: ({ steps }: FlowOrchestratorConfig) =>
        StepRegistry.builtIn({ allowPrivateNetworks: steps.httpAllowPrivateNetworks }),
    },
    {
      provide: RunDeadlines,
      inject: [FlowOrchestratorConfig],
      useFactory: ({ runs }: FlowOrchestratorConfig) =>
        new RunDeadlines(runs.stepDeadlineMs, runs.runDeadlineMs),
    },
    RunsRepository,
    RunQueue,
    WorkflowDefinitionsService,
    RunStateMachine,
    RunTriggersService,
    RunUploadEdgesService,
    RunExpiryService,
    RunViews,
    RunExecutor,
    RunsProcessor,
    UploadWatchProcessor,
    RunsReconciler,
    ResourcesService,
  ],
  exports: [RunTriggersService],
})
export class RunsModule {}
