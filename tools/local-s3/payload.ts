/**
 * Request body handling between the client and s3rver:
 *
 * - `AwsChunkedDecoder` removes the `aws-chunked` framing of STREAMING-* uploads (which s3rver
 *   would store verbatim), checking chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD*: each
 *   chunk signed over the previous signature, the seed being the request's signature) and
 *   collecting trailing headers (`x-amz-checksum-*`, with their signature when signed).
 * - `BodyVerifier` checks what the client declared about the body (x-amz-content-sha256 hash,
 *   Content-MD5, x-amz-checksum-* headers or trailers, length) while streaming it, and holds back
 *   the last piece until the whole body verified: a body that fails never reaches s3rver complete.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { sigv4 } from '@lib/s3';
import { S3RequestError, type S3ErrorSpec } from './s3-errors';

export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  /** The request's (seed) signature. */
  seedSignature: string;
}

const MAX_LINE = 16 * 1024;

type DecoderState = 'chunk-header' | 'data' | 'data-end' | 'trailer' | 'final-crlf' | 'done';

const malformed = (message: string): S3RequestError =>
  new S3RequestError({ status: 400, code: 'IncompleteBody', message });

/** Decodes an `aws-chunked` body into its payload. */
export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (lower-case name -> value), complete once the stream has ended. */
  readonly trailers = new Map<string, string>();
  private state: DecoderState = 'chunk-header';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private chunkSignature = '';
  private chunkHash: Hash | undefined;
  private previousSignature: string;
  private trailerSignature: string | undefined;

  /**
   * @param signing chunk-signature context for signed streaming; undefined for
   *   STREAMING-UNSIGNED-PAYLOAD-TRAILER (chunks carry no signature).
   * @param expectTrailer whether trailing headers follow the final chunk.
   */
  constructor(
    private readonly signing: ChunkSigning | undefined,
    private readonly expectTrailer: boolean,
  ) {
    super();
    this.previousSignature = signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.state === 'done' ? undefined : malformed('The aws-chunked body ended early.'));
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'done') throw malformed('Data after the end of the aws-chunked body.');
      if (this.state === 'data') {
        const n = Math.min(this.remaining, buf.length - i);
        const piece = buf.subarray(i, i + n);
        this.chunkHash?.update(piece);
        this.push(piece);
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      // Every other state reads one CRLF-terminated line.
      const nl = buf.indexOf(0x0a, i);
      const end = nl === -1 ? buf.length : nl + 1;
      this.lineLength += end - i;
      if (this.lineLength > MAX_LINE) throw malformed('aws-chunked line too long.');
      this.line.push(buf.subarray(i, end));
      i = end;
      if (nl !== -1) {
        const text = Buffer.concat(this.line).toString('latin1');
        this.line = [];
        this.lineLength = 0;
        if (!text.endsWith('\r\n')) throw malformed('aws-chunked lines must end with CRLF.');
        this.onLine(text.slice(0, -2));
      }
    }
  }

  private onLine(line: string): void {
    switch (this.state) {
      case 'chunk-header':
        return this.onChunkHeader(line);
      case 'data-end':
        if (line !== '') throw malformed('Chunk data longer than its declared size.');
        this.verifyChunkSignature();
        this.state = 'chunk-header';
        return;
      case 'trailer':
        return this.onTrailerLine(line);
      case 'final-crlf':
        if (line !== '') throw malformed('Unexpected data after the final chunk.');
        this.state = 'done';
        return;
      case 'data':
      case 'done':
        throw malformed('Unexpected aws-chunked state.');
    }
  }

  // "<hex size>[;chunk-signature=<hex>]"
  private onChunkHeader(line: string): void {
    const [sizeText, ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`Bad chunk size line '${line}'.`);
    const size = parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw malformed('Chunk size too large.');
    const sig = extensions.find((e) => e.startsWith('chunk-signature='));
    if (this.signing !== undefined) {
      if (sig === undefined) throw malformed('Missing chunk-signature.');
      this.chunkSignature = sig.slice('chunk-signature='.length);
      this.chunkHash = createHash('sha256');
    }
    if (size > 0) {
      this.remaining = size;
      this.state = 'data';
      return;
    }
    this.verifyChunkSignature(); // the final, empty chunk is signed too
    this.state = this.expectTrailer ? 'trailer' : 'final-crlf';
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      if (this.signing !== undefined) this.verifyTrailerSignature();
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`Bad trailer line '${line}'.`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
    } else {
      this.trailers.set(name, value);
    }
  }

  // String to sign of a chunk: the previous signature chains the chunks to the request's.
  private verifyChunkSignature(): void {
    if (this.signing === undefined) return;
    const { signingKey, amzDate, scope } = this.signing;
    const chunkSha = this.chunkHash?.digest('hex') ?? sigv4.EMPTY_SHA256;
    this.chunkHash = undefined;
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      amzDate,
      scope,
      this.previousSignature,
      sigv4.EMPTY_SHA256,
      chunkSha,
    ].join('\n');
    const expected = sigv4.signature(signingKey, toSign);
    if (!sigv4.signaturesEqual(expected, this.chunkSignature)) {
      throw new S3RequestError(chunkSignatureMismatch(toSign, this.chunkSignature));
    }
    this.previousSignature = expected;
  }

  private verifyTrailerSignature(): void {
    if (this.signing === undefined) return;
    const { signingKey, amzDate, scope } = this.signing;
    // The trailing headers canonicalized like signed headers: sorted `name:value\n` lines.
    const canonicalTrailers = [...this.trailers.keys()]
      .sort()
      .map((name) => `${name}:${this.trailers.get(name) ?? ''}\n`)
      .join('');
    const toSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      amzDate,
      scope,
      this.previousSignature,
      sigv4.sha256Hex(canonicalTrailers),
    ].join('\n');
    const provided = this.trailerSignature ?? '';
    if (!sigv4.signaturesEqual(sigv4.signature(signingKey, toSign), provided)) {
      throw new S3RequestError(chunkSignatureMismatch(toSign, provided));
    }
  }
}

function chunkSignatureMismatch(toSign: string, provided: string): S3ErrorSpec {
  return {
    status: 403,
    code: 'SignatureDoesNotMatch',
    message:
      'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
    details: { StringToSign: toSign, SignatureProvided: provided },
  };
}

export type DigestAlgorithm = 'sha256' | 'sha1' | 'md5' | 'crc32';

/** One declared digest of the body. `expected` is read once the body has ended (trailers). */
export interface DigestCheck {
  algorithm: DigestAlgorithm;
  encoding: 'hex' | 'base64';
  expected: () => string | undefined;
  /** Error when the digest differs. */
  mismatch: S3ErrorSpec;
  /** Error when `expected()` is undefined at the end (a declared trailer never came). */
  missing?: S3ErrorSpec;
}

interface RunningDigest {
  update(data: Buffer): void;
  digest(encoding: 'hex' | 'base64'): string;
}

function runningDigest(algorithm: DigestAlgorithm): RunningDigest {
  if (algorithm === 'crc32') {
    let value = 0;
    return {
      update: (data) => (value = crc32(data, value)),
      digest: (encoding) => {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(value >>> 0);
        return out.toString(encoding);
      },
    };
  }
  const hash = createHash(algorithm);
  return { update: (data) => hash.update(data), digest: (encoding) => hash.digest(encoding) };
}

/**
 * Passes the body through while computing the declared digests and counting bytes; the last
 * piece is released only after every check passed at the end, so a bad body never arrives whole.
 */
export class BodyVerifier extends Transform {
  private readonly digests: Array<{ check: DigestCheck; running: RunningDigest }>;
  private held: Buffer | undefined;
  private length = 0;

  constructor(
    checks: readonly DigestCheck[],
    private readonly expectedLength: number | undefined,
  ) {
    super();
    this.digests = checks.map((check) => ({ check, running: runningDigest(check.algorithm) }));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.length += chunk.length;
    if (this.expectedLength !== undefined && this.length > this.expectedLength) {
      callback(
        new S3RequestError({
          status: 400,
          code: 'IncompleteBody',
          message: 'The request body is longer than its declared length.',
        }),
      );
      return;
    }
    for (const { running } of this.digests) running.update(chunk);
    if (this.held !== undefined) this.push(this.held);
    this.held = chunk;
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedLength !== undefined && this.length !== this.expectedLength) {
      callback(
        new S3RequestError({
          status: 400,
          code: 'IncompleteBody',
          message:
            'You did not provide the number of bytes specified by the Content-Length HTTP header.',
        }),
      );
      return;
    }
    for (const { check, running } of this.digests) {
      const expected = check.expected();
      if (expected === undefined) {
        if (check.missing !== undefined) {
          callback(new S3RequestError(check.missing));
          return;
        }
        continue;
      }
      const actual = running.digest(check.encoding);
      const matches =
        check.encoding === 'hex' ? actual === expected.toLowerCase() : actual === expected;
      if (!matches) {
        callback(new S3RequestError(check.mismatch));
        return;
      }
    }
    if (this.held !== undefined) this.push(this.held);
    this.held = undefined;
    callback();
  }
}

const CHECKSUM_HEADERS: ReadonlyArray<[string, DigestAlgorithm, string]> = [
  ['x-amz-checksum-crc32', 'crc32', 'CRC32'],
  ['x-amz-checksum-sha1', 'sha1', 'SHA1'],
  ['x-amz-checksum-sha256', 'sha256', 'SHA256'],
];

/**
 * The digest checks a request declares: x-amz-content-sha256 (when a hash), Content-MD5, and the
 * x-amz-checksum-* header or trailer (CRC32, SHA1, SHA256; CRC32C/CRC64NVME are not checked).
 */
export function declaredDigestChecks(
  headers: ReadonlyMap<string, readonly string[]>,
  payloadSha256: string | undefined,
  trailers: ReadonlyMap<string, string> | undefined,
): DigestCheck[] {
  const header = (name: string): string | undefined => headers.get(name)?.join(',').trim();
  const checks: DigestCheck[] = [];
  if (payloadSha256 !== undefined) {
    checks.push({
      algorithm: 'sha256',
      encoding: 'hex',
      expected: () => payloadSha256,
      mismatch: {
        status: 400,
        code: 'XAmzContentSHA256Mismatch',
        message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
        details: { ClientComputedContentSHA256: payloadSha256 },
      },
    });
  }
  const md5 = header('content-md5');
  if (md5 !== undefined) {
    checks.push({
      algorithm: 'md5',
      encoding: 'base64',
      expected: () => md5,
      mismatch: {
        status: 400,
        code: 'BadDigest',
        message: 'The Content-MD5 you specified did not match what we received.',
      },
    });
  }
  const trailerNames = new Set(
    (header('x-amz-trailer') ?? '')
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n !== ''),
  );
  for (const [name, algorithm, label] of CHECKSUM_HEADERS) {
    const mismatch: S3ErrorSpec = {
      status: 400,
      code: 'BadDigest',
      message: `The ${label} you specified did not match the calculated checksum.`,
    };
    const value = header(name);
    if (value !== undefined) {
      checks.push({ algorithm, encoding: 'base64', expected: () => value, mismatch });
    } else if (trailerNames.has(name) && trailers !== undefined) {
      checks.push({
        algorithm,
        encoding: 'base64',
        expected: () => trailers.get(name),
        mismatch,
        missing: {
          status: 400,
          code: 'MalformedTrailerError',
          message: `The request declared the trailer ${name} but did not send it.`,
        },
      });
    }
  }
  return checks;
}
