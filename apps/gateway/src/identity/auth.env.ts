import { MIN_HS256_SECRET_LENGTH } from '@lib/auth';
import { Transform } from 'class-transformer';
import {
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  MinLength,
  registerDecorator,
  Validate,
  ValidateIf,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';

type Ctor<T = object> = new (...args: any[]) => T; // eslint-disable-line @typescript-eslint/no-explicit-any

const emptyAsUnset = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** Unset, or a string of at least `constraints[0]` characters (`@IsOptional` would skip the siblings). */
@ValidatorConstraint({ name: 'optionalMinLength' })
class OptionalMinLength implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return (
      value === undefined ||
      (typeof value === 'string' && value.length >= Number(args.constraints[0]))
    );
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be at least ${String(args.constraints[0])} characters`;
  }
}

/** Exactly one of JWT_SECRET (HS256) and JWT_JWKS_URL (RS256) must be set. */
function ExactlyOneJwtKeySource() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'exactlyOneJwtKeySource',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (_value: unknown, args: ValidationArguments) => {
          const env = args.object as { JWT_SECRET?: string; JWT_JWKS_URL?: string };
          return Boolean(env.JWT_SECRET) !== Boolean(env.JWT_JWKS_URL);
        },
        defaultMessage: () =>
          'set exactly one of JWT_SECRET (HS256, local/dev) and JWT_JWKS_URL (RS256 via the IdP JWKS)',
      },
    });
}

/**
 * The gateway's authentication variables, as a fragment like `@lib/config`'s:
 * `class GatewayEnv extends WithAuth(WithRedis(WithDatabase(AppEnv))) {}`.
 */
export function WithAuth<B extends Ctor>(Base: B) {
  class AuthEnv extends Base {
    /** HS256 secret: local and dev tokens, and the admin/CLI token issuer. */
    @Transform(emptyAsUnset)
    @ExactlyOneJwtKeySource()
    @Validate(OptionalMinLength, [MIN_HS256_SECRET_LENGTH])
    JWT_SECRET?: string;

    /** JWKS of the production identity provider (RS256). */
    @Transform(emptyAsUnset)
    @ValidateIf((env: AuthEnv) => env.JWT_JWKS_URL !== undefined)
    @IsUrl(
      { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
      { message: 'JWT_JWKS_URL must be an http(s) URL' },
    )
    JWT_JWKS_URL?: string;

    /** When set, JWTs must carry this `iss`. */
    @Transform(emptyAsUnset)
    @IsOptional()
    @IsString()
    @IsNotEmpty()
    JWT_ISSUER?: string;

    /** When set, JWTs must carry this `aud`. */
    @Transform(emptyAsUnset)
    @IsOptional()
    @IsString()
    @IsNotEmpty()
    JWT_AUDIENCE?: string;

    /** `Authorization: Bearer <OPERATOR_TOKEN>` opens the /admin endpoints. */
    @IsString()
    @MinLength(32, { message: 'OPERATOR_TOKEN must be at least 32 characters' })
    OPERATOR_TOKEN!: string;
  }
  return AuthEnv;
}

/** What the identity module reads from the validated environment. */
export interface IdentityEnv {
  DATABASE_URL: string;
  DATABASE_CA_FILE?: string;
  DATABASE_POOL_SIZE?: number;
  REDIS_URL: string;
  JWT_SECRET?: string;
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  OPERATOR_TOKEN: string;
}
