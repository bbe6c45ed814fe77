import { Injectable } from '@nestjs/common';
import { type ObjectKeyKind, parseObjectKey } from '@lib/contracts';

/** A stored file that can be downloaded now: not deleted, not expired, bytes uploaded. */
export interface LiveFile {
  kind: ObjectKeyKind;
  orgId: string;
  objectKey: string;
  /** The name a download offers (`Content-Disposition`). */
  filename: string;
  contentType: string | null;
  sizeBytes: number;
  etag: string | null;
}

/** Finds live files of one key kind; each module that owns a kind of stored file provides one. */
export interface FileLocator {
  readonly kind: ObjectKeyKind;
  findLive(objectKey: string): Promise<LiveFile | null>;
}

/**
 * Answers "which live file has this S3 key?" for every kind of stored file (seed 000's public download).
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

  /** `null` when the key is malformed, of a kind nobody serves, or names no live file. */
  async findLive(objectKey: string): Promise<LiveFile | null> {
    const parsed = parseObjectKey(objectKey);
    if (!parsed) return null;
    return (await this.locators.get(parsed.kind)?.findLive(objectKey)) ?? null;
  }
}
