import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { createS3Client, type S3ClientOptions } from './client';
import type { SigningCredentials } from './credentials';
import { Presigner } from './presigner';
import { S3RequestError, withS3Retries } from './retries';
import type { S3Settings } from './settings';
import { WriteBuffers } from './write-buffers';

/** S3's smallest part (all but the last): the most one streamed write holds in memory at a time. */
export const PART_SIZE_BYTES = 5 * 1024 * 1024;

/** What S3 holds under a key. */
export interface StoredObject {
  key: string;
  sizeBytes: number;
  etag: string | null;
  /** As S3 answers it on a HEAD; null where the operation does not tell it. */
  contentType: string | null;
}

export interface WriteTarget {
  key: string;
  /** Stored `Content-Type`; `application/octet-stream` when absent. */
  contentType?: string;
  /** One byte more and the write fails with `ObjectTooLargeError`, leaving nothing under `key`. */
  maxBytes?: number;
  /**
   * The most bytes the stream can hold when that is known (a request's `Content-Length`): a stream that
   * fits one PUT then reserves its size past its first 256 KiB and goes up in one PUT.
   */
  sizeAtMost?: number;
}

/** A streamed write passed its `maxBytes`: nothing was stored. */
export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the object is larger than ${maxBytes} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

/** The HTTP status S3 answered an operation that failed (SDK or presigned), or undefined when none came. */
export function s3StatusOf(err: unknown): number | undefined {
  if (err instanceof S3RequestError) return err.status;
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Bytes of a stream a write gathers before it reserves any of the `WriteBuffers`. */
export const SMALL_WRITE_BYTES = 256 * 1024;
/**
 * A stream that ends within this many bytes is one PUT when its size was known (`sizeAtMost`) or the
 * buffers it needed were free as it grew: a multipart upload costs three more requests, and S3 servers that
 * keep parts as files (S3Proxy's file stores, MinIO) write the bytes again to join them.
 */
export const WHOLE_PUT_MAX_BYTES = 3 * PART_SIZE_BYTES;

export interface ObjectStoreOptions extends Pick<S3ClientOptions, 'onOperation'> {
  /**
   * The most memory streamed writes may hold at once, in bytes (at least one part): `write` never holds
   * more than this plus a 256 KiB head per stream. Default 64 MiB.
   */
  writeBufferBytes?: number;
}

/** Default of `ObjectStoreOptions.writeBufferBytes`. */
export const DEFAULT_WRITE_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * The platform's bucket, as every app that moves bytes sees it: streamed writes of unknown length, reads,
 * HEAD, server-side copy and deletes. One implementation of each, with S3's retries, for the gateway
 * (uploads it receives), storage (copies and deletes) and the flow-orchestrator (step inputs and outputs).
 *
 * The hot calls skip the SDK: a whole small object is one PUT and a HEAD one HEAD, each sent with undici to
 * a URL presigned over the endpoint this app reaches S3 at (the SDK's middleware stack cost more CPU than the
 * request itself: ~14 % of storage's samples under the 1 KB upload load, 1.45 against 0.63 ms per HEAD).
 */
export class ObjectStore {
  private readonly signer: Presigner;
  private readonly observe: ObjectStoreOptions['onOperation'];
  /** The bytes streamed writes hold, shared by all of them (`writeBufferBytes`). */
  readonly writeBuffers: WriteBuffers;
  /**
   * Made on first use (an app that only PUTs small objects and HEADs never loads the SDK: ~22 MiB), without
   * SDK retries: every call is retried here, a streamed part with a fresh stream of the same bytes.
   */
  private client?: S3Client;

  constructor(
    private readonly settings: S3Settings,
    credentials: SigningCredentials,
    options: ObjectStoreOptions = {},
  ) {
    this.signer = Presigner.internal(settings, credentials);
    this.observe = options.onOperation;
    const bufferBytes = options.writeBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES;
    this.writeBuffers = new WriteBuffers(Math.max(PART_SIZE_BYTES, Math.floor(bufferBytes)));
  }

  private get s3(): S3Client {
    this.client ??= createS3Client(this.settings, { maxAttempts: 1, onOperation: this.observe });
    return this.client;
  }

  close(): void {
    this.client?.destroy();
  }

  /**
   * Writes a byte stream as it arrives, holding at most one part (5 MiB) of it, or up to
   * `WHOLE_PUT_MAX_BYTES` of it when its size is known to fit or while buffers are free.
   *
   * S3 needs the length of every request body, and a streamed body's length is only known at its end. So
   * bytes gather until a part is full and go up as one part of a multipart upload while the stream waits
   * (backpressure reaches the producer); a stream that ends before the first part is full is one PUT.
   * Memory is reserved from the app's `writeBuffers`, waiting (unread) while the reservation does not fit:
   * concurrent writes never hold more than `writeBufferBytes`. A stream gathers its first 256 KiB (a
   * client must send that much before it holds any of the budget), then reserves: all of it when its
   * `sizeAtMost` fits one PUT, and it is one PUT; else a part. When a part is full before
   * any part went up, the stream takes another part if one is free at once (it never waits while it holds),
   * up to `WHOLE_PUT_MAX_BYTES`, so a stream that ends within that is still one PUT; else what it holds goes
   * up as the first part.
   * Nothing is visible under `key` before the last step (that PUT or CompleteMultipartUpload): a stream that
   * fails, or passes `maxBytes` (`ObjectTooLargeError`), leaves no object (the multipart upload is aborted;
   * parts of an abort that fails stay invisible until the bucket expires incomplete uploads: an
   * `AbortIncompleteMultipartUpload` lifecycle rule). Errors of the stream itself are rethrown as they are.
   */
  async write(
    source: AsyncIterable<Buffer | Uint8Array>,
    target: WriteTarget,
  ): Promise<StoredObject> {
    const { CreateMultipartUploadCommand, CompleteMultipartUploadCommand } =
      await import('@aws-sdk/client-s3');
    const contentType = target.contentType ?? 'application/octet-stream';
    const maxBytes = target.maxBytes ?? Number.POSITIVE_INFINITY;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag: string | undefined }[] = [];

    const flushPart = async (): Promise<void> => {
      if (!uploadId) {
        const created = await withS3Retries(() =>
          this.s3.send(
            new CreateMultipartUploadCommand({
              Bucket: this.settings.bucket,
              Key: target.key,
              ContentType: contentType,
            }),
          ),
        );
        uploadId = created.UploadId;
      }
      const chunks = pending;
      const length = pendingBytes;
      pending = [];
      pendingBytes = 0;
      const partNumber = parts.length + 1;
      const etag = await this.uploadPart(target.key, uploadId!, partNumber, chunks, length);
      parts.push({ PartNumber: partNumber, ETag: etag });
    };

    /** The reservations this write holds (each gives its bytes back), `heldBytes` in all. */
    let held: (() => void)[] = [];
    let heldBytes = 0;
    const hold = (giveBack: () => void, bytes: number) => {
      held.push(giveBack);
      heldBytes += bytes;
    };
    const giveBackAll = () => {
      for (const giveBack of held) giveBack();
      held = [];
      heldBytes = 0;
    };
    // Past the head, a stream known to fit one PUT reserves all it can hold (never more than one byte past
    // `maxBytes`), any other one part.
    const atMost =
      target.sizeAtMost === undefined
        ? Number.POSITIVE_INFINITY
        : Math.min(target.sizeAtMost, maxBytes + 1);
    const firstReservation = Math.min(
      atMost <= WHOLE_PUT_MAX_BYTES ? Math.max(atMost, PART_SIZE_BYTES) : PART_SIZE_BYTES,
      this.writeBuffers.capacity,
    );
    try {
      for await (const chunk of source) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        total += bytes.length;
        if (total > maxBytes) throw new ObjectTooLargeError(maxBytes);
        if (heldBytes === 0 && pendingBytes + bytes.length > SMALL_WRITE_BYTES) {
          const reserve = uploadId ? PART_SIZE_BYTES : firstReservation;
          hold(await this.writeBuffers.take(reserve), reserve);
        }
        pending.push(bytes);
        pendingBytes += bytes.length;
        // Past what it holds: one more part if free at once (before any part went up), else a part.
        while (heldBytes > 0 && pendingBytes > heldBytes) {
          const more =
            !uploadId && heldBytes + PART_SIZE_BYTES <= WHOLE_PUT_MAX_BYTES
              ? this.writeBuffers.tryTake(PART_SIZE_BYTES)
              : undefined;
          if (more) hold(more, PART_SIZE_BYTES);
          else {
            await flushPart();
            giveBackAll();
          }
        }
      }
      if (!uploadId) return await this.putChunks(target.key, pending, total, contentType);
      if (pendingBytes > 0) await flushPart();
      const done = await withS3Retries(() =>
        this.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.settings.bucket,
            Key: target.key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        ),
      );
      return { key: target.key, sizeBytes: total, etag: done.ETag ?? null, contentType };
    } catch (err) {
      pending = [];
      if (uploadId) await this.abortMultipart(target.key, uploadId);
      throw err;
    } finally {
      giveBackAll();
    }
  }

  /** Writes known bytes in one PUT. Writing the same bytes again is harmless (retries). */
  put(key: string, body: Buffer, contentType: string): Promise<StoredObject> {
    return this.putChunks(key, [body], body.length, contentType);
  }

  /**
   * `put` of bytes gathered as `chunks` (`length` in all): one chunk goes as it is, several as a stream over
   * them (no copy), a fresh one per attempt.
   */
  private putChunks(
    key: string,
    chunks: readonly Buffer[],
    length: number,
    contentType: string,
  ): Promise<StoredObject> {
    return withS3Retries(async () => {
      const url = this.signer.presignPut(key, { expiresInSeconds: 300 });
      const body = chunks.length > 1 ? Readable.from(chunks) : (chunks[0] ?? Buffer.alloc(0));
      const etag = await this.presignedPut('PutObjectCommand', key, url, body, {
        'content-length': String(length),
        'content-type': contentType,
      });
      return { key, sizeBytes: length, etag, contentType };
    });
  }

  /**
   * One part of a multipart upload (unsigned payload: neither side hashes the 5 MiB), retried with a fresh
   * stream of the same chunks. Answers the part's ETag.
   */
  private uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    chunks: readonly Buffer[],
    length: number,
  ): Promise<string> {
    return withS3Retries(async () => {
      const url = this.signer.presignUploadPart(key, uploadId, partNumber, {
        expiresInSeconds: 300,
      });
      const etag = await this.presignedPut('UploadPartCommand', key, url, Readable.from(chunks), {
        'content-length': String(length),
      });
      if (etag === null) throw new S3RequestError('PUT', key, 200);
      return etag;
    });
  }

  /**
   * A PUT with undici to a URL presigned over the endpoint this app reaches S3 at, counted as `operation`;
   * answers the ETag S3 gave (null without one) and throws `S3RequestError` unless S3 answered 200.
   */
  private async presignedPut(
    operation: string,
    key: string,
    url: string,
    body: Buffer | Readable,
    headers: Record<string, string>,
  ): Promise<string | null> {
    const {
      statusCode,
      headers: answered,
      body: answer,
    } = await request(url, { method: 'PUT', body, headers });
    await answer.dump();
    this.observe?.(operation, String(statusCode));
    if (statusCode !== 200) throw new S3RequestError('PUT', key, statusCode);
    return typeof answered.etag === 'string' ? answered.etag : null;
  }

  /** What is stored under `key`, or null when nothing is; other answers throw (after S3's retries). */
  head(key: string): Promise<StoredObject | null> {
    return withS3Retries(async () => {
      const url = this.signer.presignHead(key, { expiresInSeconds: 60 });
      const { statusCode, headers, body } = await request(url, { method: 'HEAD' });
      await body.dump();
      this.observe?.('HeadObjectCommand', String(statusCode));
      if (statusCode === 404) return null;
      if (statusCode !== 200) throw new S3RequestError('HEAD', key, statusCode);
      const header = (name: string) => {
        const value = headers[name];
        return typeof value === 'string' ? value : null;
      };
      return {
        key,
        sizeBytes: Number(header('content-length') ?? 0),
        etag: header('etag'),
        contentType: header('content-type'),
      };
    });
  }

  /** The bytes under `key`, streamed (an SDK error with status 404 when there are none). */
  async read(key: string): Promise<Readable> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const out = await withS3Retries(() =>
      this.s3.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key })),
    );
    return out.Body as Readable;
  }

  /**
   * Copies the bytes under `from` to `to` inside S3 (no byte leaves it) and answers the copy's ETag. With
   * `ifMatch`, S3 copies only while `from` still has that ETag (412 otherwise): a copy of what was measured.
   */
  async copy(from: string, to: string, opts: { ifMatch?: string } = {}): Promise<string | null> {
    const { CopyObjectCommand } = await import('@aws-sdk/client-s3');
    const source = `${this.settings.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    const out = await withS3Retries(() =>
      this.s3.send(
        new CopyObjectCommand({
          Bucket: this.settings.bucket,
          Key: to,
          CopySource: source,
          CopySourceIfMatch: opts.ifMatch,
        }),
      ),
    );
    return out.CopyObjectResult?.ETag ?? null;
  }

  /** Removes the bytes under `key`; removing what is not there succeeds. */
  async delete(key: string): Promise<void> {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      await withS3Retries(() =>
        this.s3.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key })),
      );
    } catch (err) {
      if (s3StatusOf(err) !== 404) throw err;
    }
  }

  /**
   * Removes the bytes under every key (at most 1,000) in one DeleteObjects request (keys with nothing
   * stored succeed); throws when S3 fails or refuses any key, so the caller retries the whole batch.
   */
  async deleteMany(keys: readonly string[]): Promise<void> {
    const { DeleteObjectsCommand } = await import('@aws-sdk/client-s3');
    const result = await withS3Retries(() =>
      this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.settings.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    );
    const failed = (result.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      throw new Error(
        `S3 DeleteObjects failed for ${failed.length} key(s): ${failed[0].Code ?? 'unknown'}`,
      );
    }
  }

  /** `HeadBucket`: S3 reachable, the credentials valid, the bucket there (a readiness check). */
  async checkBucket(signal?: AbortSignal): Promise<void> {
    const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
    await this.s3.send(new HeadBucketCommand({ Bucket: this.settings.bucket }), {
      abortSignal: signal,
    });
  }

  private async abortMultipart(key: string, uploadId: string): Promise<void> {
    const { AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
    try {
      await this.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: this.settings.bucket,
          Key: key,
          UploadId: uploadId,
        }),
      );
    } catch {
      // No object exists either way; the bucket expires incomplete uploads (see `write`).
    }
  }
}
