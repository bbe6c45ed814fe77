import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module';
import { BatchController } from './batch.controller';

@Module({
  imports: [RunsModule],
  controllers: [BatchController],
})
export class BatchModule {}
