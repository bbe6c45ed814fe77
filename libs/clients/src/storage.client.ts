import type {
  BytesDeleted,
  CopyBytesCommand,
  DeleteKeysCommand,
  KeysDeleted,
  ObjectKeyQuery,
  ServicePrincipal,
  StoredBytes,
} from '@lib/contracts';
import { ServiceClient, type ServiceClientOptions } from '@lib/internal-http';

// A copy takes as long as S3 needs for the bytes: one PUT uploads up to 5 GB.
const COPY_TIMEOUT_MS = 10 * 60_000;

/**
 * storage, as object-metadata calls it: byte operations on keys of the org of each call's principal,
 * taking and answering the classes of `@lib/contracts` (storage's controller validates the same classes).
 */
export class StorageClient {
  constructor(private readonly http: ServiceClient) {}

  /** A client over a keep-alive pool to storage at `baseUrl`. */
  static connect(opts: Omit<ServiceClientOptions, 'name'>): StorageClient {
    return new StorageClient(new ServiceClient({ ...opts, name: 'storage' }));
  }

  /**
   * Copies the bytes under `from` to `to` inside S3; 404 when `from` is empty, 413 (`BYTES_TOO_LARGE`,
   * nothing copied) when they are more than `maxBytes`.
   */
  copyBytes(principal: ServicePrincipal, command: CopyBytesCommand): Promise<StoredBytes> {
    return this.http.call<StoredBytes>('POST', '/internal/bytes/copy', {
      principal,
      body: { from: command.from, to: command.to, maxBytes: command.maxBytes },
      timeoutMs: COPY_TIMEOUT_MS,
    });
  }

  /** Removes the bytes under one key (idempotent). */
  deleteBytes(principal: ServicePrincipal, query: ObjectKeyQuery): Promise<BytesDeleted> {
    return this.http.call<BytesDeleted>('DELETE', '/internal/bytes', {
      principal,
      query: { key: query.key },
    });
  }

  /** Removes the bytes under up to 1000 keys (one S3 DeleteObjects). */
  deleteKeys(principal: ServicePrincipal, command: DeleteKeysCommand): Promise<KeysDeleted> {
    return this.http.call<KeysDeleted>('POST', '/internal/bytes/delete', {
      principal,
      body: { keys: command.keys },
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
