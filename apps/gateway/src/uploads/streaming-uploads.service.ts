import { Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { ServicePrincipal } from '@lib/contracts';
import { assertKeysOfOrg } from '@lib/internal-http';
import {
  CommonErrorCode,
  DependencyUnavailableException,
  DomainException,
  ValidationFailedException,
} from '@lib/errors';
import { ObjectStore, ObjectTooLargeError } from '@lib/s3';

/** Where streamed bytes go, and how many are allowed. */
export interface StreamTarget {
  /** The S3 key (from `@lib/contracts`' key builders: `orgFileKey`, `runFileKey`, …). */
  key: string;
  /** One byte more and the upload fails with 413, leaving nothing in S3. */
  maxBytes: number;
  /** Stored `Content-Type`; `application/octet-stream` when absent. */
  contentType?: string;
  /** The most bytes the source can hold when known (its request's `Content-Length`): see `ObjectStore`. */
  sizeAtMost?: number;
}

/** What S3 now holds under `key`. */
export interface StoredUpload {
  key: string;
  sizeBytes: number;
  etag: string | null;
}

/** The file part of a multipart request, as `keyFor` sees it before any byte is stored. */
export interface IncomingFile {
  /** The client's original file name (may be empty or hostile: validate it). */
  filename: string;
  /** The part's declared MIME type. */
  mimetype: string;
  /** Text fields that came before the file part (a client may also send them after). */
  fieldsBefore: Readonly<Record<string, string>>;
}

export interface MultipartUploadOptions {
  /** Largest file accepted (413 past it). */
  maxBytes: number;
  /** Name of the file part (default `file`); exactly one is required. */
  fileField?: string;
  /** Text fields allowed besides the file (others are a 400); each at most 4 KiB. */
  fields?: readonly string[];
  /**
   * Picks the S3 key when the file part begins. Throwing (e.g. a 400 for a bad field) refuses the upload
   * before any byte is stored.
   */
  keyFor: (file: IncomingFile) => string | Promise<string>;
}

/** What `receiveMultipart` reads of a request: the multipart parser `@fastify/multipart` adds to it. */
export type MultipartRequest = Pick<FastifyRequest, 'isMultipart' | 'parts' | 'headers'>;

/** A multipart upload stored in S3: the bytes, the file's name and type, and every text field. */
export interface ReceivedUpload extends StoredUpload {
  filename: string;
  contentType: string;
  fields: Record<string, string>;
}

export class UploadTooLargeException extends DomainException {
  constructor(maxBytes: number) {
    super(413, CommonErrorCode.PayloadTooLarge, `the file is larger than ${maxBytes} bytes`);
  }
}

const FIELD_MAX_BYTES = 4096;

/**
 * Streaming uploads from the gateway straight to S3: the primitive under every upload use case (org
 * storage's `OrgFileUploads`, the flows' `RunInputUploads`).
 *
 * Bytes are never buffered whole: the request's file part is written to S3 as it arrives by the
 * `ObjectStore` of `@lib/s3`: one PUT when the request's `Content-Length` shows it fits one (15 MiB), else
 * 5 MiB multipart parts, all within the app's bounded write buffers (`S3_WRITE_BUFFER_MIB`).
 * Past `maxBytes` the write stops and the caller gets 413 with nothing stored; a failed or aborted upload
 * stores nothing either. Keys are always of the principal's org.
 *
 * A use case calls `receiveMultipart` (`@fastify/multipart` is registered by the gateway's `main.ts`) with
 * a `keyFor` that checks the file and the fields before it and picks the key; the bytes are in S3 when it
 * returns. If recording them then fails, it calls `discardUnlessRecorded(key, err)` before rethrowing.
 * Or `write(readable, principal, {key, maxBytes})` for any other byte stream. Import `UploadsModule`.
 */
@Injectable()
export class StreamingUploads {
  private readonly logger = new Logger(StreamingUploads.name);

  constructor(private readonly store: ObjectStore) {}

  /**
   * Writes `source` to S3 under `target.key` (a key of the principal's org); 413
   * (`UploadTooLargeException`) past `maxBytes`, 400 when the source fails (a client's truncated or
   * malformed body is its fault), 503 when S3 does.
   */
  async write(
    source: Readable,
    principal: ServicePrincipal,
    target: StreamTarget,
  ): Promise<StoredUpload> {
    assertKeysOfOrg(principal, [target.key]);
    try {
      const { key, sizeBytes, etag } = await this.store.write(source, target);
      return { key, sizeBytes, etag };
    } catch (err) {
      if (err instanceof ObjectTooLargeError) throw new UploadTooLargeException(target.maxBytes);
      if (err instanceof DomainException) throw err;
      if (source.errored) {
        throw new ValidationFailedException(
          `the upload body is malformed or ended early: ${(err as Error).message}`,
        );
      }
      this.logger.warn(`S3 upload of ${target.key} failed: ${(err as Error).message}`);
      throw new DependencyUnavailableException(`S3 upload failed: ${(err as Error).name}`);
    }
  }

  /**
   * Reads a `multipart/form-data` request: text fields, and one file part streamed to S3 under the key
   * `keyFor` picks. 400 when the body is not multipart, has no file, an unknown or repeated field, or a
   * second file; 413 past `maxBytes`. If anything fails after the bytes are stored, they are removed.
   */
  async receiveMultipart(
    request: MultipartRequest,
    principal: ServicePrincipal,
    opts: MultipartUploadOptions,
  ): Promise<ReceivedUpload> {
    if (!request.isMultipart()) {
      throw new ValidationFailedException('the body must be multipart/form-data');
    }
    const fileField = opts.fileField ?? 'file';
    const allowed = new Set(opts.fields ?? []);
    const fields: Record<string, string> = {};
    let stored: (StoredUpload & { filename: string; contentType: string }) | undefined;
    const parts = request.parts({
      // The client's file name whole (busboy would otherwise keep only what follows its last `/` or `\`):
      // the caller validates it, so a name smuggling a path is refused, not silently shortened.
      preservePath: true,
      limits: {
        fileSize: opts.maxBytes + 1,
        files: 1,
        fields: allowed.size,
        fieldSize: FIELD_MAX_BYTES,
        parts: allowed.size + 1,
      },
    });
    try {
      for await (const part of iterate(parts)) {
        if (part.type === 'field') {
          const value = fieldValue(part, allowed, fields);
          fields[part.fieldname] = value;
          continue;
        }
        if (part.fieldname !== fileField || stored) {
          part.file.resume();
          throw new ValidationFailedException(
            stored
              ? `only one file part is allowed`
              : `unexpected file part '${part.fieldname}': the file goes in '${fileField}'`,
          );
        }
        let key: string;
        try {
          key = await opts.keyFor({
            filename: part.filename,
            mimetype: part.mimetype,
            fieldsBefore: { ...fields },
          });
        } catch (err) {
          part.file.resume();
          throw err;
        }
        try {
          const up = await this.write(part.file, principal, {
            key,
            maxBytes: opts.maxBytes,
            contentType: part.mimetype,
            sizeAtMost: declaredLength(request),
          });
          stored = { ...up, filename: part.filename, contentType: part.mimetype };
        } catch (err) {
          part.file.resume(); // let the parser drain the rest of the request
          throw err;
        }
      }
    } catch (err) {
      if (stored) await this.discard(stored.key);
      throw err;
    }
    if (!stored) throw new ValidationFailedException(`the '${fileField}' file part is required`);
    return { ...stored, fields };
  }

  /**
   * Cleanup after the record of stored bytes failed: removes them only when the service refused the record
   * (a 4xx: nothing was written). On a 5xx or a lost answer (the service killed after its commit, a timeout)
   * the record may exist, so the bytes are kept; if it does not, `sweep-orphans` collects them later.
   */
  async discardUnlessRecorded(key: string, recordError: unknown): Promise<void> {
    if (recordError instanceof DomainException && recordError.status < 500) {
      await this.discard(key);
      return;
    }
    this.logger.warn(
      `kept the bytes of ${key}: whether their record was written is unknown (${(recordError as Error).message})`,
    );
  }

  /** Removes stored bytes (cleanup after a failed upload); logs instead of throwing. */
  async discard(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch (err) {
      this.logger.warn(
        `could not remove the bytes of a failed upload ${key}: ${(err as Error).message}`,
      );
    }
  }
}

type Part = MultipartFile | MultipartValue<unknown>;

/**
 * The request's `Content-Length`, when it sends one: the file part holds fewer bytes (the server's parser
 * never passes a body beyond its declared length), so a file that fits one S3 PUT is stored in one.
 */
function declaredLength(request: MultipartRequest): number | undefined {
  const value = request.headers['content-length'];
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** The parser's own errors (malformed body, limits) become 400s naming the problem. */
async function* iterate(parts: AsyncIterable<Part>): AsyncGenerator<Part> {
  const it = parts[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Part>;
    try {
      next = await it.next();
    } catch (err) {
      if (err instanceof DomainException) throw err;
      const message = (err as Error).message ?? 'malformed multipart body';
      throw new ValidationFailedException(`invalid multipart body: ${message}`);
    }
    if (next.done) return;
    yield next.value;
  }
}

function fieldValue(
  part: MultipartValue<unknown>,
  allowed: ReadonlySet<string>,
  seen: Record<string, string>,
): string {
  if (!allowed.has(part.fieldname)) {
    throw new ValidationFailedException(`unknown field '${part.fieldname}'`);
  }
  if (part.fieldname in seen) {
    throw new ValidationFailedException(`field '${part.fieldname}' is given more than once`);
  }
  if (part.valueTruncated) {
    throw new ValidationFailedException(
      `field '${part.fieldname}' is longer than ${FIELD_MAX_BYTES} bytes`,
    );
  }
  if (typeof part.value !== 'string') {
    throw new ValidationFailedException(`field '${part.fieldname}' must be text`);
  }
  return part.value;
}
