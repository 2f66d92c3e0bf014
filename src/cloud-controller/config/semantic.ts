/**
 * Semantic checks of `cloud.network.network_configuration`: the rules that
 * relate values to each other (eucalyptus-edge.md §3.2–3.3, plus the checks
 * Eucalyptus lacked: overlapping or duplicate pools, public/private overlap,
 * duplicate cluster names, clusters overlapping part of a subnet, clusters
 * sharing a subnet with overlapping pools, reserved addresses in a pool).
 * Clusters may share one flat subnet (eucalyptus-edge.md §6.2, the install
 * guide's PARTI00/PARTI01 example) when their effective pools are disjoint:
 * instance ids are unique cloud-wide and a MAC is the prefix plus the id's
 * bytes, so equal MAC prefixes cannot make equal MACs.
 * IPv6 (issue 14): each subnet's Ipv6Prefix and Ipv6DnsServers are checked on
 * their own in ipv6.ts; here a cluster resolves them with its subnet (inline,
 * by Name, or the single top-level one) and the /64s are related: one per
 * top-level subnet, shared between clusters only with a shared flat subnet.
 *
 * Model: the input is `unknown` — the document may be schema-invalid in places.
 * Every read goes through a type guard, and a value that does not parse is
 * skipped silently (the schema pass already reported it), so one document gets
 * every problem exactly once and the valid parts are still checked.
 * Invariants: pure; every overlap rule is a sort + sweep (overlaps.ts), never
 * pairwise, so cost is O(n log n) in the number of list entries.
 * These are EDGE's checks; ROUTED's are routed-semantic.ts, which reuses the
 * list helpers exported here.
 */
import type { Diagnostic } from '../../shared/diagnostics.ts';
import { joinPath } from '../../shared/diagnostics.ts';
import type { Cidr, IpRange, Ipv4 } from '../../shared/ip.ts';
import {
  cidrContains,
  cidrRange,
  formatCidr,
  formatCidr6,
  formatIp,
  formatRange,
  isAligned,
  isReversed,
  maskToPrefix,
  normalizeRanges,
  parseIp,
  parseRangeEntry,
  prefixToMask,
  rangeContains,
  rangeContainsRange,
} from '../../shared/ip.ts';
import { diag } from './codes.ts';
import { checkSubnetIpv6, type SubnetIpv6 } from './ipv6.ts';
import type { Span } from './overlaps.ts';
import { crossOverlaps, selfOverlaps } from './overlaps.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** One parsed, well-ordered entry of an IP list. */
export interface PoolEntry {
  readonly path: string;
  readonly index: number;
  readonly range: IpRange;
}

/** A subnet whose addresses all parse and whose mask and alignment are right. */
interface GoodSubnet {
  readonly path: string;
  readonly cidr: Cidr;
  readonly range: IpRange;
  /** Undefined when the gateway is missing, unparsable or outside the subnet. */
  readonly gateway: Ipv4 | undefined;
}

interface ClusterFacts {
  readonly index: number;
  readonly label: string;
  readonly subnet: GoodSubnet | undefined;
  readonly pool: readonly PoolEntry[];
  /**
   * No PrivateIps key: the cluster takes the top-level PrivateIps (or, when
   * those are empty, the whole subnet). A list of its own, even `[]`, is not
   * inherited: `[]` means the whole subnet (eucalyptus-edge.md §6.2).
   */
  readonly inherits: boolean;
  /** The IPv6 keys of the subnet it uses (inline, named, or the single top-level one). */
  readonly ipv6: SubnetIpv6 | undefined;
}

export function semanticDiagnostics(doc: unknown): Diagnostic[] {
  if (!isObj(doc)) return [];
  const out: Diagnostic[] = [];
  checkMacPrefix(doc['MacPrefix'], 'MacPrefix', out);
  checkDnsServers(doc['InstanceDnsServers'], out);
  const top = checkTopSubnets(doc, out);
  const clusters = checkClusters(doc, top, out);
  const topPool = checkTopPool(doc, top, clusters, out);
  const publicPool = readPool(doc['PublicIps'], 'PublicIps', out);
  for (const pool of [publicPool, topPool, ...clusters.map((c) => c.pool)]) checkSelfOverlap(pool, out);
  checkPublicPool(publicPool, [...topPool, ...clusters.flatMap((c) => c.pool)], [...top.resolved, ...clusters.map((c) => c.subnet)], out);
  checkClusterSubnets(clusters, out);
  checkSharedSubnetPools(clusters, topPool, out);
  checkClusterIpv6(clusters, out);
  return out;
}

/** Each top-level subnet on its own, their names, their overlaps, and the single-subnet rule without clusters. */
function checkTopSubnets(doc: Obj, out: Diagnostic[]): TopSubnets {
  const raw = listOf(doc['Subnets']);
  const resolved = raw.map((s, i) => (isObj(s) ? readSubnet(s, joinPath('Subnets', i), out) : undefined));
  const ipv6 = raw.map((s, i) => (isObj(s) ? checkSubnetIpv6(s, joinPath('Subnets', i), out) : undefined));
  const byName = new Map<string, GoodSubnet | undefined>();
  const ipv6ByName = new Map<string, SubnetIpv6 | undefined>();
  raw.forEach((s, i) => {
    if (!isObj(s)) return;
    const explicit = textOf(s['Name']);
    const name = explicit ?? textOf(s['Subnet']);
    if (name === undefined) return;
    if (byName.has(name)) {
      const where = explicit !== undefined ? joinPath('Subnets', i, 'Name') : joinPath('Subnets', i, 'Subnet');
      out.push(diag('SUBNET_NAME_DUPLICATE', where, `Subnet name "${name}" is already used by an earlier top-level subnet (a missing Name defaults to the Subnet address)`));
      return;
    }
    byName.set(name, resolved[i]);
    ipv6ByName.set(name, ipv6[i]);
  });
  // Every top-level subnet is its own layer-2 network (their IPv4 ranges may not overlap), so each needs its own /64.
  const prefixes = new Map<string, number>();
  ipv6.forEach((v6, i) => {
    if (v6?.prefix === undefined) return;
    const key = formatCidr6(v6.prefix);
    const first = prefixes.get(key);
    if (first === undefined) prefixes.set(key, i);
    else out.push(diag('SUBNET_IPV6_OVERLAP', joinPath('Subnets', i, 'Ipv6Prefix'), `Ipv6Prefix ${key} is already the prefix of Subnets[${first}]; each subnet needs its own /64`));
  });
  const spans: Span<{ index: number; subnet: GoodSubnet }>[] = [];
  resolved.forEach((s, index) => {
    if (s) spans.push({ lo: s.range.lo, hi: s.range.hi, item: { index, subnet: s } });
  });
  for (const [a, b] of selfOverlaps(spans)) {
    const [first, second] = a.item.index < b.item.index ? [a.item.subnet, b.item.subnet] : [b.item.subnet, a.item.subnet];
    out.push(diag('SUBNET_OVERLAP', second.path, `Subnet ${formatCidr(second.cidr)} overlaps ${formatCidr(first.cidr)} (${first.path})`));
  }
  // A Clusters or Subnets value of the wrong type was reported by the schema; do not add to it.
  const noClusters = doc['Clusters'] === undefined || (Array.isArray(doc['Clusters']) && doc['Clusters'].length === 0);
  const subnetsListed = doc['Subnets'] === undefined || Array.isArray(doc['Subnets']);
  if (noClusters && subnetsListed && raw.length !== 1) {
    out.push(diag('SUBNETS_SINGLE_REQUIRED', 'Subnets', `Without clusters exactly one top-level subnet must be configured, found ${raw.length}`));
  }
  return { raw, resolved, byName, ipv6, ipv6ByName };
}

/** Cluster names, MAC prefixes, subnets, and each cluster's own pool against its subnet. */
function checkClusters(doc: Obj, top: TopSubnets, out: Diagnostic[]): ClusterFacts[] {
  const clusters: ClusterFacts[] = [];
  const names = new Map<string, number>();
  listOf(doc['Clusters']).forEach((c, i) => {
    if (!isObj(c)) return;
    const base = joinPath('Clusters', i);
    const name = textOf(c['Name']);
    checkClusterName(name, i, names, out);
    checkMacPrefix(c['MacPrefix'], joinPath(base, 'MacPrefix'), out);
    const label = name !== undefined ? `cluster "${name}"` : base;
    const subnet = resolveClusterSubnet(c, base, top, out);
    const pool = readPool(c['PrivateIps'], joinPath(base, 'PrivateIps'), out);
    const reported = new Set<string>();
    if (subnet) checkPoolInSubnet(pool, { subnet, owner: label, reported, out });
    const ipv6 = resolveClusterIpv6(c, base, top, out);
    clusters.push({ index: i, label, subnet, pool, inherits: c['PrivateIps'] === undefined, ipv6 });
  });
  return clusters;
}

/** The top-level private pool, checked against whichever subnets will use it. */
function checkTopPool(doc: Obj, top: TopSubnets, clusters: readonly ClusterFacts[], out: Diagnostic[]): PoolEntry[] {
  const pool = readPool(doc['PrivateIps'], 'PrivateIps', out);
  const clustersRaw = listOf(doc['Clusters']);
  const reported = new Set<string>();
  if (clustersRaw.length === 0) {
    const only = top.raw.length === 1 ? top.resolved[0] : undefined;
    if (only) checkPoolInSubnet(pool, { subnet: only, owner: 'the top-level subnet', reported, out });
    return pool;
  }
  const inheritors = clusters.filter((c) => c.inherits);
  const listed = Array.isArray(doc['PrivateIps']) && doc['PrivateIps'].length > 0;
  if (listed && inheritors.length === 0 && clusters.length === clustersRaw.length) {
    out.push(diag('PRIVATE_IPS_UNUSED', 'PrivateIps', 'Every cluster has its own PrivateIps, so the top-level PrivateIps are never used'));
  }
  for (const c of inheritors) {
    if (c.subnet) checkPoolInSubnet(pool, { subnet: c.subnet, owner: `${c.label}, which inherits the top-level PrivateIps`, reported, out });
  }
  return pool;
}

/** Public entries against every private pool (error) and every private subnet (warning). */
function checkPublicPool(publicPool: readonly PoolEntry[], privatePool: readonly PoolEntry[], subnets: readonly (GoodSubnet | undefined)[], out: Diagnostic[]): void {
  const publicSpans = publicPool.map(entrySpan);
  const withError = new Set<string>();
  for (const [pub, priv] of crossOverlaps(publicSpans, privatePool.map(entrySpan))) {
    withError.add(pub.item.path);
    out.push(diag('PUBLIC_PRIVATE_OVERLAP', pub.item.path, `Public ${formatRange(pub.item.range)} overlaps private ${formatRange(priv.item.range)} (${priv.item.path})`));
  }
  // Public addresses inside a private subnet: legal, but usually a mistake.
  for (const [pub, sub] of crossOverlaps(publicSpans, subnetSpans(subnets))) {
    if (withError.has(pub.item.path)) continue;
    out.push(diag('PUBLIC_IN_PRIVATE_SUBNET', pub.item.path, `Public ${formatRange(pub.item.range)} lies inside private subnet ${formatCidr(sub.item.cidr)} (${sub.item.path})`));
  }
}

/**
 * Clusters either share one subnet exactly (a flat network: same address and
 * netmask) or use disjoint ones; a subnet overlapping part of another
 * cluster's is refused.
 */
function checkClusterSubnets(clusters: readonly ClusterFacts[], out: Diagnostic[]): void {
  const spans: Span<ClusterFacts & { subnet: GoodSubnet }>[] = [];
  for (const c of clusters) if (c.subnet) spans.push({ lo: c.subnet.range.lo, hi: c.subnet.range.hi, item: { ...c, subnet: c.subnet } });
  // Equal subnets collapse to their first user, so the sweep sees only distinct ones.
  const distinct = new Map<string, (typeof spans)[number]>();
  for (const s of spans) if (!distinct.has(subnetKey(s.item.subnet))) distinct.set(subnetKey(s.item.subnet), s);
  const firstOf = [...distinct.values()];
  for (const [a, b] of selfOverlaps(firstOf)) {
    const [first, second] = a.item.index < b.item.index ? [a.item, b.item] : [b.item, a.item];
    // Every cluster declaring the later subnet is in the overlap, not only its first user.
    for (const s of spans) {
      if (subnetKey(s.item.subnet) !== subnetKey(second.subnet)) continue;
      const c = s.item;
      out.push(
        diag(
          'CLUSTER_SUBNET_OVERLAP',
          joinPath('Clusters', c.index, 'Subnet'),
          `Subnet ${formatCidr(c.subnet.cidr)} of ${c.label} overlaps ${formatCidr(first.subnet.cidr)} of ${first.label} (Clusters[${first.index}]); clusters may share the same subnet, not part of one`,
        ),
      );
    }
  }
}

/**
 * Clusters on the same subnet need disjoint effective pools (what explode
 * gives them: their own list, else the top-level one, else the whole subnet
 * minus network, broadcast and gateway), or the two clusters' instances could
 * be handed the same address space. One diagnostic per pair of clusters, on
 * the later one.
 */
function checkSharedSubnetPools(clusters: readonly ClusterFacts[], topPool: readonly PoolEntry[], out: Diagnostic[]): void {
  const bySubnet = new Map<string, ClusterFacts[]>();
  for (const c of clusters) {
    if (!c.subnet) continue;
    const key = subnetKey(c.subnet);
    const list = bySubnet.get(key);
    if (list) list.push(c);
    else bySubnet.set(key, [c]);
  }
  for (const sharing of bySubnet.values()) {
    if (sharing.length < 2) continue;
    const spans: Span<ClusterFacts>[] = [];
    for (const c of sharing) for (const r of effectivePool(c, topPool)) spans.push({ lo: r.lo, hi: r.hi, item: c });
    const reported = new Set<string>();
    // Each cluster's own ranges are merged first, so every overlap the sweep finds is between two clusters.
    for (const [a, b] of selfOverlaps(spans)) {
      const [first, second] = a.item.index < b.item.index ? [a.item, b.item] : [b.item, a.item];
      const pair = `${first.index}/${second.index}`;
      if (reported.has(pair)) continue;
      reported.add(pair);
      out.push(
        diag(
          'CLUSTER_POOL_OVERLAP',
          joinPath('Clusters', second.index, 'PrivateIps'),
          `${capitalize(second.label)} shares subnet ${formatCidr(second.subnet!.cidr)} with ${first.label} (Clusters[${first.index}]) and their private pools overlap at ${formatRange({ lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) })}${describeSource(second)}; clusters sharing a subnet need disjoint PrivateIps`,
        ),
      );
    }
  }
}

function describeSource(c: ClusterFacts): string {
  if (c.inherits) return ' (it inherits the top-level PrivateIps, or the whole subnet when those are empty)';
  if (c.pool.length === 0) return ' (its empty PrivateIps mean the whole subnet)';
  return '';
}

/** The cluster's pool after defaults (explode.ts), as disjoint sorted ranges; entries that did not parse are already reported. */
function effectivePool(c: ClusterFacts, topPool: readonly PoolEntry[]): IpRange[] {
  const listed = c.inherits ? topPool : c.pool;
  if (listed.length > 0) return normalizeRanges(listed.map((e) => e.range));
  const s = c.subnet;
  if (!s) return [];
  const hosts = { lo: s.range.lo + 1, hi: s.range.hi - 1 };
  const g = s.gateway;
  if (g === undefined || !rangeContains(hosts, g)) return [hosts];
  return [{ lo: hosts.lo, hi: g - 1 }, { lo: g + 1, hi: hosts.hi }].filter((r) => r.lo <= r.hi);
}

function subnetKey(s: GoodSubnet): string {
  return formatCidr(s.cidr);
}

interface TopSubnets {
  readonly raw: readonly unknown[];
  readonly resolved: readonly (GoodSubnet | undefined)[];
  readonly byName: ReadonlyMap<string, GoodSubnet | undefined>;
  /** IPv6 keys per top-level subnet (same index as `raw`) and by Name. */
  readonly ipv6: readonly (SubnetIpv6 | undefined)[];
  readonly ipv6ByName: ReadonlyMap<string, SubnetIpv6 | undefined>;
}

/**
 * The IPv6 keys of the subnet a cluster uses, resolved as its IPv4 subnet is
 * (resolveClusterSubnet): an inline subnet's own keys (checked here), a named
 * top-level subnet's, or the single top-level subnet's. A reference that also
 * carries IPv6 keys is refused: it inherits them.
 */
function resolveClusterIpv6(c: Obj, base: string, top: TopSubnets, out: Diagnostic[]): SubnetIpv6 | undefined {
  const sub = c['Subnet'];
  const path = joinPath(base, 'Subnet');
  if (sub === undefined) return top.raw.length === 1 ? top.ipv6[0] : undefined;
  if (!isObj(sub)) return undefined;
  if ('Subnet' in sub || 'Netmask' in sub || 'Gateway' in sub) return checkSubnetIpv6(sub, path, out);
  for (const key of ['Ipv6Prefix', 'Ipv6DnsServers']) {
    if (key in sub) out.push(diag('IPV6_ON_SUBNET_REFERENCE', joinPath(path, key), `A Subnet that names a top-level subnet inherits its IPv6 settings: set ${key} on the top-level subnet "${textOf(sub['Name']) ?? ''}" instead`));
  }
  const name = textOf(sub['Name']);
  return name === undefined ? undefined : top.ipv6ByName.get(name);
}

/**
 * A /64 is one IPv6 link, so clusters may share one exactly when they share
 * one flat IPv4 subnet (the IPv4 rule of checkClusterSubnets): the same /64 on
 * two different IPv4 subnets is an error (CLUSTER_IPV6_OVERLAP); clusters on
 * one IPv4 subnet with different IPv6 settings get a warning
 * (CLUSTER_IPV6_MISMATCH). Clusters whose IPv4 subnet or IPv6 prefix did not
 * pass their own checks are skipped (already reported). Linear: one map each.
 */
function checkClusterIpv6(clusters: readonly ClusterFacts[], out: Diagnostic[]): void {
  const owners = new Map<string, ClusterFacts & { subnet: GoodSubnet }>();
  const firstOnSubnet = new Map<string, ClusterFacts>();
  for (const c of clusters) {
    if (c.subnet === undefined || (c.ipv6?.declared === true && c.ipv6.prefix === undefined)) continue;
    const prefix = c.ipv6?.prefix === undefined ? undefined : formatCidr6(c.ipv6.prefix);
    const key = subnetKey(c.subnet);
    const path = joinPath('Clusters', c.index, 'Subnet');
    if (prefix !== undefined) {
      const owner = owners.get(prefix);
      if (owner === undefined) owners.set(prefix, { ...c, subnet: c.subnet });
      else if (subnetKey(owner.subnet) !== key) {
        out.push(
          diag(
            'CLUSTER_IPV6_OVERLAP',
            path,
            `Ipv6Prefix ${prefix} of ${c.label} (subnet ${key}) is also the prefix of ${owner.label} (Clusters[${owner.index}], subnet ${subnetKey(owner.subnet)}); clusters share a /64 only when they share one flat subnet`,
          ),
        );
      }
    }
    const first = firstOnSubnet.get(key);
    if (first === undefined) {
      firstOnSubnet.set(key, c);
      continue;
    }
    const firstPrefix = first.ipv6?.prefix === undefined ? undefined : formatCidr6(first.ipv6.prefix);
    if (firstPrefix !== prefix) {
      out.push(
        diag(
          'CLUSTER_IPV6_MISMATCH',
          path,
          `${capitalize(c.label)} shares subnet ${key} with ${first.label} (Clusters[${first.index}]) but its IPv6 prefix is ${prefix ?? 'none'}, not ${firstPrefix ?? 'none'}`,
        ),
      );
    }
  }
}

/** The subnet a cluster uses: inline, a reference by Name, or the single top-level one (eucalyptus-edge.md §3.2 rule 7). */
function resolveClusterSubnet(c: Obj, base: string, top: TopSubnets, out: Diagnostic[]): GoodSubnet | undefined {
  const sub = c['Subnet'];
  const path = joinPath(base, 'Subnet');
  if (sub === undefined) {
    if (top.raw.length === 1) return top.resolved[0];
    out.push(
      diag(
        'CLUSTER_SUBNET_MISSING',
        path,
        top.raw.length === 0
          ? 'The cluster has no Subnet and there is no top-level subnet to default to'
          : `The cluster has no Subnet and there are ${top.raw.length} top-level subnets: name one of them`,
      ),
    );
    return undefined;
  }
  if (!isObj(sub)) return undefined;
  const inline = 'Subnet' in sub || 'Netmask' in sub || 'Gateway' in sub;
  if (inline) return readSubnet(sub, path, out);
  if (!('Name' in sub)) {
    out.push(diag('REQUIRED', joinPath(path, 'Name'), 'A cluster Subnet needs a Name referring to a top-level subnet, or Subnet, Netmask and Gateway'));
    return undefined;
  }
  const name = textOf(sub['Name']);
  if (name === undefined) return undefined;
  if (top.byName.has(name)) return top.byName.get(name);
  const known = [...top.byName.keys()];
  out.push(
    diag(
      'SUBNET_REF_UNRESOLVED',
      joinPath(path, 'Name'),
      `No top-level subnet is named "${name}"${known.length > 0 ? ` (known: ${known.map((k) => `"${k}"`).join(', ')})` : ' (Subnets is empty)'}`,
    ),
  );
  return undefined;
}

/** Checks Subnet/Netmask/Gateway of one subnet; returns it only if it is usable for containment checks. */
function readSubnet(s: Obj, path: string, out: Diagnostic[]): GoodSubnet | undefined {
  const address = parseIp(textOf(s['Subnet']) ?? '');
  const mask = parseIp(textOf(s['Netmask']) ?? '');
  const gateway = parseIp(textOf(s['Gateway']) ?? '');
  if (address === undefined || mask === undefined) return undefined;
  const prefix = maskToPrefix(mask);
  if (prefix === undefined) {
    out.push(diag('NETMASK_NONCONTIGUOUS', joinPath(path, 'Netmask'), `Cannot use netmask ${formatIp(mask)}: its one bits must be contiguous`));
    return undefined;
  }
  const cidr = { network: address, prefix };
  if (!isAligned(cidr)) {
    const aligned = (address & prefixToMask(prefix)) >>> 0;
    out.push(
      diag('SUBNET_UNALIGNED', joinPath(path, 'Subnet'), `Subnet ${formatIp(address)} has host bits set for netmask ${formatIp(mask)}; did you mean ${formatIp(aligned)}?`),
    );
    return undefined;
  }
  if (prefix > 30) {
    out.push(diag('SUBNET_TOO_SMALL', joinPath(path, 'Netmask'), `Subnet ${formatCidr(cidr)} is too small: a subnet needs at least a /30 for a gateway and an instance`));
    return undefined;
  }
  const range = cidrRange(cidr);
  let usableGateway: Ipv4 | undefined;
  if (gateway !== undefined) {
    if (!cidrContains(cidr, gateway)) {
      out.push(diag('GATEWAY_OUTSIDE_SUBNET', joinPath(path, 'Gateway'), `Gateway ${formatIp(gateway)} is not inside subnet ${formatCidr(cidr)}`));
    } else {
      if (gateway === range.lo || gateway === range.hi) {
        const which = gateway === range.lo ? 'network' : 'broadcast';
        out.push(diag('GATEWAY_RESERVED_ADDRESS', joinPath(path, 'Gateway'), `Gateway ${formatIp(gateway)} is the ${which} address of subnet ${formatCidr(cidr)}`));
      }
      usableGateway = gateway;
    }
  }
  return { path, cidr, range, gateway: usableGateway };
}

/** Parses an IP list; reversed ranges are reported here and left out of the later checks. */
export function readPool(value: unknown, path: string, out: Diagnostic[]): PoolEntry[] {
  const entries: PoolEntry[] = [];
  listOf(value).forEach((v, i) => {
    const text = textOf(v);
    if (text === undefined) return;
    const range = parseRangeEntry(text);
    if (range === undefined) return;
    const at = joinPath(path, i);
    if (isReversed(range)) {
      out.push(diag('RANGE_REVERSED', at, `Range ${text.trim()} is reversed: ${formatIp(range.lo)} is above ${formatIp(range.hi)}`));
      return;
    }
    entries.push({ path: at, index: i, range });
  });
  return entries;
}

/** Where a pool's entries must lie, whom to name, and the entries already reported (one diagnostic each). */
interface SubnetCheck {
  readonly subnet: GoodSubnet;
  readonly owner: string;
  readonly reported: Set<string>;
  readonly out: Diagnostic[];
}

function checkPoolInSubnet(pool: readonly PoolEntry[], check: SubnetCheck): void {
  for (const e of pool) checkInSubnet(e, check);
}

function checkInSubnet(e: PoolEntry, { subnet, owner, reported, out }: SubnetCheck): void {
  if (reported.has(e.path)) return;
  const shown = formatRange(e.range);
  if (!rangeContainsRange(subnet.range, e.range)) {
    reported.add(e.path);
    out.push(diag('PRIVATE_IP_OUTSIDE_SUBNET', e.path, `Private ${shown} is not inside subnet ${formatCidr(subnet.cidr)} of ${owner}`));
    return;
  }
  const { lo, hi } = subnet.range;
  const g = subnet.gateway;
  // Fast path (the common case, run for every entry): nothing reserved inside.
  if (!rangeContains(e.range, lo) && !rangeContains(e.range, hi) && (g === undefined || !rangeContains(e.range, g))) return;
  const reserved: [string, Ipv4 | undefined][] = [
    ['network', subnet.range.lo],
    ['broadcast', subnet.range.hi],
    ['gateway', subnet.gateway],
  ];
  const hits = reserved.filter(([, ip]) => ip !== undefined && rangeContains(e.range, ip));
  if (hits.length > 0) {
    reported.add(e.path);
    const what = hits.map(([kind, ip]) => `the ${kind} address ${formatIp(ip ?? 0)}`).join(' and ');
    out.push(diag('POOL_CONTAINS_RESERVED_ADDRESS', e.path, `Private ${shown} contains ${what} of subnet ${formatCidr(subnet.cidr)} (${owner})`));
  }
}

/** POOL_DUPLICATE / POOL_OVERLAP between entries of one list. */
export function checkSelfOverlap(pool: readonly PoolEntry[], out: Diagnostic[]): void {
  for (const [a, b] of selfOverlaps(pool.map(entrySpan))) {
    const [first, second] = a.item.index < b.item.index ? [a.item, b.item] : [b.item, a.item];
    const duplicate = first.range.lo === second.range.lo && first.range.hi === second.range.hi;
    if (duplicate) out.push(diag('POOL_DUPLICATE', second.path, `${formatRange(second.range)} is listed twice (also ${first.path})`));
    else out.push(diag('POOL_OVERLAP', second.path, `${formatRange(second.range)} overlaps ${formatRange(first.range)} (${first.path})`));
  }
}

/**
 * Cluster names are unique in the document (every mode): the name of
 * Clusters[index] against `seen` (name → first index, filled as the caller
 * walks the list in order); a repeat is reported on its Name, naming the first.
 */
export function checkClusterName(name: string | undefined, index: number, seen: Map<string, number>, out: Diagnostic[]): void {
  if (name === undefined) return;
  const first = seen.get(name);
  if (first !== undefined) out.push(diag('CLUSTER_NAME_DUPLICATE', joinPath('Clusters', index, 'Name'), `Cluster name "${name}" is already used by Clusters[${first}]`));
  else seen.set(name, index);
}

export function checkMacPrefix(value: unknown, path: string, out: Diagnostic[]): void {
  const text = textOf(value);
  if (text === undefined || !/^[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}$/.test(text)) return;
  if ((parseInt(text.slice(0, 2), 16) & 1) === 1) {
    out.push(diag('MAC_PREFIX_MULTICAST', path, `MAC prefix ${text} has the multicast bit set in its first byte; use an even first byte such as d0`));
  }
}

function checkDnsServers(value: unknown, out: Diagnostic[]): void {
  const seen = new Map<Ipv4, number>();
  listOf(value).forEach((v, i) => {
    const ip = parseIp(textOf(v) ?? '');
    if (ip === undefined) return;
    const path = joinPath('InstanceDnsServers', i);
    if (ip === 0 || ip === 0xffffffff) out.push(diag('DNS_SERVER_INVALID', path, `Cannot use ${formatIp(ip)} as a name server`));
    const first = seen.get(ip);
    if (first !== undefined) out.push(diag('DNS_SERVER_DUPLICATE', path, `Name server ${formatIp(ip)} is listed twice (also InstanceDnsServers[${first}])`));
    else seen.set(ip, i);
  });
}

export function entrySpan(e: PoolEntry): Span<PoolEntry> {
  return { lo: e.range.lo, hi: e.range.hi, item: e };
}

function subnetSpans(subnets: readonly (GoodSubnet | undefined)[]): Span<GoodSubnet>[] {
  const spans: Span<GoodSubnet>[] = [];
  for (const s of subnets) if (s) spans.push({ lo: s.range.lo, hi: s.range.hi, item: s });
  return spans;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
