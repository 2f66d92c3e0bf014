/**
 * IPv4 address, netmask, CIDR and range arithmetic.
 *
 * Model: an address is an unsigned 32-bit integer (0 .. 2^32-1) held in a JS
 * number; a range is an inclusive pair `[lo, hi]`. Every function here is pure
 * and total: parsers return `undefined` on bad input instead of throwing, so
 * validators can turn failures into diagnostics with their own codes.
 *
 * Used by config validation, IPAM, the GNI builder and netd's renderer; keep
 * it free of I/O. These are the hot paths (plain numbers, no allocation per
 * address); the family-tagged API in `address.ts` wraps them for code that
 * handles both families.
 */

export type Ipv4 = number;

export interface IpRange {
  readonly lo: Ipv4;
  readonly hi: Ipv4;
}

export interface Cidr {
  readonly network: Ipv4;
  readonly prefix: number;
}

/**
 * Parses a dotted quad ("10.0.0.1"); no leading zeros, no whitespace.
 * Hand-rolled (one pass over char codes, no split/regex): it is the hottest
 * function of config validation and GNI parsing.
 */
export function parseIp(text: string): Ipv4 | undefined {
  const len = text.length;
  if (len < 7 || len > 15) return undefined;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

export function formatIp(ip: Ipv4): string {
  return `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** The mask for a prefix length, as an unsigned integer. */
export function prefixToMask(prefix: number): Ipv4 {
  if (prefix <= 0) return 0;
  if (prefix >= 32) return 0xffffffff;
  return (0xffffffff << (32 - prefix)) >>> 0;
}

/** Prefix length of a contiguous netmask ("255.255.0.0" → 16); undefined if not contiguous. */
export function maskToPrefix(mask: Ipv4): number | undefined {
  const inverted = ~mask >>> 0;
  // A contiguous mask inverted is 2^k - 1: adding one makes it a power of two.
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  let prefix = 32;
  for (let v = inverted; v !== 0; v = v >>> 1) prefix -= 1;
  return prefix;
}

export function parseNetmask(text: string): number | undefined {
  const mask = parseIp(text);
  return mask === undefined ? undefined : maskToPrefix(mask);
}

/** Parses "a.b.c.d/n"; the address need not be aligned (see `isAligned`). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^(3[0-2]|[12]?\d)$/.test(prefixText)) return undefined;
  return { network: ip, prefix: Number(prefixText) };
}

export function isAligned(cidr: Cidr): boolean {
  return (cidr.network & prefixToMask(cidr.prefix)) >>> 0 === cidr.network;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.network)}/${cidr.prefix}`;
}

export function cidrRange(cidr: Cidr): IpRange {
  const mask = prefixToMask(cidr.prefix);
  const lo = (cidr.network & mask) >>> 0;
  return { lo, hi: (lo | (~mask >>> 0)) >>> 0 };
}

export function networkAddress(cidr: Cidr): Ipv4 {
  return cidrRange(cidr).lo;
}

export function broadcastAddress(cidr: Cidr): Ipv4 {
  return cidrRange(cidr).hi;
}

/** Usable host addresses of a subnet: network and broadcast excluded (for prefixes < 31). */
export function hostRange(cidr: Cidr): IpRange | undefined {
  const { lo, hi } = cidrRange(cidr);
  if (cidr.prefix >= 31) return { lo, hi };
  if (hi - lo < 2) return undefined;
  return { lo: lo + 1, hi: hi - 1 };
}

export function cidrContains(cidr: Cidr, ip: Ipv4): boolean {
  const mask = prefixToMask(cidr.prefix);
  return ((ip & mask) >>> 0) === ((cidr.network & mask) >>> 0);
}

/**
 * Parses an IP-list entry: a single address or "lo-hi" (whitespace around the
 * dash and the ends tolerated, as Eucalyptus did). Returns undefined on syntax
 * errors; a reversed range parses and is reported by `isReversed`.
 */
export function parseRangeEntry(text: string): IpRange | undefined {
  const trimmed = text.trim();
  const dash = trimmed.indexOf('-');
  if (dash < 0) {
    const ip = parseIp(trimmed);
    return ip === undefined ? undefined : { lo: ip, hi: ip };
  }
  const lo = parseIp(trimmed.slice(0, dash).trim());
  const hi = parseIp(trimmed.slice(dash + 1).trim());
  if (lo === undefined || hi === undefined) return undefined;
  return { lo, hi };
}

export function isReversed(range: IpRange): boolean {
  return range.lo > range.hi;
}

export function formatRange(range: IpRange): string {
  return range.lo === range.hi ? formatIp(range.lo) : `${formatIp(range.lo)}-${formatIp(range.hi)}`;
}

export function rangeSize(range: IpRange): number {
  return range.hi - range.lo + 1;
}

export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.lo <= b.hi && b.lo <= a.hi;
}

export function rangeContainsRange(outer: IpRange, inner: IpRange): boolean {
  return outer.lo <= inner.lo && inner.hi <= outer.hi;
}

export function rangeContains(range: IpRange, ip: Ipv4): boolean {
  return range.lo <= ip && ip <= range.hi;
}

/** Sorts and merges overlapping or adjacent ranges. */
export function normalizeRanges(ranges: readonly IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo || a.hi - b.hi);
  const out: { lo: number; hi: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ lo: r.lo, hi: r.hi });
  }
  return out;
}

/** Removes the given addresses from a set of ranges (splitting ranges around them). */
export function subtractAddresses(ranges: readonly IpRange[], remove: readonly Ipv4[]): IpRange[] {
  let current = normalizeRanges(ranges);
  for (const ip of remove) {
    const next: IpRange[] = [];
    for (const r of current) {
      if (!rangeContains(r, ip)) next.push(r);
      else {
        if (r.lo < ip) next.push({ lo: r.lo, hi: ip - 1 });
        if (ip < r.hi) next.push({ lo: ip + 1, hi: r.hi });
      }
    }
    current = next;
  }
  return current;
}

/** Total number of addresses in a list of (possibly overlapping) ranges. */
export function totalSize(ranges: readonly IpRange[]): number {
  return normalizeRanges(ranges).reduce((n, r) => n + rangeSize(r), 0);
}

/** Expands ranges to addresses; refuses more than `limit` addresses. */
export function expandRanges(ranges: readonly IpRange[], limit = 1 << 20): Ipv4[] {
  const out: Ipv4[] = [];
  for (const r of normalizeRanges(ranges)) {
    if (out.length + rangeSize(r) > limit) throw new RangeError(`range expansion exceeds ${limit} addresses`);
    for (let ip = r.lo; ip <= r.hi; ip++) out.push(ip);
  }
  return out;
}

/** Smallest list of CIDR blocks covering exactly the range (for ipset/iptables). */
export function rangeToCidrs(range: IpRange): Cidr[] {
  const out: Cidr[] = [];
  let lo = range.lo;
  while (lo <= range.hi) {
    let prefix = 32;
    // Grow the block while it stays aligned at `lo` and inside the range.
    while (prefix > 0) {
      const bigger = prefix - 1;
      const size = 2 ** (32 - bigger);
      if (lo % size !== 0 || lo + size - 1 > range.hi) break;
      prefix = bigger;
    }
    out.push({ network: lo, prefix });
    lo += 2 ** (32 - prefix);
  }
  return out;
}

export function compareIps(a: string, b: string): number {
  return (parseIp(a) ?? 0) - (parseIp(b) ?? 0);
}
