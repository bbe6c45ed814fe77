import { Injectable } from '@nestjs/common';
import {
  OBJECT_KEY_KINDS,
  parseObjectKey,
  type FileStreamSource,
  type LiveFilesPage,
  type ObjectKeyKind,
  type LiveFile,
} from '@lib/contracts';
import { ObjectBytesService } from '../bytes/object-bytes.service';
import type { DispositionType } from '@lib/contracts';
import { downloadHeaders } from './download-headers';
import { FileLocatorRegistry } from './file-locator';
import {
  FileNotFoundException,
  InvalidCursorException,
  InvalidObjectKeyException,
} from './files.exception';

/** How long a public download's redirect URL stays valid: it is followed at once. */
export const DOWNLOAD_URL_SECONDS = 300;

/** How long the URL the gateway streams a public download from stays valid: it is sent at once. */
export const STREAM_URL_SECONDS = 60;

/** A public download is nobody's to keep: as the gateway's stream answers, no cache stores it. */
const DOWNLOAD_CACHE_CONTROL = 'private, no-store';

const DEFAULT_PAGE = 1_000;

/**
 * Files of every kind, by key (the public download) and as a census (usage truth and rebuild),
 * through the FileLocatorRegistry: this service knows no kind of file itself.
 */
@Injectable()
export class FilesService {
  constructor(
    private readonly registry: FileLocatorRegistry,
    private readonly bytes: ObjectBytesService,
  ) {}

  async findLive(objectKey: string): Promise<LiveFile> {
    if (!parseObjectKey(objectKey)) throw new InvalidObjectKeyException();
    const file = await this.registry.findLive(objectKey);
    if (!file) throw new FileNotFoundException();
    return file;
  }

  /**
   * A presigned GET whose response carries the file's name, and the disposition asked for when its type is
   * safe to render (`downloadHeaders`): S3 answers with the type, disposition and cache policy signed in
   * the URL, whatever the uploader stored.
   */
  async downloadUrl(objectKey: string, type: DispositionType): Promise<{ url: string }> {
    const file = await this.findLive(objectKey);
    const headers = downloadHeaders(type, file.filename, file.contentType);
    return {
      url: this.bytes.downloadUrl(file.objectKey, DOWNLOAD_URL_SECONDS, {
        responseCacheControl: DOWNLOAD_CACHE_CONTROL,
        responseContentDisposition: headers.contentDisposition,
        responseContentType: headers.contentType,
      }),
    };
  }

  /** What the gateway needs to stream the file itself (`?stream=true`), headers as for the redirect. */
  async streamSource(objectKey: string, type: DispositionType): Promise<FileStreamSource> {
    const file = await this.findLive(objectKey);
    return {
      url: this.bytes.internalReadUrl(file.objectKey, STREAM_URL_SECONDS),
      ...downloadHeaders(type, file.filename, file.contentType),
      sizeBytes: file.sizeBytes,
    };
  }

  /**
   * One page of every live file of every kind of org `orgId` (kinds in a fixed order, each by objectId).
   * The cursor is `{kind}:{lastObjectId}`.
   */
  async listLive(q: { orgId: string; cursor?: string; limit?: number }): Promise<LiveFilesPage> {
    const limit = q.limit ?? DEFAULT_PAGE;
    const locators = new Map(this.registry.all().map((l) => [l.kind, l]));
    const kinds = OBJECT_KEY_KINDS.filter((k) => locators.has(k));
    let start = 0;
    let after: string | undefined;
    if (q.cursor) {
      const sep = q.cursor.indexOf(':');
      const kind = q.cursor.slice(0, sep) as ObjectKeyKind;
      start = kinds.indexOf(kind);
      after = q.cursor.slice(sep + 1);
      if (sep < 1 || start < 0 || after === '') throw new InvalidCursorException();
    }
    const files: LiveFile[] = [];
    for (let i = start; i < kinds.length && files.length < limit; i++) {
      const page = await locators.get(kinds[i])!.listLive({
        orgId: q.orgId,
        afterObjectId: i === start ? after : undefined,
        limit: limit - files.length,
      });
      files.push(...page);
    }
    const last = files[files.length - 1];
    return {
      files,
      nextCursor: files.length === limit && last ? `${last.kind}:${last.objectId}` : null,
    };
  }
}
