import { DomainException } from '@lib/errors';

export const BytesErrorCode = {
  BytesNotFound: 'BYTES_NOT_FOUND',
} as const;

export class BytesNotFoundException extends DomainException {
  constructor(key: string) {
    super(404, BytesErrorCode.BytesNotFound, `no bytes stored under ${key}`);
  }
}
