import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { StorageClient } from '@lib/clients';
import { PresignGetOptions, Presigner } from '@lib/s3';
import {
  OBJECT_LIMITS,
  parseObjectKey,
  recordPrincipal,
  type ServicePrincipal,
  type StoredBytes,
} from '@lib/contracts';

// S3's DeleteObjects limit.
const DELETE_BATCH = 1000;

/** Stored bytes: their key, and the org whose record names them. */
export interface StoredFileRef {
  orgId: string;
  objectKey: string;
}

/**
 * The principal of object-metadata's calls to storage: the org of the files (its id from their records,
 * its key the first segment of theirs: storage refuses a key of any other org), object-metadata the actor.
 */
function actingFor({ orgId, objectKey }: StoredFileRef): ServicePrincipal {
  const orgKey = parseObjectKey(objectKey)?.orgKey;
  if (!orgKey) throw new Error(`${objectKey} is no object key of the platform`);
  return recordPrincipal({ orgId, orgKey }, { type: 'system', id: 'object-metadata' });
}

/**
 * An object's bytes, seen from object-metadata. Presigned URLs are signed here (pure CPU, ~100k/s per core
 * with the cached SigV4 key), so create and download take no hop beyond this service; byte operations
 * (copy, DELETE) are the storage service's (`StorageClient`), each for the org of its files.
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
    private readonly storage: StorageClient,
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

  /**
   * Copies the bytes under `from` to `to`, both of org `orgId`, inside S3 (no byte crosses a service); 404
   * when `from` is empty, 413 (`BYTES_TOO_LARGE`, nothing copied) when they are more than `maxBytes`.
   */
  async copy(orgId: string, from: string, to: string, maxBytes?: number): Promise<StoredBytes> {
    return this.storage.copyBytes(actingFor({ orgId, objectKey: from }), { from, to, maxBytes });
  }

  /** Removes the bytes (idempotent); throws when storage or S3 fails, so the caller retries. */
  async delete(file: StoredFileRef): Promise<void> {
    await this.storage.deleteBytes(actingFor(file), { key: file.objectKey });
  }

  /** `delete` for many files: a request per org, one S3 DeleteObjects per 1000 of its keys. */
  async deleteMany(files: readonly StoredFileRef[]): Promise<void> {
    const byOrg = new Map<string, string[]>();
    for (const { orgId, objectKey } of files) {
      const keys = byOrg.get(orgId);
      if (keys) keys.push(objectKey);
      else byOrg.set(orgId, [objectKey]);
    }
    for (const [orgId, keys] of byOrg) {
      for (let from = 0; from < keys.length; from += DELETE_BATCH) {
        await this.storage.deleteKeys(actingFor({ orgId, objectKey: keys[from] }), {
          keys: keys.slice(from, from + DELETE_BATCH),
        });
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close();
  }
}
