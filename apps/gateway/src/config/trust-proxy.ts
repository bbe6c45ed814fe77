/** `TRUST_PROXY`: a hop count, or comma-separated IPv4/IPv6 addresses or CIDRs. */
export const TRUST_PROXY_PATTERN = /^(\d{1,2}|[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*)$/;

/** Fastify's `trustProxy` from `TRUST_PROXY` (undefined: trust no proxy). */
export function trustProxySetting(value: string | undefined): number | string | undefined {
  if (value === undefined || value.trim() === '' || !TRUST_PROXY_PATTERN.test(value.trim())) {
    return undefined;
  }
  const v = value.trim();
  return /^\d+$/.test(v) ? Number(v) : v;
}
