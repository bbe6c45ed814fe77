import { DomainException } from '@lib/errors';

export const FilesErrorCode = {
  InvalidObjectKey: 'INVALID_OBJECT_KEY',
  FileNotFound: 'FILE_NOT_FOUND',
  InvalidCursor: 'INVALID_CURSOR',
} as const;

export class InvalidObjectKeyException extends DomainException {
  constructor() {
    super(
      400,
      FilesErrorCode.InvalidObjectKey,
      'objectKey is not a valid object key (see the object key formats of GET /api/v1/objects/download)',
    );
  }
}

/** Deleted, expired, not uploaded yet or never existed: the same answer, so keys cannot be probed. */
export class FileNotFoundException extends DomainException {
  constructor() {
    super(404, FilesErrorCode.FileNotFound, 'no file is stored under this objectKey');
  }
}

export class InvalidCursorException extends DomainException {
  constructor() {
    super(400, FilesErrorCode.InvalidCursor, 'cursor is not a nextCursor of this listing');
  }
}
