import { Injectable } from '@nestjs/common';
import { type LiveFile, type ObjectKeyKind, parseObjectKey } from '@lib/contracts';

/** Finds live files of one key kind; each module that owns a kind of stored file provides one. */
export interface FileLocator {
  readonly kind: ObjectKeyKind;
  findLive(objectKey: string): Promise<LiveFile | null>;
  /**
   * Every live file of this kind of one org, in pages ordered by `objectId` (keyset: ids greater than
   * `afterObjectId`). The truth that usage is checked against and rebuilt from.
   */
  listLive(page: { orgId: string; afterObjectId?: string; limit: number }): Promise<LiveFile[]>;
}

/**
 * Answers "which live file has this S3 key?" for every kind of stored file (the public download).
 * The key's structure names its kind (@lib/contracts object-keys), so one table is asked, never all.
 * Modules register their locator in `onModuleInit`.
 */
@Injectable()
export class FileLocatorRegistry {
  private readonly locators = new Map<ObjectKeyKind, FileLocator>();

  register(locator: FileLocator): void {
    if (this.locators.has(locator.kind)) {
      throw new Error(`A file locator for '${locator.kind}' is already registered`);
    }
    this.locators.set(locator.kind, locator);
  }

  /** The registered locators, one per kind. */
  all(): FileLocator[] {
    return [...this.locators.values()];
  }

  /** `null` when the key is malformed, of a kind nobody serves, or names no live file. */
  async findLive(objectKey: string): Promise<LiveFile | null> {
    const parsed = parseObjectKey(objectKey);
    if (!parsed) return null;
    return (await this.locators.get(parsed.kind)?.findLive(objectKey)) ?? null;
  }
}
