import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Presigner, S3RequestError, withS3Retries } from '@lib/s3';
import { request } from 'undici';

export interface StoredObject {
  sizeBytes: number;
  etag: string | null;
  contentType: string | null;
}

// S3's smallest multipart part (but the last); streams shorter than one part go in one PutObject.
const PART_BYTES = 5 * 1024 * 1024;

/** Whether an S3 call failed because nothing is stored under its key (a copy's source, a GET's key). */
export function isNoSuchKey(err: unknown): boolean {
  return err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404;
}

/**
 * A run's bytes in S3, seen from the flow-orchestrator: presigned PutURLs for waiting edges, HEAD to notice
 * uploads, and the streams steps read and write. Steps stream S3 → worker → S3 (never through a JSON
 * message); a stream of unknown length is written as a multipart upload in 5 MiB parts.
 */
export class RunBytes {
  /**
   * @param presigner signs the URLs handed to clients (S3's public endpoint)
   * @param internalPresigner signs the HEADs this service sends itself (the endpoint it reaches S3 at)
   */
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly presigner: Presigner,
    private readonly internalPresigner: Presigner,
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
   * The upload watcher calls it for every check of every waiting edge: a presigned HEAD sent with undici
   * instead of the SDK's HeadObject (its middleware stack and signer) took a check from ~1.45 to ~0.63 ms of
   * CPU (bench:flows, upload watch).
   */
  head(key: string): Promise<StoredObject | null> {
    return withS3Retries(() => this.headOnce(key));
  }

  private async headOnce(key: string): Promise<StoredObject | null> {
    const url = this.internalPresigner.presignHead(key, { expiresInSeconds: 60 });
    const { statusCode, headers, body } = await request(url, { method: 'HEAD' });
    await body.dump();
    if (statusCode === 404) return null;
    if (statusCode !== 200) throw new S3RequestError('HEAD', key, statusCode);
    const header = (name: string) => {
      const value = headers[name];
      return typeof value === 'string' ? value : null;
    };
    return {
      sizeBytes: Number(header('content-length') ?? 0),
      etag: header('etag'),
      contentType: header('content-type'),
    };
  }

  async read(key: string): Promise<Readable> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return out.Body as Readable;
  }

  /** A server-side copy (no bytes through the worker); copying again gives the same object. */
  async copy(fromKey: string, toKey: string): Promise<StoredObject> {
    const source = `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`;
    await this.s3.send(
      new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: source }),
    );
    const stored = await this.head(toKey);
    if (!stored) throw new Error(`the copy of ${fromKey} is not in S3`);
    return stored;
  }

  /** Removes the bytes under `key` (nothing there: nothing to do). */
  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Writes a body of known bytes. Overwriting the same key with the same bytes is harmless (retries). */
  async putBuffer(key: string, body: Buffer, contentType: string): Promise<StoredObject> {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: contentType,
      }),
    );
    return { sizeBytes: body.length, etag: out.ETag ?? null, contentType };
  }

  /** Writes a stream of unknown length: one PutObject below 5 MiB, else a multipart upload. */
  async putStream(
    key: string,
    body: AsyncIterable<Buffer | Uint8Array>,
    contentType: string,
  ): Promise<StoredObject> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    const flushPart = async () => {
      uploadId ??= (
        await this.s3.send(
          new CreateMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            ContentType: contentType,
          }),
        )
      ).UploadId;
      const part = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      const out = await this.s3.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: parts.length + 1,
          Body: part,
          ContentLength: part.length,
        }),
      );
      parts.push({ ETag: out.ETag, PartNumber: parts.length + 1 });
    };
    try {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        total += buf.length;
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= PART_BYTES) await flushPart();
      }
      if (uploadId === undefined)
        return await this.putBuffer(key, Buffer.concat(pending), contentType);
      if (pendingBytes > 0) await flushPart();
      const out = await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      return { sizeBytes: total, etag: out.ETag ?? null, contentType };
    } catch (err) {
      if (uploadId !== undefined) {
        await this.s3
          .send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
          )
          .catch(() => undefined);
      }
      throw err;
    }
  }
}
