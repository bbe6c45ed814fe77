import { DomainException } from '@lib/errors';

export const BytesErrorCode = {
  BytesNotFound: 'BYTES_NOT_FOUND',
  BytesTooLarge: 'BYTES_TOO_LARGE',
  BytesChanged: 'BYTES_CHANGED',
} as const;

export class BytesNotFoundException extends DomainException {
  constructor(key: string) {
    super(404, BytesErrorCode.BytesNotFound, `no bytes stored under ${key}`);
  }
}

/** Bytes over the bound a copy was asked to keep to: nothing was copied. */
export class BytesTooLargeException extends DomainException {
  constructor(key: string, sizeBytes: number, maxBytes: number) {
    super(
      413,
      BytesErrorCode.BytesTooLarge,
      `${key} holds ${sizeBytes} bytes, more than ${maxBytes}`,
      {
        sizeBytes,
        maxBytes,
      },
    );
  }
}

/** The bytes under a key were replaced while they were being copied: nothing was copied. */
export class BytesChangedException extends DomainException {
  constructor(key: string) {
    super(409, BytesErrorCode.BytesChanged, `the bytes under ${key} changed during the copy`);
  }
}
