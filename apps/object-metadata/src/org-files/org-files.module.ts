import { Module } from '@nestjs/common';
import { QuotasModule } from '../quotas/quotas.module';
import { OrgFileLocator } from './org-file-locator';
import { OrgFilePurger } from './org-file-purger.service';
import { OrgFilesController } from './org-files.controller';
import { OrgFilesRepository } from './org-files.repository';
import { OrgFilesService } from './org-files.service';
import { OrgFolderDeleteWorker } from './org-folder-delete.worker';
import { OrgFolderMoveWorker } from './org-folder-move.worker';

/** Org storage: folders, files, their events, and the `org_file` locator. */
@Module({
  imports: [QuotasModule],
  controllers: [OrgFilesController],
  providers: [
    OrgFilesRepository,
    OrgFilesService,
    OrgFilePurger,
    OrgFolderMoveWorker,
    OrgFolderDeleteWorker,
    OrgFileLocator,
  ],
  exports: [OrgFilesService, OrgFilesRepository, OrgFolderMoveWorker],
})
export class OrgFilesModule {}
