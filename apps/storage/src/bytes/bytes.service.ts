import { Injectable } from '@nestjs/common';
import { DependencyUnavailableException } from '@lib/errors';
import { ObjectStore, s3StatusOf } from '@lib/s3';
import type { StoredBytes } from '@lib/contracts';
import {
  BytesChangedException,
  BytesNotFoundException,
  BytesTooLargeException,
} from './bytes.exception';

/** Byte operations on the platform's bucket that other services ask for (presigning is theirs: pure CPU). */
@Injectable()
export class BytesService {
  constructor(private readonly store: ObjectStore) {}

  /** Size and ETag of the bytes under `key`; 404 when nothing is stored there. */
  private async stat(key: string): Promise<StoredBytes> {
    let head;
    try {
      head = await this.store.head(key);
    } catch (err) {
      throw unavailable('HEAD', err);
    }
    if (!head) throw new BytesNotFoundException(key);
    return { sizeBytes: head.sizeBytes, etag: head.etag };
  }

  /**
   * Copies the bytes under `from` to `to` inside S3 and answers their size and the copy's ETag; 404 when
   * nothing is stored under `from`, 413 when they are more than `maxBytes` (nothing is copied). The copy is
   * of the bytes measured: S3 copies only while `from` has the ETag its HEAD answered, so a PUT in between
   * is a 409, never a copy larger than checked.
   */
  async copy(from: string, to: string, maxBytes?: number): Promise<StoredBytes> {
    const measured = await this.stat(from);
    if (maxBytes !== undefined && measured.sizeBytes > maxBytes) {
      throw new BytesTooLargeException(from, measured.sizeBytes, maxBytes);
    }
    try {
      const etag = await this.store.copy(from, to, { ifMatch: measured.etag ?? undefined });
      return { sizeBytes: measured.sizeBytes, etag: etag ?? measured.etag };
    } catch (err) {
      if (s3StatusOf(err) === 404) throw new BytesNotFoundException(from);
      if (s3StatusOf(err) === 412) throw new BytesChangedException(from);
      throw unavailable('CopyObject', err);
    }
  }

  /** Removes the bytes under `key`; removing what is not there succeeds (S3's DeleteObject is idempotent). */
  async delete(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch (err) {
      throw unavailable('DELETE', err);
    }
  }

  /**
   * Removes the bytes under every key in one DeleteObjects request (keys with nothing stored succeed);
   * throws when S3 fails or refuses any key, so the caller retries the whole (idempotent) batch.
   */
  async deleteMany(keys: string[]): Promise<void> {
    try {
      await this.store.deleteMany(keys);
    } catch (err) {
      throw unavailable('DeleteObjects', err);
    }
  }
}

function unavailable(operation: string, err: unknown): DependencyUnavailableException {
  // The caller retries (object-metadata's purge job); the cause goes to the log, not to the client.
  return new DependencyUnavailableException(`S3 ${operation} failed: ${(err as Error).name}`);
}
