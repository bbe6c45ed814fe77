import { DomainException } from '@lib/errors';
import type { ObjectState } from '@lib/contracts';

export const ObjectsErrorCode = {
  ObjectNotFound: 'OBJECT_NOT_FOUND',
  ObjectNotUploaded: 'OBJECT_NOT_UPLOADED',
  ObjectNotUploading: 'OBJECT_NOT_UPLOADING',
  ObjectDeleted: 'OBJECT_DELETED',
  ObjectTooLarge: 'OBJECT_TOO_LARGE',
} as const;

export class ObjectNotFoundException extends DomainException {
  constructor(id: string) {
    // Another org's object answers the same 404, so ids cannot be probed.
    super(404, ObjectsErrorCode.ObjectNotFound, `object ${id} not found`);
  }
}

/** complete before any bytes reached `upload_url`: the client's mistake, nothing changes. */
export class ObjectNotUploadedException extends DomainException {
  constructor(id: string) {
    super(
      400,
      ObjectsErrorCode.ObjectNotUploaded,
      `object ${id} has no content yet: PUT the bytes to its upload_url, then complete it`,
    );
  }
}

/** The Objects API: complete answers 409 when the object is not UPLOADING. */
export class ObjectNotUploadingException extends DomainException {
  constructor(id: string, state: ObjectState) {
    super(
      409,
      ObjectsErrorCode.ObjectNotUploading,
      `object ${id} is ${state}, not UPLOADING: only an uploading object can be completed`,
    );
  }
}

/** The Objects API: a download URL of a DELETED object is a 400. */
export class ObjectDeletedException extends DomainException {
  constructor(id: string, what: string) {
    super(400, ObjectsErrorCode.ObjectDeleted, `object ${id} is DELETED: cannot ${what}`);
  }
}

/** complete of an upload larger than any object may be (`OBJECT_MAX_BYTES`): its bytes were removed. */
export class ObjectTooLargeException extends DomainException {
  constructor(id: string, maxBytes: number) {
    super(
      413,
      ObjectsErrorCode.ObjectTooLarge,
      `object ${id}: the upload is larger than ${maxBytes} bytes, the most an object may hold; ` +
        'it was removed: PUT smaller bytes to its upload_url, then complete it',
    );
  }
}
