import './tracing';
import { bootstrapService } from '@lib/app';
import { AppModule, SERVICE } from './app.module';
import { allowRawStreamBodies } from './uploads/uploads.module';

void bootstrapService(AppModule, { service: SERVICE, configure: allowRawStreamBodies });
