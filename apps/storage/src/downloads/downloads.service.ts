import { Inject, Injectable } from '@nestjs/common';
import { DependencyUnavailableException } from '@lib/errors';
import { Presigner, S3RequestError, S3Settings, withS3Retries } from '@lib/s3';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { BytesNotFoundException } from '../bytes/bytes.exception';
import { S3_SETTINGS } from '../s3/s3.module';
import { singleByteRange } from './byte-range';

export interface OpenedObject {
  status: 200 | 206 | 416;
  headers: Partial<Record<'content-length' | 'content-range' | 'etag' | 'last-modified', string>>;
  body?: Readable;
}

/**
 * Opens stored bytes for streaming: a GET on a presigned URL sent with undici, as the small uploads' PUT
 * (StreamingWriter): the SDK's GetObject spent more CPU in its middleware stack than the request itself, on
 * a path that mostly serves small files. Retried like the SDK's calls (network errors, 5xx, 429).
 */
@Injectable()
export class DownloadsService {
  /** Signs the GETs (S3's endpoint as this service reaches it). */
  private readonly getSigner: Presigner;

  constructor(@Inject(S3_SETTINGS) settings: S3Settings) {
    this.getSigner = Presigner.internal(settings);
  }

  /** The object's bytes (or the asked range) as a stream; 404 when nothing is stored under `key`. */
  async open(key: string, rangeHeader: string | undefined): Promise<OpenedObject> {
    const range = singleByteRange(rangeHeader);
    try {
      return await withS3Retries(async () => {
        const res = await request(this.getSigner.presignGet(key, { expiresInSeconds: 60 }), {
          method: 'GET',
          headers: range ? { range } : {},
        });
        const header = (name: string) => {
          const value = res.headers[name];
          return typeof value === 'string' ? value : undefined;
        };
        if (res.statusCode === 200 || res.statusCode === 206) {
          const partial = range !== undefined && res.statusCode === 206;
          return {
            status: partial ? 206 : 200,
            headers: {
              'content-length': header('content-length'),
              'content-range': partial ? header('content-range') : undefined,
              etag: header('etag'),
              'last-modified': header('last-modified'),
            },
            body: res.body,
          } satisfies OpenedObject;
        }
        await res.body.dump();
        if (res.statusCode === 416) return { status: 416, headers: {} } satisfies OpenedObject;
        throw new S3RequestError('GET', key, res.statusCode);
      });
    } catch (err) {
      if (err instanceof S3RequestError && err.status === 404)
        throw new BytesNotFoundException(key);
      throw new DependencyUnavailableException(
        `S3 GET failed: ${err instanceof S3RequestError ? `status ${err.status}` : (err as Error).name}`,
      );
    }
  }
}
