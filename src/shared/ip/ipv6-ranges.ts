/**
 * The IPv6 address ranges edgenet's checks name (RFC 4291 §2.4, RFC 4193):
 * which space a cluster prefix may come from (global unicast or unique
 * local) and which addresses are no unicast host (multicast, link-local,
 * IPv4-mapped). The CLC's property checks and netd's sanitize both use them.
 */
import type { Cidr6, Ipv6 } from './ipv6.ts';
import { cidrContains6 } from './ipv6.ts';

export const IPV6_GLOBAL_UNICAST: Cidr6 = { network: 0x2n << 124n, prefix: 3 }; // 2000::/3
export const IPV6_UNIQUE_LOCAL: Cidr6 = { network: 0xfcn << 120n, prefix: 7 }; // fc00::/7
export const IPV6_LINK_LOCAL: Cidr6 = { network: 0xfe80n << 112n, prefix: 10 }; // fe80::/10
export const IPV6_MULTICAST: Cidr6 = { network: 0xffn << 120n, prefix: 8 }; // ff00::/8
export const IPV6_IPV4_MAPPED: Cidr6 = { network: 0xffffn << 32n, prefix: 96 }; // ::ffff:0:0/96

/** Global unicast or unique local: the space instance prefixes come from. */
export function isInstancePrefixSpace(ip: Ipv6): boolean {
  return cidrContains6(IPV6_GLOBAL_UNICAST, ip) || cidrContains6(IPV6_UNIQUE_LOCAL, ip);
}
