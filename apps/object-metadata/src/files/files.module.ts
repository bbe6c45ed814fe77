import { Global, Module } from '@nestjs/common';
import { FileLocatorRegistry } from './file-locator';

/** The registry of file locators, one per kind of stored file (see FileLocatorRegistry). */
@Global()
@Module({ providers: [FileLocatorRegistry], exports: [FileLocatorRegistry] })
export class FilesModule {}
