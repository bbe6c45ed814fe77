import { Global, Module } from '@nestjs/common';
import { FileLocatorRegistry } from './file-locator';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';

/** The registry of file locators, one per kind of stored file (see FileLocatorRegistry), and its API. */
@Global()
@Module({
  controllers: [FilesController],
  providers: [FileLocatorRegistry, FilesService],
  exports: [FileLocatorRegistry, FilesService],
})
export class FilesModule {}
