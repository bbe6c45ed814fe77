import './tracing';
import { bootstrapService } from '@lib/app';
import { AppModule, SERVICE } from './app.module';
import { ObjectMetadataConfig } from './config/object-metadata.config';

void bootstrapService(AppModule, SERVICE, ObjectMetadataConfig);
