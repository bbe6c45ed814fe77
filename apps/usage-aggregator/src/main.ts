import './tracing';
import { bootstrapService } from '@lib/app';
import { EventTransport } from '@lib/events';
import { AppModule, SERVICE } from './app.module';

void bootstrapService(AppModule, { service: SERVICE, eventTransport: EventTransport });
