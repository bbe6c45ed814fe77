import { Inject, Injectable } from '@nestjs/common';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { DependencyUnavailableException } from '@lib/errors';
import { S3Settings } from '@lib/s3';
import { S3_SETTINGS } from '../s3/s3.module';
import { ObjectStatDto } from './bytes.dto';
import {
  BytesChangedException,
  BytesNotFoundException,
  BytesTooLargeException,
} from './bytes.exception';

/** Byte operations on the platform's bucket that other services ask for (presigning is theirs: pure CPU). */
@Injectable()
export class BytesService {
  constructor(
    private readonly s3: S3Client,
    @Inject(S3_SETTINGS) private readonly settings: S3Settings,
  ) {}

  /** Size and ETag of the bytes under `key`; 404 when nothing is stored there. */
  private async stat(key: string): Promise<ObjectStatDto> {
    try {
      const head = await this.s3.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }),
      );
      return { sizeBytes: head.ContentLength ?? 0, etag: head.ETag ?? null };
    } catch (err) {
      if (isNotFound(err)) throw new BytesNotFoundException(key);
      throw unavailable('HEAD', err);
    }
  }

  /**
   * Copies the bytes under `from` to `to` inside S3 and answers their size and the copy's ETag; 404 when
   * nothing is stored under `from`, 413 when they are more than `maxBytes` (nothing is copied). The copy is
   * of the bytes measured: S3 copies only while `from` has the ETag its HEAD answered, so a PUT in between
   * is a 409, never a copy larger than checked.
   */
  async copy(from: string, to: string, maxBytes?: number): Promise<ObjectStatDto> {
    const measured = await this.stat(from);
    if (maxBytes !== undefined && measured.sizeBytes > maxBytes) {
      throw new BytesTooLargeException(from, measured.sizeBytes, maxBytes);
    }
    const source = `${this.settings.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    try {
      const out = await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.settings.bucket,
          Key: to,
          CopySource: source,
          CopySourceIfMatch: measured.etag ?? undefined,
        }),
      );
      return {
        sizeBytes: measured.sizeBytes,
        etag: out.CopyObjectResult?.ETag ?? measured.etag,
      };
    } catch (err) {
      if (isNotFound(err)) throw new BytesNotFoundException(from);
      if (isPreconditionFailed(err)) throw new BytesChangedException(from);
      throw unavailable('CopyObject', err);
    }
  }

  /** Removes the bytes under `key`; removing what is not there succeeds (S3's DeleteObject is idempotent). */
  async delete(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw unavailable('DELETE', err);
    }
  }

  /**
   * Removes the bytes under every key in one DeleteObjects request (keys with nothing stored succeed);
   * throws when S3 fails or refuses any key, so the caller retries the whole (idempotent) batch.
   */
  async deleteMany(keys: string[]): Promise<void> {
    let result;
    try {
      result = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.settings.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    } catch (err) {
      throw unavailable('DeleteObjects', err);
    }
    const failed = (result.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      throw new DependencyUnavailableException(
        `S3 DeleteObjects failed for ${failed.length} key(s): ${failed[0].Code ?? 'unknown'}`,
      );
    }
  }
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey')
  );
}

function isPreconditionFailed(err: unknown): boolean {
  return err instanceof S3ServiceException && err.$metadata.httpStatusCode === 412;
}

function unavailable(operation: string, err: unknown): DependencyUnavailableException {
  // The caller retries (object-metadata's purge job); the cause goes to the log, not to the client.
  return new DependencyUnavailableException(`S3 ${operation} failed: ${(err as Error).name}`);
}
