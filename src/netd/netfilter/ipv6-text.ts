/**
 * IPv6 addresses and prefixes in the form the kernel's tools print them back
 * (ip6tables-save, ebtables-save, ipset save; verified with iptables 1.8.9 and
 * ipset 7.17): RFC 5952 text (glibc inet_ntop: lower case, the longest run of
 * two or more zero groups compressed, a single zero group written `0`), and a
 * prefix's host bits cleared (`2001:db8::1/64` is listed as `2001:db8::/64`).
 * The writers put every IPv6 address through here, so `2001:db8:10::d20d:…`
 * from a renderer and the kernel's `2001:db8:10:0:d20d:…` compare equal and a
 * converged node writes nothing.
 */
import { formatIpv6, parseIpv6, prefixToMask6 } from '../../shared/ip.ts';
import { familyMismatch } from './rule.ts';

export interface Ipv6Text {
  /** The (network) address, RFC 5952. */
  readonly address: string;
  /** 128 for a bare address. */
  readonly prefix: number;
}

const PREFIX = /^(?:12[0-8]|1[01]\d|[1-9]?\d)$/;

/** `addr` or `addr/n` → the kernel's spelling; throws RULE_FAMILY_MISMATCH for anything that is not IPv6. */
export function canonicalIpv6(text: string, what: string): Ipv6Text {
  const slash = text.indexOf('/');
  const value = parseIpv6(slash < 0 ? text : text.slice(0, slash));
  const prefixText = slash < 0 ? '128' : text.slice(slash + 1);
  if (value === undefined || !PREFIX.test(prefixText)) throw familyMismatch(`${what}: ${text} is not an IPv6 address or prefix`);
  const prefix = Number(prefixText);
  return { address: formatIpv6(value & prefixToMask6(prefix)), prefix };
}

/** The kernel's spelling with the length always written (ip6tables `-s`/`-d`: `…/128`). */
export function ipv6WithPrefix(text: string, what: string): string {
  const c = canonicalIpv6(text, what);
  return `${c.address}/${c.prefix}`;
}

/** The kernel's spelling with a /128 bare (ebtables `--ip6-src`, ipset members). */
export function ipv6Bare128(text: string, what: string): string {
  const c = canonicalIpv6(text, what);
  return c.prefix === 128 ? c.address : `${c.address}/${c.prefix}`;
}

/** An IPv6 ipset member as `ipset save` lists it; undefined for text that is not IPv6 (left to the caller). */
export function canonicalIpv6Member(text: string): string | undefined {
  try {
    return ipv6Bare128(text, 'ipset member');
  } catch {
    return undefined;
  }
}
