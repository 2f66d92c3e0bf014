/**
 * Address ranges and pools for both families (public-IP pools, IPAM, ipset
 * members): a range is an inclusive `[lo, hi]` of one family, a pool is a
 * list of ranges.
 *
 * Written once on bigints (an IPv6 pool has up to 2^128 addresses, so sizes
 * are bigints for both families); the IPv4 number functions in `ipv4.ts`
 * stay the hot path for IPv4-only code. Invariants: functions that combine
 * ranges never merge across families; normalised lists hold IPv4 ranges
 * before IPv6 ranges, each family sorted and with no two ranges overlapping
 * or adjacent.
 */
import { addressBigint, addressFromBigint, compareAddresses, formatAddress, parseAddress, FAMILY_BITS } from './address.ts';
import type { IpAddress, IpCidr, IpFamily } from './address.ts';

export interface AddressRange {
  readonly lo: IpAddress;
  readonly hi: IpAddress;
}

/** The same range on bigints, for the arithmetic below. */
interface Span {
  readonly family: IpFamily;
  lo: bigint;
  hi: bigint;
}

const toSpan = (r: AddressRange): Span => ({ family: r.lo.family, lo: addressBigint(r.lo), hi: addressBigint(r.hi) });
const fromSpan = (s: Span): AddressRange => ({ lo: addressFromBigint(s.family, s.lo), hi: addressFromBigint(s.family, s.hi) });

/**
 * Parses a single address or "lo-hi" (whitespace around the dash and the ends
 * tolerated, like the IPv4 `parseRangeEntry`); both ends must be of one
 * family. A reversed range parses (report it with `isAddressRangeReversed`).
 */
export function parseAddressRange(text: string): AddressRange | undefined {
  const trimmed = text.trim();
  const dash = trimmed.indexOf('-');
  if (dash < 0) {
    const ip = parseAddress(trimmed);
    return ip === undefined ? undefined : { lo: ip, hi: ip };
  }
  const lo = parseAddress(trimmed.slice(0, dash).trim());
  const hi = lo === undefined ? undefined : parseAddress(trimmed.slice(dash + 1).trim(), lo.family);
  return lo === undefined || hi === undefined ? undefined : { lo, hi };
}

export function formatAddressRange(r: AddressRange): string {
  return compareAddresses(r.lo, r.hi) === 0 ? formatAddress(r.lo) : `${formatAddress(r.lo)}-${formatAddress(r.hi)}`;
}

export function isAddressRangeReversed(r: AddressRange): boolean {
  return compareAddresses(r.lo, r.hi) > 0;
}

/** The range a CIDR covers (host bits of the address ignored). */
export function ipCidrRange(cidr: IpCidr): AddressRange {
  const family = cidr.address.family;
  const hostBits = BigInt(FAMILY_BITS[family] - cidr.prefix);
  const lo = (addressBigint(cidr.address) >> hostBits) << hostBits;
  return fromSpan({ family, lo, hi: lo + (1n << hostBits) - 1n });
}

/** Number of addresses (0 for a reversed range). */
export function addressRangeSize(r: AddressRange): bigint {
  const s = toSpan(r);
  return s.hi < s.lo ? 0n : s.hi - s.lo + 1n;
}

export function addressRangeContains(r: AddressRange, ip: IpAddress): boolean {
  return r.lo.family === ip.family && compareAddresses(r.lo, ip) <= 0 && compareAddresses(ip, r.hi) <= 0;
}

export function addressRangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.lo.family === b.lo.family && compareAddresses(a.lo, b.hi) <= 0 && compareAddresses(b.lo, a.hi) <= 0;
}

/** Sorts and merges overlapping or adjacent ranges, per family; reversed ranges are dropped (they hold nothing). */
export function normalizePool(pool: readonly AddressRange[]): AddressRange[] {
  return normalizeSpans(pool.map(toSpan)).map(fromSpan);
}

function normalizeSpans(spans: readonly Span[]): Span[] {
  const sorted = spans.filter((s) => s.lo <= s.hi).sort((a, b) => familyOrder(a.family, b.family) || cmp(a.lo, b.lo) || cmp(a.hi, b.hi));
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.family === s.family && s.lo <= last.hi + 1n) {
      if (s.hi > last.hi) last.hi = s.hi;
    } else out.push({ family: s.family, lo: s.lo, hi: s.hi });
  }
  return out;
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
const familyOrder = (a: IpFamily, b: IpFamily): number => (a === b ? 0 : a === 'ipv4' ? -1 : 1);

/** Total number of distinct addresses in a pool. */
export function poolSize(pool: readonly AddressRange[]): bigint {
  return normalizeSpans(pool.map(toSpan)).reduce((n, s) => n + s.hi - s.lo + 1n, 0n);
}

export function poolContains(pool: readonly AddressRange[], ip: IpAddress): boolean {
  return pool.some((r) => addressRangeContains(r, ip));
}

/** The addresses of `pool` not in `remove` (ranges split around the holes), normalised. */
export function subtractPool(pool: readonly AddressRange[], remove: readonly AddressRange[]): AddressRange[] {
  const holes = normalizeSpans(remove.map(toSpan));
  const out: Span[] = [];
  for (const s of normalizeSpans(pool.map(toSpan))) {
    let lo = s.lo;
    for (const h of holes) {
      if (h.family !== s.family || h.hi < lo) continue;
      if (h.lo > s.hi) break;
      if (h.lo > lo) out.push({ family: s.family, lo, hi: h.lo - 1n });
      lo = h.hi + 1n;
      if (lo > s.hi) break;
    }
    if (lo <= s.hi) out.push({ family: s.family, lo, hi: s.hi });
  }
  return out.map(fromSpan);
}

/** Every address of the pool in order; throws RangeError past `limit` addresses (an IPv6 /64 is 2^64). */
export function expandPool(pool: readonly AddressRange[], limit = 1 << 20): IpAddress[] {
  const spans = normalizeSpans(pool.map(toSpan));
  const total = spans.reduce((n, s) => n + s.hi - s.lo + 1n, 0n);
  if (total > BigInt(limit)) throw new RangeError(`pool expansion exceeds ${limit} addresses`);
  const out: IpAddress[] = [];
  for (const s of spans) for (let v = s.lo; v <= s.hi; v++) out.push(addressFromBigint(s.family, v));
  return out;
}

/** Smallest list of CIDR blocks covering exactly the range (for ipsets and rules). */
export function addressRangeToCidrs(r: AddressRange): IpCidr[] {
  const { family, lo: first, hi } = toSpan(r);
  const bits = FAMILY_BITS[family];
  const out: IpCidr[] = [];
  for (let lo = first; lo <= hi; ) {
    // Grow the block while it stays aligned at `lo` and inside the range.
    let size = 0;
    while (size < bits && ((lo >> BigInt(size)) & 1n) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
    out.push({ address: addressFromBigint(family, lo), prefix: bits - size });
    lo += 1n << BigInt(size);
  }
  return out;
}
