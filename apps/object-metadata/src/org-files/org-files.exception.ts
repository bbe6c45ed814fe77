import {
  CommonErrorCode,
  ConflictException,
  DomainException,
  NotFoundException,
  ValidationFailedException,
} from '@lib/errors';

export class OrgPathNotFoundException extends NotFoundException {
  constructor(what: string, path: string) {
    super(`${what} '${path}' does not exist`);
  }
}

export class OrgPathIsFolderException extends ValidationFailedException {
  constructor(path: string) {
    super(`'${path}' is a folder, not a file`);
  }
}

export class OrgPathIsRootException extends ValidationFailedException {
  constructor(action: string) {
    super(`the root folder cannot be ${action}`);
  }
}

export class OrgNameTakenException extends ConflictException {
  constructor(path: string) {
    super(`'${path}' already exists`, 'PATH_EXISTS');
  }
}

export class OrgPreconditionFailedException extends DomainException {
  constructor(path: string) {
    super(
      412,
      CommonErrorCode.PreconditionFailed,
      `If-Match does not match the current ETag of '${path}'`,
    );
  }
}

export class OrgTreeChangedException extends ConflictException {
  constructor() {
    super('the folder was deleted or moved while this request ran; retry it', 'TREE_CHANGED');
  }
}
