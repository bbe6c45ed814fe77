import { Module } from '@nestjs/common';
import { ObjectsModule } from '../objects/objects.module';
import { BatchController } from './batch.controller';

@Module({
  imports: [ObjectsModule],
  controllers: [BatchController],
})
export class BatchModule {}
