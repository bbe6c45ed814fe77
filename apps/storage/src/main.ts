import './tracing';
import { bootstrapService } from '@lib/app';
import { AppModule, SERVICE } from './app.module';

void bootstrapService(AppModule, { service: SERVICE });
