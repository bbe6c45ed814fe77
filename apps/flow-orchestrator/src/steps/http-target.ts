import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { StepFailedError } from './step';

// Networks an `http` step may not reach unless allowed (HTTP_STEP_ALLOW_PRIVATE_NETWORKS): loopback,
// private, link-local (cloud metadata) and unique-local ranges, where the platform's own services live.
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::1', 128],
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is the IPv4 address it maps.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Refuses an `http` step URL whose host resolves to a private address: a workflow definition comes from a
 * tenant, and must not make the platform call its own internal services (SSRF). The check resolves the
 * name once; `allowPrivate` (local runs and tests) skips it.
 */
export async function assertReachableTarget(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  const blocked = addresses.find(isPrivateAddress);
  if (blocked !== undefined) {
    throw new StepFailedError(
      `http step: ${host} resolves to the private address ${blocked}, which steps may not call`,
    );
  }
}
