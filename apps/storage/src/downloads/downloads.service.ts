import { Inject, Injectable } from '@nestjs/common';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DependencyUnavailableException } from '@lib/errors';
import { S3Settings } from '@lib/s3';
import type { Readable } from 'node:stream';
import { BytesNotFoundException } from '../bytes/bytes.exception';
import { S3_SETTINGS } from '../s3/s3.module';
import { singleByteRange } from './byte-range';

export interface OpenedObject {
  status: 200 | 206 | 416;
  headers: Partial<Record<'content-length' | 'content-range' | 'etag' | 'last-modified', string>>;
  body?: Readable;
}

@Injectable()
export class DownloadsService {
  constructor(
    private readonly s3: S3Client,
    @Inject(S3_SETTINGS) private readonly settings: S3Settings,
  ) {}

  /** The object's bytes (or the asked range) as a stream; 404 when nothing is stored under `key`. */
  async open(key: string, rangeHeader: string | undefined): Promise<OpenedObject> {
    const range = singleByteRange(rangeHeader);
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, Range: range }),
      );
      return {
        status: range && out.ContentRange ? 206 : 200,
        headers: {
          'content-length': out.ContentLength?.toString(),
          'content-range': range ? out.ContentRange : undefined,
          etag: out.ETag,
          'last-modified': out.LastModified?.toUTCString(),
        },
        body: out.Body as Readable,
      };
    } catch (err) {
      if (err instanceof S3ServiceException) {
        const status = err.$metadata.httpStatusCode;
        if (status === 404 || err.name === 'NoSuchKey') throw new BytesNotFoundException(key);
        if (status === 416 || err.name === 'InvalidRange') return { status: 416, headers: {} };
      }
      throw new DependencyUnavailableException(`S3 GET failed: ${(err as Error).name}`);
    }
  }
}
