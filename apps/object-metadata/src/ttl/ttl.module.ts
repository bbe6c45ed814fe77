import { Module } from '@nestjs/common';
import { ObjectsModule } from '../objects/objects.module';
import { TtlExpiryProcessor } from './ttl-expiry.processor';
import { TtlQueueModule } from './ttl-queue.module';
import { TtlReconciler } from './ttl-reconciler.service';
import { TtlSweeper } from './ttl-sweeper.service';

/** The TTL sweeper, the `ttl-expiry` (purge) worker and its reconciler; every replica runs all three. */
@Module({
  imports: [TtlQueueModule, ObjectsModule],
  providers: [TtlExpiryProcessor, TtlReconciler, TtlSweeper],
})
export class TtlModule {}
