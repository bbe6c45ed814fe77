import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';

// Where an `http` step may connect: public unicast addresses only. A workflow definition comes from a
// tenant, and must not make the platform call its own services, its cloud's metadata endpoint or anything
// else its network reaches (SSRF). Refused: every range of IANA's IPv4 and IPv6 special-purpose address
// registries, multicast and reserved space, whatever the range's "globally reachable" column says.

/** IPv4 ranges refused (the rest of IPv4 is public unicast). */
const IPV4_REFUSED: [network: string, prefix: number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, where clouds serve instance metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (DS-Lite, PCP and TURN anycast, NAT64 discovery)
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.31.196.0', 24], // AS112
  ['192.52.193.0', 24], // AMT
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['192.175.48.0', 24], // direct delegation AS112
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the limited broadcast 255.255.255.255
];

/**
 * IPv6: only global unicast 2000::/3 is public. Outside it lies everything else: the unspecified address,
 * loopback, the IPv4-mapped, -compatible and -translated forms (::ffff:0:0/96, ::/96, ::ffff:0:0:0/96),
 * NAT64 (64:ff9b::/96, 64:ff9b:1::/48), discard-only and dummy prefixes (100::/64, 100:0:0:1::/64), SRv6
 * SIDs (5f00::/16), unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8,
 * and reserved space.
 */
const IPV6_GLOBAL_UNICAST: [network: string, prefix: number] = ['2000::', 3];

/** Special-purpose ranges inside global unicast, refused too. */
const IPV6_REFUSED: [network: string, prefix: number][] = [
  ['2001::', 23], // IETF protocol assignments: Teredo 2001::/32, benchmarking, AMT, AS112, ORCHIDv2, DRIP
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: traffic goes to the IPv4 address embedded in the next 32 bits
  ['2620:4f:8000::', 48], // direct delegation AS112
  ['3fff::', 20], // documentation
];

const refused = new BlockList();
for (const [network, prefix] of IPV4_REFUSED) refused.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6_REFUSED) refused.addSubnet(network, prefix, 'ipv6');
const globalUnicast = new BlockList();
globalUnicast.addSubnet(...IPV6_GLOBAL_UNICAST, 'ipv6');

/** Whether an `http` step may connect to `address` (an IP address; anything else is not). */
export function isPublicAddress(address: string): boolean {
  switch (isIP(address)) {
    case 4:
      return !refused.check(address, 'ipv4');
    case 6:
      // A zone index (`fe80::1%eth0`) scopes an address to one link: never public.
      return (
        !address.includes('%') &&
        globalUnicast.check(address, 'ipv6') &&
        !refused.check(address, 'ipv6')
      );
    default:
      return false;
  }
}

/** Resolves a target's host name to every address it has (`dns.lookup` in production). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true });

const notPublic = (address: string) => new Error(`${address} is not a public address`);

/**
 * The connector of the `http` step's HTTP client: it checks the address of every connection it opens, the
 * one the socket dials, at the moment it dials it. A host name is resolved by `resolve` inside the socket's
 * own lookup, so a name that answers a public address to an earlier check and a private one now (DNS
 * rebinding) is refused; an address literal, which sockets do not look up, is checked as it is. A name with
 * any non-public address is refused whole. `allowPrivateNetworks` lets every address through (local runs).
 */
export function targetConnector(opts: {
  resolve: Resolve;
  allowPrivateNetworks: boolean;
}): buildConnector.connector {
  const allowed = (address: string) => opts.allowPrivateNetworks || isPublicAddress(address);
  const lookup: LookupFunction = (hostname, options, callback) => {
    opts.resolve(hostname).then(
      (addresses) => {
        const bad = addresses.find((a) => !allowed(a.address));
        if (addresses.length === 0) callback(new Error(`${hostname} has no address`), '', 0);
        else if (bad) callback(notPublic(bad.address), '', 0);
        else if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
  const connect = buildConnector({ lookup });
  return (options, callback) => {
    if (isIP(options.hostname) && !allowed(options.hostname)) {
      const err = notPublic(options.hostname);
      queueMicrotask(() => callback(err, null));
      return;
    }
    connect(options, callback);
  };
}
