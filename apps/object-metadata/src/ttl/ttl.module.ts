import { Module } from '@nestjs/common';
import { ObjectsModule } from '../objects/objects.module';
import { TtlExpiryProcessor } from './ttl-expiry.processor';
import { TtlQueueModule } from './ttl-queue.module';
import { TtlReconciler } from './ttl-reconciler.service';

/** The `ttl-expiry` worker and its reconciler; every replica runs both. */
@Module({
  imports: [TtlQueueModule, ObjectsModule],
  providers: [TtlExpiryProcessor, TtlReconciler],
})
export class TtlModule {}
