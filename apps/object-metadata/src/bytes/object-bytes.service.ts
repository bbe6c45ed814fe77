import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ServiceClient } from '@lib/internal-http';
import { PresignGetOptions, Presigner } from '@lib/s3';
import { OBJECT_LIMITS } from '@lib/contracts';

// S3's DeleteObjects limit.
const DELETE_BATCH = 1000;

// A copy takes as long as S3 needs for the bytes: one PUT uploads up to 5 GB.
const COPY_TIMEOUT_MS = 10 * 60_000;

export interface StoredBytes {
  sizeBytes: number;
  etag: string | null;
}

/**
 * An object's bytes, seen from object-metadata. Presigned URLs are signed here (pure CPU, ~100k/s per core
 * with the cached SigV4 key), so create and download take no hop beyond this service; byte operations
 * (copy, DELETE) are the storage service's, over its keep-alive pool.
 */
@Injectable()
export class ObjectBytesService implements OnApplicationShutdown {
  /**
   * @param presigner signs the URLs clients use (S3's public endpoint).
   * @param internalPresigner signs the GETs services send themselves (S3's endpoint as they reach it).
   */
  constructor(
    private readonly presigner: Presigner,
    private readonly internalPresigner: Presigner,
    private readonly storage: ServiceClient,
  ) {}

  /** A PUT URL signed over `host` only: a plain PUT works, with or without a Content-Type. */
  uploadUrl(objectKey: string): string {
    return this.presigner.presignPut(objectKey, {
      expiresInSeconds: OBJECT_LIMITS.uploadUrlSeconds,
    });
  }

  /** A GET URL; `overrides` set the response's Content-Disposition and Content-Type (signed in the URL). */
  downloadUrl(
    objectKey: string,
    expiresInSeconds: number,
    overrides: Omit<PresignGetOptions, 'expiresInSeconds'> = {},
  ): string {
    return this.presigner.presignGet(objectKey, { ...overrides, expiresInSeconds });
  }

  /** A GET URL for a service inside the platform (the gateway streaming a public download), valid `seconds`. */
  internalReadUrl(objectKey: string, expiresInSeconds: number): string {
    return this.internalPresigner.presignGet(objectKey, { expiresInSeconds });
  }

  /** Copies the bytes under `from` to `to` inside S3 (no byte crosses a service); 404 when `from` is empty. */
  async copy(from: string, to: string): Promise<StoredBytes> {
    return this.storage.call<StoredBytes>('POST', '/internal/bytes/copy', {
      body: { from, to },
      timeoutMs: COPY_TIMEOUT_MS,
    });
  }

  /** Removes the bytes (idempotent); throws when storage or S3 fails, so the caller retries. */
  async delete(objectKey: string): Promise<void> {
    await this.storage.call('DELETE', '/internal/bytes', { query: { key: objectKey } });
  }

  /** `delete` for many objects: one S3 DeleteObjects per 1000 keys. */
  async deleteMany(objectKeys: string[]): Promise<void> {
    for (let from = 0; from < objectKeys.length; from += DELETE_BATCH) {
      await this.storage.call('POST', '/internal/bytes/delete', {
        body: { keys: objectKeys.slice(from, from + DELETE_BATCH) },
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close();
  }
}
