import {
  type CanActivate,
  createParamDecorator,
  type DynamicModule,
  type ExecutionContext,
  Injectable,
  Module,
  SetMetadata,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { configSection, InvalidEnvironmentError, PlatformConfig } from '@lib/config';
import type { ServicePrincipal } from '@lib/contracts';
import type { ServiceName } from './service-keys';
import {
  ServiceAuthFailure,
  ServiceCallForbiddenException,
  ServiceTokenRefusedException,
  ServiceTokens,
} from './service-tokens';

/** Every route under this prefix is internal: it answers only the apps its `@CalledBy` names. */
export const INTERNAL_PREFIX = '/internal/';

const CALLED_BY_KEY = 'internal:called-by';

/**
 * The apps that may call an internal route (on its controller or the handler): any other app's token gets
 * 403. Every route under `/internal/` needs it; the guard refuses a route without it with a 500.
 */
export const CalledBy = (...callers: [ServiceName, ...ServiceName[]]) =>
  SetMetadata(CALLED_BY_KEY, callers);

/** Who called, as their verified service token says. */
export interface InternalCall {
  caller: ServiceName;
  /** The org and user the call acts for; null when it acts for none. */
  principal: ServicePrincipal | null;
}

interface InternalRequest {
  headers: Record<string, string | string[] | undefined>;
  routeOptions?: { url?: string };
  internalCall?: InternalCall;
}

/**
 * The principal of a call, which a route that reads or changes an org's data requires: a call acting for no
 * org is refused (403), never answered for every org.
 */
export function principalOf(call: InternalCall): ServicePrincipal {
  if (!call.principal) {
    throw new ServiceCallForbiddenException(
      ServiceAuthFailure.MissingPrincipal,
      'This call acts for no org: its service token must name the org it acts for',
    );
  }
  return call.principal;
}

/** `@OnBehalfOf()`: the principal of the call (403 when its token names none). */
export const OnBehalfOf = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ServicePrincipal =>
    principalOf(internalCallOf(context)),
);

/** `@InternalCaller()`: the verified caller of an internal route and its principal, if any. */
export const InternalCaller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): InternalCall => internalCallOf(context),
);

function internalCallOf(context: ExecutionContext): InternalCall {
  const call = context.switchToHttp().getRequest<InternalRequest>().internalCall;
  if (!call)
    throw new Error('the principal of an internal call is read on an /internal/ route only');
  return call;
}

/**
 * Guards every `/internal/...` route of the app: a service token of an app the route's `@CalledBy` names,
 * signed for this app and alive (else 401 or 403, with `details.reason`), whose caller and principal it puts
 * on the request. Other routes (health, metrics, webhooks) pass untouched.
 */
@Injectable()
export class ServiceAuthGuard implements CanActivate {
  /** Callers by controller class and handler: read once, the metadata is fixed at startup. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- Nest's handler and class types
  private readonly callers = new WeakMap<Function, WeakMap<Function, readonly ServiceName[]>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: ServiceTokens,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<InternalRequest>();
    const route = request.routeOptions?.url ?? '';
    if (!route.startsWith(INTERNAL_PREFIX)) return true;
    const callers = this.callersOf(context);
    const claims = this.tokens.verify(bearerToken(request.headers.authorization));
    if (!callers.includes(claims.iss)) {
      throw new ServiceCallForbiddenException(
        ServiceAuthFailure.CallerNotAllowed,
        `${this.tokens.service} does not answer ${claims.iss} on ${route}`,
      );
    }
    request.internalCall = { caller: claims.iss, principal: claims.principal ?? null };
    return true;
  }

  private callersOf(context: ExecutionContext): readonly ServiceName[] {
    const [handler, controller] = [context.getHandler(), context.getClass()];
    let byHandler = this.callers.get(controller);
    if (!byHandler) this.callers.set(controller, (byHandler = new WeakMap()));
    let callers = byHandler.get(handler);
    if (!callers) {
      callers = this.reflector.getAllAndOverride<ServiceName[] | undefined>(CALLED_BY_KEY, [
        handler,
        controller,
      ]);
      if (!callers) {
        // A programming error: fail loudly instead of answering whoever calls.
        throw new Error(
          `${controller.name}.${handler.name}: an /internal/ route needs @CalledBy(...)`,
        );
      }
      byHandler.set(handler, callers);
    }
    return callers;
  }
}

function bearerToken(header: string | string[] | undefined): string {
  const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/.exec(header) : null;
  if (!match) {
    throw new ServiceTokenRefusedException(
      ServiceAuthFailure.MissingToken,
      'Internal routes need `Authorization: Bearer <service token>` of a platform app',
    );
  }
  return match[1];
}

/**
 * `ServiceTokens` of the app (global) from its `serviceTokens` config (`WithServiceTokens`), and the guard of its internal
 * routes. Keys that do not fit together (this app's public key not listed) stop the app at boot.
 */
@Module({})
export class ServiceTokensModule {
  static forApp(service: ServiceName): DynamicModule {
    return {
      module: ServiceTokensModule,
      global: true,
      providers: [
        {
          provide: ServiceTokens,
          inject: [PlatformConfig],
          useFactory: (config: PlatformConfig) => {
            const { privateKey, publicKeys } = configSection(config, 'serviceTokens');
            try {
              return ServiceTokens.fromEnv(service, {
                SERVICE_TOKEN_PRIVATE_KEY: privateKey,
                SERVICE_TOKEN_PUBLIC_KEYS: publicKeys,
              });
            } catch (err) {
              throw new InvalidEnvironmentError([(err as Error).message]);
            }
          },
        },
        { provide: APP_GUARD, useClass: ServiceAuthGuard },
      ],
      exports: [ServiceTokens],
    };
  }
}
