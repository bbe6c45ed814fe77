import type { Readable } from 'node:stream';
import { ObjectStore, Presigner, s3StatusOf, type StoredObject } from '@lib/s3';

export type { StoredObject } from '@lib/s3';

/** Whether an S3 call failed because nothing is stored under its key (a copy's source, a GET's key). */
export function isNoSuchKey(err: unknown): boolean {
  return s3StatusOf(err) === 404;
}

/**
 * A run's bytes in S3, seen from the flow-orchestrator: presigned PUT URLs for waiting edges, HEAD to notice
 * uploads, and the streams steps read and write (the platform's `ObjectStore`). Steps stream
 * S3 → worker → S3 (never through a JSON message); a stream of unknown length is written as a multipart
 * upload in 5 MiB parts.
 */
export class RunBytes {
  /** @param presigner signs the URLs handed to clients (S3's public endpoint) */
  constructor(
    private readonly store: ObjectStore,
    private readonly presigner: Presigner,
  ) {}

  /** A PUT URL signed over `host` only: a plain PUT works, with or without a Content-Type. */
  putUrl(key: string, expiresInSeconds: number): string {
    return this.presigner.presignPut(key, { expiresInSeconds });
  }

  getUrl(key: string, expiresInSeconds: number, filename?: string): string {
    return this.presigner.presignGet(key, {
      expiresInSeconds,
      responseContentDisposition: filename
        ? `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`
        : undefined,
    });
  }

  /**
   * The object's size, ETag and type, or null when there is none; other answers throw (after S3's retries).
   * The upload watcher calls it for every check of every waiting edge.
   */
  head(key: string): Promise<StoredObject | null> {
    return this.store.head(key);
  }

  read(key: string): Promise<Readable> {
    return this.store.read(key);
  }

  /** A server-side copy (no bytes through the worker); copying again gives the same object. */
  async copy(fromKey: string, toKey: string): Promise<StoredObject> {
    await this.store.copy(fromKey, toKey);
    const stored = await this.head(toKey);
    if (!stored) throw new Error(`the copy of ${fromKey} is not in S3`);
    return stored;
  }

  /** Removes the bytes under `key` (nothing there: nothing to do). */
  delete(key: string): Promise<void> {
    return this.store.delete(key);
  }

  /** Writes a body of known bytes. Overwriting the same key with the same bytes is harmless (retries). */
  put(key: string, body: Buffer, contentType: string): Promise<StoredObject> {
    return this.store.put(key, body, contentType);
  }

  /** Writes a stream of unknown length: one PUT below 5 MiB, else a multipart upload. */
  write(
    key: string,
    body: AsyncIterable<Buffer | Uint8Array>,
    contentType: string,
  ): Promise<StoredObject> {
    return this.store.write(body, { key, contentType });
  }
}
