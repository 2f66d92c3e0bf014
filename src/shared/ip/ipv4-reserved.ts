/**
 * The IPv4 space that is no unicast host address on a network (RFC 6890):
 * "this network" 0.0.0.0/8, loopback 127.0.0.0/8, link-local 169.254.0.0/16,
 * multicast 224.0.0.0/4 and 240.0.0.0/4 (which holds the limited broadcast
 * 255.255.255.255). One list for every reader that must refuse such an
 * address: the CLC's ROUTED pool and peer checks (config/routed.ts), the
 * document's BGP peer check (gni/routed.ts checkNodeBgp), netd's sanitize
 * (public IPs, the CLC address: isUnicastHost) and netd's ROUTED checks
 * (routed-checks.ts: a routed or elastic address, a pool entry).
 *
 * 169.254.0.0/16 matters twice in ROUTED: it is the instance-side link (the
 * gateway 169.254.0.1, the metadata address 169.254.169.254), so a routed
 * /32 there would take one of them over.
 */
import type { IpRange, Ipv4 } from './ipv4.ts';
import { cidrRange } from './ipv4.ts';

export interface ReservedIpv4Block {
  readonly range: IpRange;
  /** For people: the block and its name. */
  readonly what: string;
}

export const IPV4_RESERVED: readonly ReservedIpv4Block[] = [
  { range: cidrRange({ network: 0x00000000, prefix: 8 }), what: '"this network" 0.0.0.0/8' },
  { range: cidrRange({ network: 0x7f000000, prefix: 8 }), what: 'loopback 127.0.0.0/8' },
  { range: cidrRange({ network: 0xa9fe0000, prefix: 16 }), what: 'link-local 169.254.0.0/16 (the instance-side link)' },
  { range: cidrRange({ network: 0xe0000000, prefix: 4 }), what: 'multicast 224.0.0.0/4' },
  { range: cidrRange({ network: 0xf0000000, prefix: 4 }), what: 'reserved 240.0.0.0/4' },
];

/** The reserved block `range` touches (its `what`), or undefined. */
export function ipv4RangeReserved(range: IpRange): string | undefined {
  return IPV4_RESERVED.find((r) => r.range.lo <= range.hi && range.lo <= r.range.hi)?.what;
}

/** The reserved block holding `ip` (its `what`), or undefined. */
export function ipv4Reserved(ip: Ipv4): string | undefined {
  return ipv4RangeReserved({ lo: ip, hi: ip });
}

/** A unicast host address on a network: in none of IPV4_RESERVED. */
export function isRoutableUnicastIpv4(ip: Ipv4): boolean {
  return ipv4Reserved(ip) === undefined;
}
