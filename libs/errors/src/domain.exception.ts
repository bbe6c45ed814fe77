/**
 * Base of every error a service throws on purpose. It carries a stable machine-readable `code`, the HTTP
 * status it maps to, and a message meant for the API client. One filter (`HttpErrorFilter`) renders it.
 */
export class DomainException extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Codes shared by every surface; domains add their own (e.g. `OBJECT_NOT_UPLOADED`). */
export const CommonErrorCode = {
  ValidationFailed: 'VALIDATION_FAILED',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  TooManyRequests: 'TOO_MANY_REQUESTS',
  PreconditionFailed: 'PRECONDITION_FAILED',
  DependencyUnavailable: 'DEPENDENCY_UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;

export class ValidationFailedException extends DomainException {
  constructor(message: string, details?: FieldProblem[]) {
    super(400, CommonErrorCode.ValidationFailed, message, details);
  }
}

export class NotFoundException extends DomainException {
  constructor(message: string) {
    super(404, CommonErrorCode.NotFound, message);
  }
}

export class ConflictException extends DomainException {
  constructor(message: string, code: string = CommonErrorCode.Conflict) {
    super(409, code, message);
  }
}

export class UnauthorizedException extends DomainException {
  constructor(message: string) {
    super(401, CommonErrorCode.Unauthorized, message);
  }
}

export class ForbiddenException extends DomainException {
  constructor(message: string) {
    super(403, CommonErrorCode.Forbidden, message);
  }
}

/** A dependency (S3, Kafka, another service) failed in a way the client may retry. */
export class DependencyUnavailableException extends DomainException {
  constructor(message: string) {
    super(503, CommonErrorCode.DependencyUnavailable, message);
  }
}

export interface FieldProblem {
  field: string;
  problems: string[];
}
