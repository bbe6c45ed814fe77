import { DomainException } from '@lib/errors';

/** WARNING: codes are part of the admin API; never rename one. */
export const IdentityErrorCode = {
  OrgNotFound: 'ORG_NOT_FOUND',
  UserNotFound: 'USER_NOT_FOUND',
  ApiKeyNotFound: 'API_KEY_NOT_FOUND',
  OrgKeyTaken: 'ORG_KEY_TAKEN',
  UserEmailTaken: 'USER_EMAIL_TAKEN',
  JwtIssuanceUnavailable: 'JWT_ISSUANCE_UNAVAILABLE',
} as const;
export type IdentityErrorCode = (typeof IdentityErrorCode)[keyof typeof IdentityErrorCode];

const STATUS: Record<IdentityErrorCode, number> = {
  ORG_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  ORG_KEY_TAKEN: 409,
  USER_EMAIL_TAKEN: 409,
  JWT_ISSUANCE_UNAVAILABLE: 400,
};

export class IdentityException extends DomainException {
  constructor(code: IdentityErrorCode, message: string) {
    super(STATUS[code], code, message);
  }
}
