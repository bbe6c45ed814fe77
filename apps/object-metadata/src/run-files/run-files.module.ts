import { Module } from '@nestjs/common';
import { QuotasModule } from '../quotas/quotas.module';
import { RunFilesController } from './run-files.controller';
import { RunFilesRepository } from './run-files.repository';
import { RunFilesService } from './run-files.service';

/** Run inputs and artifacts: records, `storage_file.updated`, and the `run_file` FileLocator. */
@Module({
  imports: [QuotasModule],
  controllers: [RunFilesController],
  providers: [RunFilesService, RunFilesRepository],
})
export class RunFilesModule {}
