import { createHash } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { crc32 } from 'node:zlib';
import { sigv4 } from '@lib/s3';
import { AwsChunkedDecoder, BodyVerifier, declaredDigestChecks } from './payload';
import { S3RequestError } from './s3-errors';

/** Feeds `input` in pieces of `pieceSize` through the transforms; resolves the output or the error. */
async function run(
  input: Buffer,
  transforms: Transform[],
  pieceSize = 7,
): Promise<{ output: Buffer; error?: S3RequestError }> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += pieceSize) pieces.push(input.subarray(i, i + pieceSize));
  const output: Buffer[] = [];
  return new Promise((resolve) => {
    let stream: NodeJS.ReadableStream = Readable.from(pieces);
    for (const t of transforms) {
      t.on('error', (error) =>
        resolve({ output: Buffer.concat(output), error: error as S3RequestError }),
      );
      stream = stream.pipe(t);
    }
    const last = transforms[transforms.length - 1];
    last.on('data', (chunk: Buffer) => output.push(chunk));
    last.on('end', () => resolve({ output: Buffer.concat(output) }));
  });
}

// AWS's documented chunked upload example ("Example: PUT Object" of sigv4-streaming): 66560 bytes
// of 'a' in chunks of 65536, 1024 and 0 bytes.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
const DOC = {
  secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  amzDate: '20130524T000000Z',
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: [
    [65536, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'],
    [1024, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'],
    [0, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'],
  ] as Array<[number, string]>,
};

function docSigning() {
  return {
    signingKey: sigv4.deriveSigningKey(DOC.secret, '20130524', 'us-east-1', 's3'),
    amzDate: DOC.amzDate,
    scope: sigv4.credentialScope('20130524', 'us-east-1', 's3'),
    seedSignature: DOC.seed,
  };
}

function docBody(): Buffer {
  const parts: Buffer[] = [];
  for (const [size, sig] of DOC.chunks) {
    parts.push(Buffer.from(`${size.toString(16)};chunk-signature=${sig}\r\n`));
    parts.push(Buffer.alloc(size, 'a'), Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

describe('AwsChunkedDecoder', () => {
  it('decodes and verifies the documented signed chunked upload', async () => {
    const body = docBody();
    expect(body.length).toBe(66824); // the example's Content-Length
    for (const pieceSize of [1, 7, 8192, body.length]) {
      const { output, error } = await run(
        body,
        [new AwsChunkedDecoder(docSigning(), false)],
        pieceSize,
      );
      expect(error).toBeUndefined();
      expect(output.equals(Buffer.alloc(66560, 'a'))).toBe(true);
    }
  });

  it('refuses a tampered chunk, a wrong seed and a truncated body', async () => {
    const tampered = docBody();
    tampered[100] = 'b'.charCodeAt(0);
    const a = await run(tampered, [new AwsChunkedDecoder(docSigning(), false)]);
    expect(a.error?.spec.code).toBe('SignatureDoesNotMatch');

    const wrongSeed = { ...docSigning(), seedSignature: '0'.repeat(64) };
    const b = await run(docBody(), [new AwsChunkedDecoder(wrongSeed, false)]);
    expect(b.error?.spec.code).toBe('SignatureDoesNotMatch');

    const truncated = docBody().subarray(0, 66000);
    const c = await run(truncated, [new AwsChunkedDecoder(docSigning(), false)]);
    expect(c.error?.spec.code).toBe('IncompleteBody');
  });

  it('decodes the unsigned trailer framing the AWS SDK sends and exposes the trailer', async () => {
    // As captured from @aws-sdk/client-s3 with the default checksum mode and a stream body.
    const body = Buffer.from('3\r\nabc\r\n3\r\ndef\r\n0\r\nx-amz-checksum-crc32:S4457w==\r\n\r\n');
    const decoder = new AwsChunkedDecoder(undefined, true);
    const { output, error } = await run(body, [decoder], 3);
    expect(error).toBeUndefined();
    expect(output.toString()).toBe('abcdef');
    expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('S4457w==');
  });

  it('verifies a signed trailer', async () => {
    const signing = docSigning();
    const chunkSig = (prev: string, data: Buffer): string =>
      sigv4.signature(
        signing.signingKey,
        [
          'AWS4-HMAC-SHA256-PAYLOAD',
          signing.amzDate,
          signing.scope,
          prev,
          sigv4.EMPTY_SHA256,
          sigv4.sha256Hex(data),
        ].join('\n'),
      );
    const data = Buffer.from('hello world');
    const sig1 = chunkSig(signing.seedSignature, data);
    const sig0 = chunkSig(sig1, Buffer.alloc(0));
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32BE(crc32(data) >>> 0);
    const trailer = `x-amz-checksum-crc32:${checksum.toString('base64')}\n`;
    const trailerSig = sigv4.signature(
      signing.signingKey,
      [
        'AWS4-HMAC-SHA256-TRAILER',
        signing.amzDate,
        signing.scope,
        sig0,
        sigv4.sha256Hex(trailer),
      ].join('\n'),
    );
    const frame = (sig: string) =>
      Buffer.concat([
        Buffer.from(`b;chunk-signature=${sig1}\r\n`),
        data,
        Buffer.from(`\r\n0;chunk-signature=${sig0}\r\n`),
        Buffer.from(`${trailer.trimEnd()}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`),
      ]);
    const ok = await run(frame(trailerSig), [new AwsChunkedDecoder(signing, true)]);
    expect(ok.error).toBeUndefined();
    expect(ok.output.toString()).toBe('hello world');
    const bad = await run(frame('f'.repeat(64)), [new AwsChunkedDecoder(signing, true)]);
    expect(bad.error?.spec.code).toBe('SignatureDoesNotMatch');
  });
});

describe('BodyVerifier', () => {
  const headers = (entries: Record<string, string>) =>
    new Map(Object.entries(entries).map(([k, v]) => [k, [v]]));

  it('passes a body whose declared digests match', async () => {
    const body = Buffer.from('the body');
    const checks = declaredDigestChecks(new Map(), sigv4.sha256Hex(body), undefined);
    expect(checks).toHaveLength(1);
    const { output, error } = await run(body, [new BodyVerifier(checks, body.length)]);
    expect(error).toBeUndefined();
    expect(output.toString()).toBe('the body');
  });

  it('holds back the last piece when a digest does not match', async () => {
    const body = Buffer.from('0123456789abcdefghij');
    const checks = declaredDigestChecks(new Map(), sigv4.sha256Hex('something else'), undefined);
    const { output, error } = await run(body, [new BodyVerifier(checks, body.length)], 5);
    expect(error?.spec.code).toBe('XAmzContentSHA256Mismatch');
    expect(output.length).toBeLessThan(body.length);
  });

  it('checks Content-MD5, x-amz-checksum-crc32 and trailer checksums', async () => {
    const body = Buffer.from('abcdef');
    const md5 = createHash('md5').update(body).digest('base64');
    const good = declaredDigestChecks(
      headers({ 'content-md5': md5, 'x-amz-checksum-crc32': 'S4457w==' }),
      undefined,
      undefined,
    );
    expect(good).toHaveLength(2);
    expect((await run(body, [new BodyVerifier(good, 6)])).error).toBeUndefined();

    const badCrc = declaredDigestChecks(
      headers({ 'x-amz-checksum-crc32': 'AAAAAA==' }),
      undefined,
      undefined,
    );
    expect((await run(body, [new BodyVerifier(badCrc, 6)])).error?.spec.code).toBe('BadDigest');

    const trailers = new Map<string, string>();
    const viaTrailer = declaredDigestChecks(
      headers({ 'x-amz-trailer': 'x-amz-checksum-crc32' }),
      undefined,
      trailers,
    );
    expect((await run(body, [new BodyVerifier(viaTrailer, 6)])).error?.spec.code).toBe(
      'MalformedTrailerError',
    );
    trailers.set('x-amz-checksum-crc32', 'S4457w==');
    expect((await run(body, [new BodyVerifier(viaTrailer, 6)])).error).toBeUndefined();
  });

  it('refuses bodies shorter or longer than declared', async () => {
    const body = Buffer.from('abcdef');
    expect((await run(body, [new BodyVerifier([], 7)])).error?.spec.code).toBe('IncompleteBody');
    expect((await run(body, [new BodyVerifier([], 5)])).error?.spec.code).toBe('IncompleteBody');
  });
});
