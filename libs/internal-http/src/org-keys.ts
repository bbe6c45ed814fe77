import { parseObjectKey, type ServicePrincipal } from '@lib/contracts';
import { ServiceAuthFailure, ServiceCallForbiddenException } from './service-tokens';

/**
 * 403 unless every key is an object key of the principal's org (its first segment the org's key): bytes are
 * written, copied and removed only for the org a call acts for.
 */
export function assertKeysOfOrg(principal: ServicePrincipal, keys: readonly string[]): void {
  for (const key of keys) {
    if (parseObjectKey(key)?.orgKey !== principal.orgKey) {
      throw new ServiceCallForbiddenException(
        ServiceAuthFailure.OutsideOrg,
        `${JSON.stringify(key.slice(0, 80))} is not an object key of org ${principal.orgKey}`,
      );
    }
  }
}
