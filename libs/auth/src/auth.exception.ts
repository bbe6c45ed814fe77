import { CommonErrorCode, DomainException } from '@lib/errors';

/**
 * Why authentication or authorization failed, in `details.reason` of the error body, so clients can react
 * (e.g. refresh an expired JWT) without parsing messages. WARNING: part of the API; never rename a value.
 */
export const AuthFailure = {
  MissingCredentials: 'missing_credentials',
  WrongScheme: 'wrong_scheme',
  MalformedToken: 'malformed_token',
  TokenExpired: 'token_expired',
  TokenNotYetValid: 'token_not_yet_valid',
  TokenLifetimeTooLong: 'token_lifetime_too_long',
  BadSignature: 'bad_signature',
  AlgorithmNotAllowed: 'algorithm_not_allowed',
  ClaimMismatch: 'claim_mismatch',
  UnknownKey: 'unknown_key',
  RevokedKey: 'revoked_key',
  WrongKeyKind: 'wrong_key_kind',
  UnknownUser: 'unknown_user',
  NotOperator: 'not_operator',
  InsufficientRole: 'insufficient_role',
  MissingCapability: 'missing_capability',
  OutsideWorkflowScope: 'outside_workflow_scope',
} as const;
export type AuthFailure = (typeof AuthFailure)[keyof typeof AuthFailure];

/** 401: the request carries no usable credentials for this route. */
export class AuthenticationFailedException extends DomainException {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(401, CommonErrorCode.Unauthorized, message, { reason });
  }
}

/** 403: the caller is known but may not do this. */
export class AccessDeniedException extends DomainException {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(403, CommonErrorCode.Forbidden, message, { reason });
  }
}
