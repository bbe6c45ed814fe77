import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  createS3Client,
  ObjectStore,
  ObjectTooLargeError,
  s3CredentialProvider,
  s3StatusOf,
  SigningCredentials,
} from '@lib/s3';
import { startTestS3, type TestS3, waitFor } from '@lib/testing';

const MiB = 1024 * 1024;

// The one writer of streamed bytes (the gateway's uploads, the flow-orchestrator's step outputs) and the
// byte operations storage serves, against S3Proxy behind the fault-injection proxy: bytes of unknown length
// go to S3 as they arrive (one PUT, or a multipart upload past 5 MiB); a stream past its limit, cut short
// or refused by S3 leaves no object.
describe('ObjectStore (S3Proxy)', () => {
  let s3: TestS3;
  let store: ObjectStore;
  let client: S3Client;
  const operations: string[] = [];

  beforeAll(async () => {
    s3 = await startTestS3();
    const credentials = await SigningCredentials.load(s3CredentialProvider(s3.settings));
    store = new ObjectStore(s3.settings, credentials, {
      onOperation: (operation, status) => operations.push(`${operation} ${status}`),
    });
    client = createS3Client(s3.settings);
  });

  afterAll(async () => {
    store?.close();
    client?.destroy();
    await s3?.stop();
  });

  /** Stores of a test's own write budget (`storeWith`), closed after it. */
  const ownStores: ObjectStore[] = [];
  afterEach(() => {
    s3.clearFaults();
    for (const own of ownStores.splice(0)) own.close();
  });

  /** A store with a write budget of `writeBufferBytes`, and the operations it sends, in order. */
  const storeWith = async (writeBufferBytes: number) => {
    const credentials = await SigningCredentials.load(s3CredentialProvider(s3.settings));
    const observed: string[] = [];
    const own = new ObjectStore(s3.settings, credentials, {
      writeBufferBytes,
      onOperation: (operation) => observed.push(operation),
    });
    ownStores.push(own);
    return { own, observed };
  };

  /** Streams of 64 KiB chunks that note the most `store`'s write buffers held and queued as they were read. */
  const watchBuffers = (watchedStore: ObjectStore) => {
    const seen = { inUse: 0, queued: 0 };
    const watched = (total: number) =>
      Readable.from(
        (function* () {
          for (let sent = 0; sent < total; sent += 64 * 1024) {
            seen.inUse = Math.max(seen.inUse, watchedStore.writeBuffers.inUse);
            seen.queued = Math.max(seen.queued, watchedStore.writeBuffers.queued);
            yield Buffer.alloc(64 * 1024, sent / 65536);
          }
        })(),
      );
    return { seen, watched };
  };

  const chunksOf = (total: number, chunk = 64 * 1024) =>
    Readable.from(
      (function* () {
        for (let sent = 0; sent < total; sent += chunk)
          yield randomBytes(Math.min(chunk, total - sent));
      })(),
    );

  const stored = async (key: string) => Buffer.concat(await (await store.read(key)).toArray());

  const keysUnder = async (prefix: string) =>
    (
      await client.send(new ListObjectsV2Command({ Bucket: s3.settings.bucket, Prefix: prefix }))
    ).Contents?.map((o) => o.Key) ?? [];

  it('should store a small stream in one PUT with its exact bytes, type and ETag', async () => {
    const bytes = randomBytes(300_000);
    operations.length = 0;
    const out = await store.write(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), {
      key: 'small/a.bin',
      contentType: 'text/plain',
      maxBytes: 10 * MiB,
    });
    expect(out).toEqual({
      key: 'small/a.bin',
      sizeBytes: bytes.length,
      etag: expect.any(String),
      contentType: 'text/plain',
    });
    expect(operations).toEqual(['PutObjectCommand 200']);
    expect((await stored('small/a.bin')).equals(bytes)).toBe(true);
    expect(await store.head('small/a.bin')).toMatchObject({
      sizeBytes: bytes.length,
      etag: out.etag,
      contentType: 'text/plain',
    });
  });

  it('should store a stream of up to three parts in one PUT while buffers are free', async () => {
    operations.length = 0;
    const out = await store.write(chunksOf(12 * MiB), { key: 'whole/a.bin', maxBytes: 12 * MiB });
    expect(out.sizeBytes).toBe(12 * MiB);
    expect(operations).toEqual(['PutObjectCommand 200']);
    expect((await stored('whole/a.bin')).length).toBe(12 * MiB);
    expect(store.writeBuffers.inUse).toBe(0);
  });

  it('should store a stream longer than three parts as a multipart upload', async () => {
    operations.length = 0;
    const out = await store.write(chunksOf(16 * MiB), { key: 'large/a.bin', maxBytes: 16 * MiB });
    expect(out.sizeBytes).toBe(16 * MiB);
    // The first 15 MiB held went up as one part, the rest as the last.
    expect(operations).toEqual([
      'CreateMultipartUploadCommand 200',
      'UploadPartCommand 200',
      'UploadPartCommand 200',
      'CompleteMultipartUploadCommand 200',
    ]);
    expect((await stored('large/a.bin')).length).toBe(16 * MiB);
  });

  it('should go multipart rather than wait for a second buffer while it holds one', async () => {
    const { own: one, observed } = await storeWith(5 * MiB);
    const out = await one.write(chunksOf(12 * MiB), { key: 'one-buffer/a.bin' });
    expect(out.sizeBytes).toBe(12 * MiB);
    expect(observed.filter((o) => o === 'UploadPartCommand')).toHaveLength(3);
    expect((await stored('one-buffer/a.bin')).length).toBe(12 * MiB);
    expect(one.writeBuffers.inUse).toBe(0);
  });

  it('should hold no more bytes than its write buffers, the other writes waiting their turn', async () => {
    const { own: small } = await storeWith(2 * 5 * MiB);
    const { seen, watched } = watchBuffers(small);
    const outs = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        small.write(watched(11 * MiB), { key: `budget/${i}.bin` }),
      ),
    );
    expect(outs.map((o) => o.sizeBytes)).toEqual(Array(5).fill(11 * MiB));
    expect((await stored('budget/4.bin')).length).toBe(11 * MiB);
    expect({ ...seen, after: small.writeBuffers.inUse }).toEqual({
      inUse: 10 * MiB,
      queued: expect.any(Number),
      after: 0,
    });
    expect(seen.queued).toBeGreaterThan(0);
  });

  it('should store a stream of known size in one PUT where growing part by part would not fit', async () => {
    const { own: tight, observed } = await storeWith(11 * MiB);
    // Part by part: 5 + 5 MiB held when the third part does not fit: a multipart upload.
    await tight.write(chunksOf(11 * MiB), { key: 'known/unknown.bin' });
    expect(observed).toContain('UploadPartCommand');
    observed.length = 0;
    const out = await tight.write(chunksOf(11 * MiB), {
      key: 'known/known.bin',
      sizeAtMost: 11 * MiB,
    });
    expect(out.sizeBytes).toBe(11 * MiB);
    expect(observed).toEqual(['PutObjectCommand']);
    expect((await stored('known/known.bin')).length).toBe(11 * MiB);
    expect(tight.writeBuffers.inUse).toBe(0);
  });

  it('should reserve nothing for a declared size before the stream sent its first 256 KiB', async () => {
    const body = new Readable({ read() {} });
    const written = store.write(body, { key: 'known/slow.bin', sizeAtMost: 15 * MiB });
    // A client that declares 15 MiB, then trickles: its first 200 KiB read, nothing reserved.
    body.push(Buffer.alloc(200 * 1024, 1));
    await waitFor('the first chunk to be read', () => body.readableLength === 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.writeBuffers.inUse).toBe(0);
    body.push(Buffer.alloc(100 * 1024, 2));
    await waitFor('the declared size reserved', () => store.writeBuffers.inUse === 15 * MiB);
    body.push(null);
    expect((await written).sizeBytes).toBe(300 * 1024);
    expect(store.writeBuffers.inUse).toBe(0);
  });

  it('should hold known-size writes within its write buffers, each one PUT in its turn', async () => {
    const { own: small, observed } = await storeWith(12 * MiB);
    const { seen, watched } = watchBuffers(small);
    const outs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        small.write(watched(6 * MiB), { key: `known-budget/${i}.bin`, sizeAtMost: 6 * MiB + 200 }),
      ),
    );
    expect(outs.map((o) => o.sizeBytes)).toEqual(Array(4).fill(6 * MiB));
    expect(observed).toEqual(Array(4).fill('PutObjectCommand'));
    expect(seen.inUse).toBeLessThanOrEqual(12 * MiB);
    expect(seen.queued).toBeGreaterThan(0);
    expect(small.writeBuffers.inUse).toBe(0);
  });

  it('should fail with ObjectTooLargeError and store nothing past the limit', async () => {
    await expect(
      store.write(chunksOf(6 * MiB + 1), { key: 'over/a.bin', maxBytes: 6 * MiB }),
    ).rejects.toBeInstanceOf(ObjectTooLargeError);
    await expect(
      store.write(chunksOf(1001), { key: 'over/b.bin', maxBytes: 1000 }),
    ).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(await keysUnder('over/')).toEqual([]);
    expect(store.writeBuffers.inUse).toBe(0);
  });

  it('should store nothing when the stream fails in the middle of a multipart upload', async () => {
    const body = new Readable({ read() {} });
    body.push(randomBytes(16 * MiB)); // past three parts: a multipart upload is under way
    const written = store.write(body, { key: 'cut/a.bin' });
    setTimeout(() => body.destroy(new Error('client gone')), 50);
    await expect(written).rejects.toThrow('client gone');
    // Nothing is visible before the final PUT / CompleteMultipartUpload, which a cut stream never reaches.
    expect(await keysUnder('cut/')).toEqual([]);
  });

  it.each([
    ['a whole PUT', 6 * MiB],
    ['a part', 16 * MiB],
  ])('should retry %s S3 failed once, and store the exact bytes', async (_, size) => {
    const bytes = randomBytes(size);
    const key = `retry/${size}.bin`;
    const fault = s3.injectFault({ method: 'PUT', keyPrefix: key, status: 500, count: 1 });
    await store.write(Readable.from([bytes.subarray(0, MiB), bytes.subarray(MiB)]), { key });
    expect(fault.hits).toBe(1);
    expect((await stored(key)).equals(bytes)).toBe(true);
  });

  it('should throw S3 status and store nothing when S3 keeps failing', async () => {
    s3.injectFault({ method: 'PUT', keyPrefix: 'down/', status: 503 });
    const failed = await store
      .write(Readable.from([randomBytes(1000)]), { key: 'down/a.bin' })
      .catch((err: unknown) => err);
    expect(s3StatusOf(failed)).toBe(503);
    s3.clearFaults();
    expect(await keysUnder('down/')).toEqual([]);
  });

  it('should copy only while the source has the ETag asked for', async () => {
    const first = await store.put('copy/src.txt', Buffer.from('first'), 'text/plain');
    await store.put('copy/src.txt', Buffer.from('second'), 'text/plain');
    const stale = await store
      .copy('copy/src.txt', 'copy/dst.txt', { ifMatch: first.etag! })
      .catch((err: unknown) => err);
    expect(s3StatusOf(stale)).toBe(412);
    expect(await store.head('copy/dst.txt')).toBeNull();

    const current = await store.head('copy/src.txt');
    await store.copy('copy/src.txt', 'copy/dst.txt', { ifMatch: current!.etag! });
    expect((await stored('copy/dst.txt')).toString()).toBe('second');
    const missing = await store.copy('copy/none', 'copy/x').catch((err: unknown) => err);
    expect(s3StatusOf(missing)).toBe(404);
  });

  it('should delete one key or many, what is not there included', async () => {
    await store.put('del/a', Buffer.from('a'), 'text/plain');
    await store.put('del/b', Buffer.from('b'), 'text/plain');
    await store.put('del/c', Buffer.from('c'), 'text/plain');
    await store.delete('del/a');
    await store.delete('del/never');
    await store.deleteMany(['del/b', 'del/c', 'del/never']);
    expect(await keysUnder('del/')).toEqual([]);
  });

  it('should answer the bucket check, and fail it for a bucket that is not there', async () => {
    await expect(store.checkBucket()).resolves.toBeUndefined();
    const credentials = await SigningCredentials.load(s3CredentialProvider(s3.settings));
    const elsewhere = new ObjectStore({ ...s3.settings, bucket: 'no-such-bucket' }, credentials);
    await expect(elsewhere.checkBucket()).rejects.toThrow();
    elsewhere.close();
  });
});
