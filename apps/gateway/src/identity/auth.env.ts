import {
  DEFAULT_JWT_MAX_LIFETIME_SECONDS,
  jwksUrlProblem,
  MAX_JWT_LIFETIME_SECONDS,
  MIN_HS256_SECRET_LENGTH,
} from '@lib/auth';
import { envTransforms } from '@lib/config';
import { Transform } from 'class-transformer';
import {
  IsInt,
  IsString,
  Max,
  Min,
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

/** A JWKS URL `jwksUrlProblem` accepts: https, or http to a loopback address. */
@ValidatorConstraint({ name: 'jwksUrl' })
class JwksUrl implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && jwksUrlProblem(value) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} ${jwksUrlProblem(String(args.value)) ?? ''}`;
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

    /** JWKS of the production identity provider (RS256): https (plain http only to a loopback address). */
    @Transform(emptyAsUnset)
    @ValidateIf((env: AuthEnv) => env.JWT_JWKS_URL !== undefined)
    @Validate(JwksUrl)
    JWT_JWKS_URL?: string;

    /** JWTs must carry this `iss`: required with JWT_JWKS_URL, checked when set with JWT_SECRET. */
    @Transform(emptyAsUnset)
    @ValidateIf((env: AuthEnv) => env.JWT_JWKS_URL !== undefined || env.JWT_ISSUER !== undefined)
    @IsString({ message: 'JWT_ISSUER is required with JWT_JWKS_URL' })
    JWT_ISSUER?: string;

    /** JWTs must carry this `aud`: required with JWT_JWKS_URL, checked when set with JWT_SECRET. */
    @Transform(emptyAsUnset)
    @ValidateIf((env: AuthEnv) => env.JWT_JWKS_URL !== undefined || env.JWT_AUDIENCE !== undefined)
    @IsString({ message: 'JWT_AUDIENCE is required with JWT_JWKS_URL' })
    JWT_AUDIENCE?: string;

    /** Longest life of a JWT (`exp - iat`, and `exp - now`); longer ones are refused with 401. */
    @Transform(envTransforms.toInt)
    @IsInt()
    @Min(60)
    @Max(MAX_JWT_LIFETIME_SECONDS)
    JWT_MAX_LIFETIME_SECONDS: number = DEFAULT_JWT_MAX_LIFETIME_SECONDS;

    /** `Authorization: Bearer <OPERATOR_TOKEN>` opens the /admin endpoints. */
    @IsString()
    @MinLength(32, { message: 'OPERATOR_TOKEN must be at least 32 characters' })
    OPERATOR_TOKEN!: string;
  }
  return AuthEnv;
}

/** What the identity module reads from the validated environment. */
/** The gateway's `auth` config: how JWTs are checked and issued, and the operator API's token. */
export function authConfig(env: InstanceType<ReturnType<typeof WithAuth>>) {
  return {
    /** What @lib/auth's `JwtVerifier.fromEnv` and `JwtIssuer.fromEnv` read. */
    jwt: {
      JWT_SECRET: env.JWT_SECRET,
      JWT_JWKS_URL: env.JWT_JWKS_URL,
      JWT_ISSUER: env.JWT_ISSUER,
      JWT_AUDIENCE: env.JWT_AUDIENCE,
      JWT_MAX_LIFETIME_SECONDS: env.JWT_MAX_LIFETIME_SECONDS,
    },
    operatorToken: env.OPERATOR_TOKEN,
  };
}
