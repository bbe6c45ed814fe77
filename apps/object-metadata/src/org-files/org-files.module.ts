import { Module } from '@nestjs/common';
import { QuotasModule } from '../quotas/quotas.module';
import { OrgFileLocator } from './org-file-locator';
import { OrgFileReadsService } from './org-file-reads.service';
import { OrgFilePurger } from './org-file-purger.service';
import { OrgFilesController } from './org-files.controller';
import { OrgFilesRepository } from './org-files.repository';
import { OrgFolderDeleteWorker } from './org-folder-delete.worker';
import { OrgFolderMoveWorker } from './org-folder-move.worker';
import { OrgTree } from './org-tree';
import { OrgTreeMutationsService } from './org-tree-mutations.service';
import { OrgUploadCommitsService } from './org-upload-commits.service';

/** Org storage: folders, files, their events, and the `org_file` locator. */
@Module({
  imports: [QuotasModule],
  controllers: [OrgFilesController],
  providers: [
    OrgFilesRepository,
    OrgTree,
    OrgFileReadsService,
    OrgUploadCommitsService,
    OrgTreeMutationsService,
    OrgFilePurger,
    OrgFolderMoveWorker,
    OrgFolderDeleteWorker,
    OrgFileLocator,
  ],
})
export class OrgFilesModule {}
