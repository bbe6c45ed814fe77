/** Liveness/readiness probes and the Prometheus scrape: frequent, internal, not user traffic. */
export function isOpsPath(path: string): boolean {
  return path.startsWith('/health/') || path === '/metrics' || path.startsWith('/metrics?');
}
