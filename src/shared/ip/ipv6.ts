/**
 * IPv6 address and prefix arithmetic: RFC 4291 §2.2 text in, RFC 5952 text out.
 *
 * Model: an address is an unsigned 128-bit integer (0 .. 2^128-1) held in a
 * bigint; a prefix is `{network, prefix}` like the IPv4 `Cidr`. Pure and
 * total: parsers return `undefined` on bad input.
 *
 * Accepted text (RFC 4291 §2.2): eight groups of 1–4 hex digits, any case;
 * one `::` standing for one or more zero groups; the last 32 bits may be a
 * dotted quad (`::ffff:192.0.2.1`, `64:ff9b::1.2.3.4`) whose octets follow
 * the IPv4 parser (no leading zeros). Refused: groups of 5+ digits (even
 * `00001`: inet_pton refuses them too), a second `::`, a `::` that stands for
 * nothing, whitespace, and zone ids (`fe80::1%eth0`): a zone names an
 * interface of one host, which is configuration, not an address value; a
 * caller that meets one strips it before parsing and keeps it beside the value.
 *
 * Output (RFC 5952 §4): lowercase, no leading zeros, the longest run of two
 * or more zero groups compressed to `::` (the leftmost on a tie), and the
 * IPv4-mapped range ::ffff:0:0/96 in mixed notation (§5). That is exactly what
 * glibc's inet_ntop, and so `ip`, ip6tables-save and ipset, print, so a
 * rendered address and its kernel echo compare equal as text. The one
 * difference: inet_ntop also prints the deprecated IPv4-compatible ::a.b.c.d
 * form in mixed notation; we print it in hex (RFC 5952 §5 recommends mixed
 * notation only for well-known embedding prefixes).
 */
import { formatIp, parseIp } from './ipv4.ts';

export type Ipv6 = bigint;

export interface Cidr6 {
  readonly network: Ipv6;
  readonly prefix: number;
}

export const IPV6_MAX: Ipv6 = (1n << 128n) - 1n;

/** Longest valid text: six full groups and a dotted quad. */
const MAX_TEXT = 45;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses RFC 4291 text (see the header for what is refused). One pass over char codes. */
export function parseIpv6(text: string): Ipv6 | undefined {
  const len = text.length;
  if (len < 2 || len > MAX_TEXT) return undefined;
  const groups: number[] = [];
  let gap = -1; // index in `groups` where `::` stands
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return undefined; // a lone leading ':'
    gap = 0;
    i = 2;
  }
  while (i < len) {
    const start = i;
    let value = 0;
    for (let h = hexValue(text.charCodeAt(i)); h >= 0 && i < len; h = hexValue(text.charCodeAt(++i))) value = value * 16 + h;
    if (i < len && text.charCodeAt(i) === 46) {
      // Dotted quad: the rest of the text is the last 32 bits.
      if (groups.length > 6) return undefined;
      const v4 = parseIp(text.slice(start));
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4) return undefined;
    groups.push(value);
    if (i === len) break;
    if (text.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i === len) return undefined; // a trailing single ':'
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined; // a second '::'
      gap = groups.length;
      i++;
    }
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return undefined;
  const full = gap < 0 ? groups : [...groups.slice(0, gap), ...new Array<number>(8 - groups.length).fill(0), ...groups.slice(gap)];
  return fromGroups(full);
}

/** Eight 16-bit groups → value (32-bit words as numbers first: four bigint steps, not eight). */
function fromGroups(g: readonly number[]): Ipv6 {
  const w = (k: number) => BigInt((g[2 * k] as number) * 0x10000 + (g[2 * k + 1] as number));
  return (w(0) << 96n) | (w(1) << 64n) | (w(2) << 32n) | w(3);
}

/** Value → eight 16-bit groups, most significant first. */
export function ipv6Groups(v: Ipv6): number[] {
  const out: number[] = [];
  for (let shift = 96n; shift >= 0n; shift -= 32n) {
    const word = Number(BigInt.asUintN(32, v >> shift));
    out.push(Math.floor(word / 0x10000), word & 0xffff);
  }
  return out;
}

/** RFC 5952 canonical text. */
export function formatIpv6(v: Ipv6): string {
  const g = ipv6Groups(v);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIp(Number(BigInt.asUintN(32, v)))}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed (RFC 5952 §4.2.2)
  for (let s = 0; s < 8; ) {
    if (g[s] !== 0) {
      s++;
      continue;
    }
    let e = s;
    while (e < 8 && g[e] === 0) e++;
    if (e - s > bestLen) {
      bestStart = s;
      bestLen = e - s;
    }
    s = e;
  }
  const hex = (list: number[]) => list.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** The mask for a prefix length (0..128). */
export function prefixToMask6(prefix: number): Ipv6 {
  if (prefix <= 0) return 0n;
  if (prefix >= 128) return IPV6_MAX;
  return (IPV6_MAX << BigInt(128 - prefix)) & IPV6_MAX;
}

const PREFIX6 = /^(?:12[0-8]|1[01]\d|[1-9]?\d)$/;

/** Parses "addr/n" (n 0..128, no leading zeros); the address need not be aligned. */
export function parseCidr6(text: string): Cidr6 | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const network = parseIpv6(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (network === undefined || !PREFIX6.test(prefixText)) return undefined;
  return { network, prefix: Number(prefixText) };
}

export function formatCidr6(cidr: Cidr6): string {
  return `${formatIpv6(cidr.network)}/${cidr.prefix}`;
}

export function isAligned6(cidr: Cidr6): boolean {
  return (cidr.network & prefixToMask6(cidr.prefix)) === cidr.network;
}

export function cidrContains6(cidr: Cidr6, ip: Ipv6): boolean {
  const mask = prefixToMask6(cidr.prefix);
  return (ip & mask) === (cidr.network & mask);
}
