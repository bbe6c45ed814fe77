import { isPublicAddress } from './http-target';

// Every refused range with its first and last address (and telling addresses inside), then the public
// addresses right next to the ranges that border public space.
const REFUSED: [range: string, addresses: string[]][] = [
  ['0.0.0.0/8 "this network"', ['0.0.0.0', '0.255.255.255']],
  ['10.0.0.0/8 private', ['10.0.0.0', '10.255.255.255']],
  ['100.64.0.0/10 carrier-grade NAT', ['100.64.0.0', '100.127.255.255']],
  ['127.0.0.0/8 loopback', ['127.0.0.0', '127.0.0.1', '127.255.255.255']],
  ['169.254.0.0/16 link-local', ['169.254.0.0', '169.254.169.254', '169.254.255.255']],
  ['172.16.0.0/12 private', ['172.16.0.0', '172.31.255.255']],
  ['192.0.0.0/24 IETF protocol assignments', ['192.0.0.0', '192.0.0.9', '192.0.0.255']],
  ['192.0.2.0/24 TEST-NET-1', ['192.0.2.0', '192.0.2.255']],
  ['192.31.196.0/24 AS112', ['192.31.196.0', '192.31.196.255']],
  ['192.52.193.0/24 AMT', ['192.52.193.0', '192.52.193.255']],
  ['192.88.99.0/24 6to4 relay anycast', ['192.88.99.0', '192.88.99.255']],
  ['192.168.0.0/16 private', ['192.168.0.0', '192.168.255.255']],
  ['192.175.48.0/24 direct delegation AS112', ['192.175.48.0', '192.175.48.255']],
  ['198.18.0.0/15 benchmarking', ['198.18.0.0', '198.19.255.255']],
  ['198.51.100.0/24 TEST-NET-2', ['198.51.100.0', '198.51.100.255']],
  ['203.0.113.0/24 TEST-NET-3', ['203.0.113.0', '203.0.113.255']],
  ['224.0.0.0/4 multicast', ['224.0.0.0', '239.255.255.255']],
  ['240.0.0.0/4 reserved', ['240.0.0.0', '254.255.255.255']],
  ['255.255.255.255 limited broadcast', ['255.255.255.255']],
  ['::/128 unspecified', ['::']],
  ['::1/128 loopback', ['::1']],
  [
    '::ffff:0:0/96 IPv4-mapped',
    ['::ffff:0.0.0.0', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:8.8.8.8', '::ffff:ffff:ffff'],
  ],
  ['::/96 IPv4-compatible', ['::0.0.0.2', '::7f00:1', '::127.0.0.1', '::a00:1', '::ffff']],
  ['::ffff:0:0:0/96 IPv4-translated', ['::ffff:0:0:0', '::ffff:0:7f00:1', '::ffff:0:ffff:ffff']],
  [
    '64:ff9b::/96 NAT64',
    ['64:ff9b::', '64:ff9b::127.0.0.1', '64:ff9b::8.8.8.8', '64:ff9b::ffff:ffff'],
  ],
  ['64:ff9b:1::/48 local-use NAT64', ['64:ff9b:1::', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff']],
  ['100::/64 discard-only', ['100::', '100::ffff:ffff:ffff:ffff']],
  ['100:0:0:1::/64 dummy prefix', ['100:0:0:1::', '100::1:ffff:ffff:ffff:ffff']],
  ['2001::/23 IETF protocol assignments', ['2001::', '2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff']],
  [
    '2001::/32 Teredo',
    ['2001::', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff'],
  ],
  ['2001:2::/48 benchmarking', ['2001:2::', '2001:2:0:ffff:ffff:ffff:ffff:ffff']],
  ['2001:10::/28 ORCHID', ['2001:10::', '2001:1f:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['2001:20::/28 ORCHIDv2', ['2001:20::', '2001:2f:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['2001:db8::/32 documentation', ['2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff']],
  [
    '2002::/16 6to4',
    [
      '2002::',
      '2002:7f00:1::',
      '2002:a00:1::1',
      '2002:808:808::',
      '2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ],
  ],
  [
    '2620:4f:8000::/48 direct delegation AS112',
    ['2620:4f:8000::', '2620:4f:8000:ffff:ffff:ffff:ffff:ffff'],
  ],
  ['3fff::/20 documentation', ['3fff::', '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['5f00::/16 SRv6 SIDs', ['5f00::', '5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['fc00::/7 unique-local', ['fc00::', 'fd00::1', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['fe80::/10 link-local', ['fe80::', 'fe80::1', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['fec0::/10 site-local', ['fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['ff00::/8 multicast', ['ff00::', 'ff02::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  [
    'reserved IPv6 space around global unicast 2000::/3',
    ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '4000::', 'e000::'],
  ],
  ['scoped addresses', ['fe80::1%eth0', '2606:4700:4700::1111%1']],
  ['what is not an IP address', ['', 'localhost', 'example.com', '127.1', '0x7f000001', '[::1]']],
];

const PUBLIC: [nextTo: string, addresses: string[]][] = [
  ['0.0.0.0/8', ['1.0.0.0']],
  ['10.0.0.0/8', ['9.255.255.255', '11.0.0.0']],
  ['100.64.0.0/10', ['100.63.255.255', '100.128.0.0']],
  ['127.0.0.0/8', ['126.255.255.255', '128.0.0.0']],
  ['169.254.0.0/16', ['169.253.255.255', '169.255.0.0']],
  ['172.16.0.0/12', ['172.15.255.255', '172.32.0.0']],
  ['192.0.0.0/24 and 192.0.2.0/24', ['191.255.255.255', '192.0.1.0', '192.0.1.255', '192.0.3.0']],
  ['192.31.196.0/24', ['192.31.195.255', '192.31.197.0']],
  ['192.52.193.0/24', ['192.52.192.255', '192.52.194.0']],
  ['192.88.99.0/24', ['192.88.98.255', '192.88.100.0']],
  ['192.168.0.0/16', ['192.167.255.255', '192.169.0.0']],
  ['192.175.48.0/24', ['192.175.47.255', '192.175.49.0']],
  ['198.18.0.0/15', ['198.17.255.255', '198.20.0.0']],
  ['198.51.100.0/24', ['198.51.99.255', '198.51.101.0']],
  ['203.0.113.0/24', ['203.0.112.255', '203.0.114.0']],
  ['224.0.0.0/4', ['223.255.255.255']],
  ['2000::/3 global unicast, its ends', ['2000::', '3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['2001::/23', ['2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2001:200::']],
  ['2001:db8::/32', ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db9::']],
  ['2002::/16', ['2003::']],
  ['2620:4f:8000::/48', ['2620:4f:7fff:ffff:ffff:ffff:ffff:ffff', '2620:4f:8001::']],
  ['3fff::/20', ['3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '3fff:1000::']],
  ['nothing: well-known public resolvers', ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']],
];

describe('isPublicAddress', () => {
  describe.each(REFUSED)('should refuse %s', (_, addresses) => {
    it.each(addresses)('%s', (address) => expect(isPublicAddress(address)).toBe(false));
  });

  describe.each(PUBLIC)('should let through the public addresses next to %s', (_, addresses) => {
    it.each(addresses)('%s', (address) => expect(isPublicAddress(address)).toBe(true));
  });
});
