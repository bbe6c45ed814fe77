import { Readable } from 'node:stream';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { DependencyUnavailableException, DomainException } from '@lib/errors';
import { Metrics } from '@lib/observability';
import {
  createS3Client,
  Presigner,
  S3RequestError,
  S3Settings,
  SigningCredentials,
  withS3Retries,
} from '@lib/s3';
import { request } from 'undici';
import { countS3Operations, S3_SETTINGS } from '../s3/s3.module';
import { StreamUploadResultDto } from './uploads.dto';
import { UploadInterruptedException, UploadTooLargeException } from './uploads.exception';

/** S3's smallest part (all but the last): the most one upload holds in memory at a time. */
export const PART_SIZE_BYTES = 5 * 1024 * 1024;

export interface StreamTarget {
  key: string;
  maxBytes: number;
  contentType?: string;
}

/**
 * Writes a byte stream of unknown length to S3 as it arrives, holding at most one part (5 MiB) of it.
 *
 * S3 needs the length of every request body, and a streamed upload's length is only known at its end.
 * So bytes gather until a part is full and go up as one part of a multipart upload while the stream is
 * paused (backpressure up to the client); a stream that ends before the first part is full is stored with
 * one PUT. Nothing is visible under `key` before the last step (that PUT or
 * CompleteMultipartUpload): a stream that fails, is aborted or passes `maxBytes` (413) leaves no object
 * (the multipart upload is aborted; parts of an abort that fails stay invisible until the bucket expires
 * incomplete uploads: an `AbortIncompleteMultipartUpload` lifecycle rule on AWS, 24 h by default on MinIO).
 */
@Injectable()
export class StreamingWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(StreamingWriter.name);
  /** A client of its own without SDK retries: a streamed part is retried here, with a fresh stream. */
  private readonly s3: S3Client;

  /** Signs the one PUT of a small object (S3's endpoint as this service reaches it). */
  private readonly putSigner: Presigner;

  constructor(
    @Inject(S3_SETTINGS) private readonly settings: S3Settings,
    credentials: SigningCredentials,
    metrics: Metrics,
  ) {
    this.s3 = createS3Client(settings, {
      maxAttempts: 1,
      onOperation: countS3Operations(metrics),
    });
    this.putSigner = Presigner.internal(settings, credentials);
  }

  onApplicationShutdown(): void {
    this.s3.destroy();
  }

  async write(source: AsyncIterable<Buffer>, target: StreamTarget): Promise<StreamUploadResultDto> {
    const bucket = this.settings.bucket;
    const contentType = target.contentType ?? 'application/octet-stream';
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag: string | undefined }[] = [];

    const flushPart = async (): Promise<void> => {
      if (!uploadId) {
        const created = await this.s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: target.key,
            ContentType: contentType,
          }),
        );
        uploadId = created.UploadId;
      }
      const chunks = pending;
      const length = pendingBytes;
      pending = [];
      pendingBytes = 0;
      const partNumber = parts.length + 1;
      const part = await withS3Retries(() =>
        this.s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: target.key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: Readable.from(chunks),
            ContentLength: length,
          }),
        ),
      );
      parts.push({ PartNumber: partNumber, ETag: part.ETag });
    };

    try {
      for await (const chunk of source) {
        total += chunk.length;
        if (total > target.maxBytes) throw new UploadTooLargeException(target.maxBytes);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= PART_SIZE_BYTES) await flushPart();
      }
      if (!uploadId) {
        const whole = Buffer.concat(pending, total);
        pending = [];
        const etag = await withS3Retries(() => this.putWhole(target.key, whole, contentType));
        return { key: target.key, sizeBytes: total, etag };
      }
      if (pendingBytes > 0) await flushPart();
      const done = await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: target.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      return { key: target.key, sizeBytes: total, etag: done.ETag ?? null };
    } catch (err) {
      pending = [];
      if (uploadId) await this.abort(target.key, uploadId);
      if (err instanceof DomainException) throw err;
      if (isStreamError(err)) throw new UploadInterruptedException();
      this.logger.warn(`S3 upload of ${target.key} failed: ${(err as Error).name}`);
      throw new DependencyUnavailableException(`S3 upload failed: ${(err as Error).name}`);
    }
  }

  /**
   * A whole small object in one PUT: a presigned URL sent with undici. Most uploads are small, and the SDK's
   * PutObject spent more CPU in its middleware stack than the request itself (storage's profile under the
   * 1 KB upload load: @smithy/core ~14 % of its samples). Returns the ETag.
   */
  private async putWhole(key: string, bytes: Buffer, contentType: string): Promise<string | null> {
    const url = this.putSigner.presignPut(key, { expiresInSeconds: 60 });
    const { statusCode, headers, body } = await request(url, {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': contentType },
    });
    await body.dump();
    if (statusCode !== 200) throw new S3RequestError('PUT', key, statusCode);
    return typeof headers.etag === 'string' ? headers.etag : null;
  }

  private async abort(key: string, uploadId: string): Promise<void> {
    try {
      await this.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: this.settings.bucket,
          Key: key,
          UploadId: uploadId,
        }),
      );
    } catch (err) {
      // No object exists either way; the bucket expires incomplete uploads (see the class comment).
      this.logger.warn(`aborting multipart upload of ${key} failed: ${(err as Error).name}`);
    }
  }
}

/** Errors of the incoming request (client gone), not of S3. */
function isStreamError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (err as Error)?.message === 'aborted'
  );
}
