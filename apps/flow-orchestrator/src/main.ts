import './tracing';
import { bootstrapService } from '@lib/app';
import { AppModule, SERVICE } from './app.module';
import { FlowOrchestratorConfig } from './config/flow-orchestrator.config';

void bootstrapService(AppModule, SERVICE, FlowOrchestratorConfig);
