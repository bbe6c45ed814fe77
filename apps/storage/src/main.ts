import './tracing';
import { bootstrapService } from '@lib/app';
import { AppModule, SERVICE } from './app.module';
import { StorageConfig } from './config/storage.config';

void bootstrapService(AppModule, SERVICE, StorageConfig);
