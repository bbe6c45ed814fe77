import { CommonErrorCode, DomainException } from '@lib/errors';

export class UploadTooLargeException extends DomainException {
  constructor(maxBytes: number) {
    super(413, CommonErrorCode.PayloadTooLarge, `the file is larger than ${maxBytes} bytes`);
  }
}

export class UploadInterruptedException extends DomainException {
  constructor() {
    super(400, 'UPLOAD_INTERRUPTED', 'the upload ended before its body was complete');
  }
}
