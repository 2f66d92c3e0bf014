/**
 * What netd accepts as the IPv6 data of a document (issue 14), one place for
 * sanitize (which refuses with named codes) and the render context (which
 * re-checks, so a document rendered without sanitize cannot widen anything):
 *
 * - a cluster prefix is an aligned /64 (SLAAC fills exactly 64 bits of
 *   interface id) of global unicast (2000::/3) or unique local (fc00::/7)
 *   space, and not fd00:ec2::/64 (the metadata address's prefix, which netd
 *   intercepts); the CLC's property validation
 *   (cloud-controller/config/ipv6.ts) refuses the same prefixes;
 * - a name server, the CLC's address and METADATA_IPV6 are unicast: not ::,
 *   ::1, multicast, link-local (a zone is per host; each node's bridge is its
 *   own link) or IPv4-mapped — the CLC's rule for name servers;
 * - an instance's address is the EUI-64 SLAAC address of its MAC inside its
 *   cluster's prefix: the address the instance takes by itself from the
 *   router advertisement, so anti-spoofing admits exactly that address.
 *
 * Pure; addresses come back in RFC 5952 text (what ip6tables-save and ipset
 * print), so rendered values and their kernel echo compare equal.
 */
import type { Cidr6, Ipv6 } from '../../shared/ip.ts';
import {
  IPV6_IPV4_MAPPED, IPV6_LINK_LOCAL, IPV6_MULTICAST, cidrContains6, formatCidr6, formatIpv6, isAligned6, isInstancePrefixSpace, parseCidr6, parseIpv6, slaacAddress,
} from '../../shared/ip.ts';
import { IPV6_METADATA_PREFIX } from '../../shared/gni/ipv6.ts';

const METADATA_PREFIX = parseCidr6(IPV6_METADATA_PREFIX) as Cidr6;

/** A unicast host address: not ::, ::1, multicast, link-local or IPv4-mapped. */
export function isUnicastIpv6(ip: Ipv6): boolean {
  return ip > 1n && !cidrContains6(IPV6_MULTICAST, ip) && !cidrContains6(IPV6_LINK_LOCAL, ip) && !cidrContains6(IPV6_IPV4_MAPPED, ip);
}

/** The canonical text of a unicast IPv6 address, or undefined. */
export function unicastIpv6(text: string): string | undefined {
  const ip = parseIpv6(text);
  return ip === undefined || !isUnicastIpv6(ip) ? undefined : formatIpv6(ip);
}

export type PrefixCheck = { readonly ok: true; readonly prefix: Cidr6; readonly text: string } | { readonly ok: false; readonly message: string };

/** A cluster's `prefix`: an aligned /64 of global unicast or ULA space. */
export function checkClusterPrefix(text: string): PrefixCheck {
  const c = parseCidr6(text);
  if (c === undefined) return { ok: false, message: `IPv6 prefix ${JSON.stringify(text)} does not parse` };
  if (c.prefix !== 64) return { ok: false, message: `IPv6 prefix ${text} is a /${c.prefix}; SLAAC needs exactly a /64` };
  if (!isAligned6(c)) return { ok: false, message: `IPv6 prefix ${text} has bits set past /64` };
  if (!isInstancePrefixSpace(c.network)) {
    return { ok: false, message: `IPv6 prefix ${text} is not global unicast (2000::/3) or unique local (fc00::/7)` };
  }
  if (cidrContains6(METADATA_PREFIX, c.network)) return { ok: false, message: `IPv6 prefix ${text} is the metadata prefix ${IPV6_METADATA_PREFIX}` };
  return { ok: true, prefix: c, text: formatCidr6(c) };
}

export type InstanceAddressCheck =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly reason: 'outside-prefix' | 'not-eui64'; readonly message: string };

/** An instance's `address`: inside `prefix` and the EUI-64 SLAAC address of `mac`. */
export function checkInstanceAddress(text: string, prefix: Cidr6 | undefined, mac: string | undefined): InstanceAddressCheck {
  const ip = parseIpv6(text);
  if (ip === undefined) return { ok: false, reason: 'not-eui64', message: `IPv6 address ${JSON.stringify(text)} does not parse` };
  if (prefix === undefined) return { ok: false, reason: 'outside-prefix', message: `IPv6 address ${text}: its cluster has no (valid) IPv6 prefix` };
  if (!cidrContains6(prefix, ip)) return { ok: false, reason: 'outside-prefix', message: `IPv6 address ${text} is outside its cluster prefix ${formatCidr6(prefix)}` };
  const want = mac === undefined || mac === '' ? undefined : slaacAddress(prefix, mac);
  if (want === undefined) return { ok: false, reason: 'not-eui64', message: `IPv6 address ${text}: the instance has no valid MAC to derive its EUI-64 address from` };
  if (want !== ip) return { ok: false, reason: 'not-eui64', message: `IPv6 address ${text} is not ${formatIpv6(want)}, the EUI-64 address of MAC ${mac as string}` };
  return { ok: true, address: formatIpv6(ip) };
}
