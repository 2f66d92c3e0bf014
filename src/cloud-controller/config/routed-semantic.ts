/**
 * Semantic checks of a ROUTED property (docs/config.md "ROUTED"): what the
 * schema cannot say about the ROUTED keys — pool relations, reserved ranges,
 * gateways, and the BGP values that end up in every node's BIRD
 * configuration.
 *
 * Model: as EDGE's semantic.ts — the input is `unknown`, may be
 * schema-invalid in places, and a value that does not parse is skipped (the
 * schema reported it); every problem is reported once, on the path of the
 * value at fault (`Clusters[0].Bgp.Peers[1].Asn`).
 * Rules:
 * - pools: an Ipv4Pool entry is an address, a range or an aligned CIDR; no
 *   entry of Ipv4Pool or PublicIps touches a reserved block
 *   (routed.ts ROUTED_RESERVED_IPV4, which includes the 169.254.0.0/16 link);
 *   entries do not overlap within a list (POOL_OVERLAP), between clusters or
 *   with PublicIps (ROUTED_POOL_OVERLAP): every routed address has one owner;
 * - a cluster has Ipv4Pool, Ipv6Prefix or both; an Ipv6Prefix is a /64 in
 *   global unicast or ULA space (ipv6.ts, EDGE's rules). Clusters may share a
 *   /64: an instance's address is the EUI-64 of its MAC, unique cloud-wide,
 *   and each is routed as a /128 of its own;
 * - gateways are link-local (the instance reaches them on its own port only),
 *   so they can never collide with a routed address;
 * - BGP: every cluster ends up with a LocalAsn and Peers (cloud → cluster);
 *   ASNs 1..4294967295, peers unicast and outside every instance pool, no peer
 *   twice in a list, standard communities, a password BIRD can quote; node
 *   names unique in the document; router ids non-zero and unique among the
 *   listed nodes (a node without RouterId uses its name when that is IPv4);
 *   the effective peers of a cluster and of a node with its own include a
 *   peer of each family the cluster's addressing uses (checkPeerFamilies).
 * Invariants: pure; overlap rules sort and sweep (overlaps.ts).
 */
import type { Diagnostic } from '../../shared/diagnostics.ts';
import { joinPath } from '../../shared/diagnostics.ts';
import type { IpRange, Ipv4 } from '../../shared/ip.ts';
import { IPV6_IPV4_MAPPED, IPV6_LINK_LOCAL, IPV6_MULTICAST, cidrContains6, formatCidr, formatIp, formatIpv6, formatRange, isAligned, normalizeRanges, parseCidr6, parseIp, parseIpv6 } from '../../shared/ip.ts';
import { diag } from './codes.ts';
import { reservedServerReason, checkSubnetIpv6 } from './ipv6.ts';
import { crossOverlaps, selfOverlaps, type Span } from './overlaps.ts';
import { canonicalBgpCommunity, isBgpAsn, isBgpPassword } from '../../shared/gni/routed.ts';
import { parseAnyAddress, parseRoutedPoolEntry, reservedIpv4 } from './routed.ts';
import { checkClusterName, checkMacPrefix, checkSelfOverlap, entrySpan, readPool, type PoolEntry } from './semantic.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The instance-side link and the addresses on it that are not the gateway's to take. */
const LINK = { lo: 0xa9fe0000, hi: 0xa9feffff };
const METADATA_IPV4 = 0xa9fea9fe; // 169.254.169.254
const MAX_IPV6_DNS_SERVERS = 3;

interface ClusterPool {
  readonly index: number;
  readonly label: string;
  readonly entries: readonly PoolEntry[];
}

/** Pools and prefixes a BGP peer must stay out of. */
interface InstanceSpace {
  /** Every Ipv4Pool and PublicIps range, merged and sorted. */
  readonly ipv4: readonly IpRange[];
  /** The clusters' /64s (upper 64 bits) → the path that declares it. */
  readonly ipv6: ReadonlyMap<bigint, string>;
}

export function routedDiagnostics(doc: unknown): Diagnostic[] {
  if (!isObj(doc)) return [];
  const out: Diagnostic[] = [];
  checkMacPrefix(doc['MacPrefix'], 'MacPrefix', out);
  checkDnsServers(doc['InstanceDnsServers'], out);
  checkGateways(doc['InstanceGateway'], out);
  const publicPool = readPool(doc['PublicIps'], 'PublicIps', out);
  checkSelfOverlap(publicPool, out);
  checkReserved(publicPool, 'Public', out);
  const clusters = checkClusters(doc, out);
  checkPoolOverlaps(clusters, publicPool, out);
  const space = instanceSpace(doc, clusters, publicPool);
  checkBgp(doc, space, out);
  return out;
}

/** IPv4 entries as EDGE's; IPv6 entries as a subnet's Ipv6DnsServers (at most 3); a duplicate of either family is a warning. */
function checkDnsServers(value: unknown, out: Diagnostic[]): void {
  const seen = new Map<string, number>();
  let ipv6 = 0;
  listOf(value).forEach((v, i) => {
    const a = parseAnyAddress(textOf(v) ?? '');
    if (a === undefined) return;
    const path = joinPath('InstanceDnsServers', i);
    if (a.family === 'ipv4' && (a.v4 === 0 || a.v4 === 0xffffffff)) out.push(diag('DNS_SERVER_INVALID', path, `Cannot use ${a.text} as a name server`));
    if (a.family === 'ipv6') {
      // Counted once each: explode drops a repeated server.
      if (!seen.has(a.text)) ipv6++;
      // Link-local: an instance is alone on its port with its node, so an fe80:: address names no server it can reach.
      const reason = cidrContains6(IPV6_LINK_LOCAL, a.v6) ? "link-local, and each instance's link holds only its node" : reservedServerReason(a.v6);
      if (reason !== undefined) out.push(diag('IPV6_DNS_SERVER_RESERVED', path, `Cannot use ${a.text} as a name server for instances: it is ${reason}`));
    }
    const first = seen.get(a.text);
    if (first !== undefined) out.push(diag('DNS_SERVER_DUPLICATE', path, `Name server ${a.text} is listed twice (also InstanceDnsServers[${first}])`));
    else seen.set(a.text, i);
  });
  if (ipv6 > MAX_IPV6_DNS_SERVERS) {
    out.push(diag('IPV6_DNS_SERVERS_TOO_MANY', 'InstanceDnsServers', `Cannot list ${ipv6} IPv6 name servers: at most ${MAX_IPV6_DNS_SERVERS} (a resolver uses 3)`));
  }
}

function checkGateways(value: unknown, out: Diagnostic[]): void {
  if (!isObj(value)) return;
  const v4Text = textOf(value['Ipv4']);
  const v4 = v4Text === undefined ? undefined : parseIp(v4Text);
  if (v4 !== undefined) {
    const why =
      v4 < LINK.lo || v4 > LINK.hi
        ? 'not link-local (169.254.0.0/16): instances reach their gateway on their own port, on the link every instance port shares'
        : v4 === LINK.lo || v4 === LINK.hi
          ? `the ${v4 === LINK.lo ? 'first' : 'last'} address of 169.254.0.0/16`
          : v4 === METADATA_IPV4
            ? 'the metadata address'
            : undefined;
    if (why !== undefined) out.push(diag('ROUTED_INSTANCE_GATEWAY_INVALID', 'InstanceGateway.Ipv4', `Cannot use ${formatIp(v4)} as the instances' IPv4 gateway: it is ${why}`));
  }
  const v6Text = textOf(value['Ipv6']);
  const v6 = v6Text === undefined ? undefined : parseIpv6(v6Text);
  if (v6 !== undefined) {
    const why = !cidrContains6(IPV6_LINK_LOCAL, v6) ? 'not link-local (fe80::/10): an instance routes IPv6 through a link-local gateway on its port' : v6 === IPV6_LINK_LOCAL.network ? 'the link-local subnet-router anycast address fe80::' : undefined;
    if (why !== undefined) out.push(diag('ROUTED_INSTANCE_GATEWAY_INVALID', 'InstanceGateway.Ipv6', `Cannot use ${formatIpv6(v6)} as the instances' IPv6 gateway: it is ${why}`));
  }
}

function checkReserved(pool: readonly PoolEntry[], kind: string, out: Diagnostic[]): void {
  for (const e of pool) {
    const what = reservedIpv4(e.range);
    if (what !== undefined) out.push(diag('ROUTED_POOL_RESERVED', e.path, `${kind} ${formatRange(e.range)} reaches into ${what}: no instance can be routed an address there`));
  }
}

/** Names, MAC prefixes, pools and prefixes of every cluster, each on its own. */
function checkClusters(doc: Obj, out: Diagnostic[]): ClusterPool[] {
  const names = new Map<string, number>();
  const pools: ClusterPool[] = [];
  listOf(doc['Clusters']).forEach((c, i) => {
    if (!isObj(c)) return;
    const base = joinPath('Clusters', i);
    const name = textOf(c['Name']);
    checkClusterName(name, i, names, out);
    checkMacPrefix(c['MacPrefix'], joinPath(base, 'MacPrefix'), out);
    const entries = readRoutedPool(c['Ipv4Pool'], joinPath(base, 'Ipv4Pool'), out);
    checkSelfOverlap(entries, out);
    checkReserved(entries, 'Ipv4Pool entry', out);
    if ('Ipv6Prefix' in c) checkSubnetIpv6({ Ipv6Prefix: c['Ipv6Prefix'] }, base, out);
    if (!('Ipv4Pool' in c) && !('Ipv6Prefix' in c)) {
      out.push(diag('ROUTED_CLUSTER_NO_ADDRESSES', base, `${name !== undefined ? `Cluster "${name}"` : base} has neither Ipv4Pool nor Ipv6Prefix: give one or both (IPv4-only, IPv6-only or dual stack)`));
    }
    pools.push({ index: i, label: name !== undefined ? `cluster "${name}"` : base, entries });
  });
  return pools;
}

/** An Ipv4Pool: reversed ranges and unaligned CIDRs are reported and left out of the later checks. */
function readRoutedPool(value: unknown, path: string, out: Diagnostic[]): PoolEntry[] {
  const entries: PoolEntry[] = [];
  listOf(value).forEach((v, i) => {
    const text = textOf(v);
    const entry = text === undefined ? undefined : parseRoutedPoolEntry(text);
    if (text === undefined || entry === undefined) return;
    const at = joinPath(path, i);
    if (entry.cidr !== undefined && !isAligned(entry.cidr)) {
      out.push(diag('ROUTED_POOL_UNALIGNED', at, `${text.trim()} has host bits set; did you mean ${formatCidr({ network: entry.range.lo, prefix: entry.cidr.prefix })}?`));
      return;
    }
    if (entry.range.lo > entry.range.hi) {
      out.push(diag('RANGE_REVERSED', at, `Range ${text.trim()} is reversed: ${formatIp(entry.range.lo)} is above ${formatIp(entry.range.hi)}`));
      return;
    }
    entries.push({ path: at, index: i, range: entry.range });
  });
  return entries;
}

/**
 * Every routed address has one owner: one sweep over all clusters' entries
 * (pairs within one cluster are POOL_OVERLAP, reported already), reported on
 * the entry of the later cluster; then each PublicIps entry against them all.
 */
function checkPoolOverlaps(clusters: readonly ClusterPool[], publicPool: readonly PoolEntry[], out: Diagnostic[]): void {
  const spans: Span<{ cluster: ClusterPool; entry: PoolEntry }>[] = [];
  for (const cluster of clusters) for (const entry of cluster.entries) spans.push({ lo: entry.range.lo, hi: entry.range.hi, item: { cluster, entry } });
  const reported = new Set<string>();
  for (const [a, b] of selfOverlaps(spans)) {
    if (a.item.cluster === b.item.cluster) continue;
    const [first, second] = a.item.cluster.index < b.item.cluster.index ? [a.item, b.item] : [b.item, a.item];
    if (reported.has(second.entry.path)) continue;
    reported.add(second.entry.path);
    out.push(
      diag(
        'ROUTED_POOL_OVERLAP',
        second.entry.path,
        `${formatRange(second.entry.range)} of ${second.cluster.label} overlaps ${formatRange(first.entry.range)} of ${first.cluster.label} (${first.entry.path}); a routed address belongs to one cluster`,
      ),
    );
  }
  for (const [pub, c] of crossOverlaps(publicPool.map(entrySpan), spans)) {
    out.push(diag('ROUTED_POOL_OVERLAP', pub.item.path, `Public ${formatRange(pub.item.range)} overlaps ${formatRange(c.item.entry.range)} of ${c.item.cluster.label} (${c.item.entry.path}); an elastic address cannot also be a cluster's`));
  }
}

function instanceSpace(doc: Obj, clusters: readonly ClusterPool[], publicPool: readonly PoolEntry[]): InstanceSpace {
  const ipv4 = normalizeRanges([...publicPool, ...clusters.flatMap((c) => c.entries)].map((e) => e.range));
  const ipv6 = new Map<bigint, string>();
  listOf(doc['Clusters']).forEach((c, i) => {
    const p = isObj(c) ? parseCidr6(textOf(c['Ipv6Prefix']) ?? '') : undefined;
    if (p !== undefined && p.prefix === 64) ipv6.set(p.network >> 64n, joinPath('Clusters', i, 'Ipv6Prefix'));
  });
  return { ipv4, ipv6 };
}

/** What a level's Bgp says, for the merge (a key of the wrong type still counts as set: the schema reported it). */
interface BgpLevel {
  readonly hasLocalAsn: boolean;
  readonly hasPeers: boolean;
}

/** The families of the addresses of a Peers value that parse; undefined when the value is not a non-empty list of any (unset, LIST_EMPTY or schema errors: reported elsewhere). */
function peerFamilies(peers: unknown): ReadonlySet<'ipv4' | 'ipv6'> | undefined {
  const families = new Set<'ipv4' | 'ipv6'>();
  for (const p of listOf(peers)) {
    const a = isObj(p) ? parseAnyAddress(textOf(p['Address']) ?? '') : undefined;
    if (a !== undefined) families.add(a.family);
  }
  return families.size === 0 ? undefined : families;
}

const FAMILY_TEXT = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;

/**
 * The effective Peers of a cluster (its own, else the cloud's) and of each
 * node that sets its own have a peer of every family the cluster's
 * addressing uses: netd's BIRD carries a family only over a session of that
 * family, so a family without one would be routed on the nodes and announced
 * nowhere. A node without Peers of its own inherits the cluster's, checked
 * once on the cluster. An IPv6-only cluster's elastic addresses (PublicIps)
 * need an IPv4 peer as well, a warning only: PublicIps is cloud-wide, and a
 * cloud may never associate one with that cluster's instances.
 */
function checkPeerFamilies(
  at: { readonly path: string; readonly label: string; readonly source: string },
  families: ReadonlySet<'ipv4' | 'ipv6'> | undefined,
  addressing: { readonly ipv4: boolean; readonly ipv6: boolean; readonly elastic: boolean },
  out: Diagnostic[],
): void {
  if (families === undefined) return;
  const needed = (['ipv4', 'ipv6'] as const).filter((f) => addressing[f]);
  const missing = needed.filter((f) => !families.has(f));
  if (missing.length > 0) {
    const uses = needed.length === 2 ? 'dual stack' : `${FAMILY_TEXT[needed[0]!]}-only`;
    out.push(
      diag(
        'ROUTED_BGP_PEER_FAMILY_MISSING',
        at.path,
        `${at.label} is ${uses} but ${at.source} list${at.source.startsWith('its') ? 's' : ''} no ${missing.map((f) => FAMILY_TEXT[f]).join(' or ')} peer: a node announces a family only over a session of that family, so its instances' ${missing.map((f) => (f === 'ipv4' ? '/32s' : '/128s')).join(' and ')} would reach no router; add ${missing.map((f) => `an ${FAMILY_TEXT[f]} peer`).join(' and ')}`,
      ),
    );
  } else if (addressing.elastic && !addressing.ipv4 && !families.has('ipv4')) {
    out.push(
      diag(
        'ROUTED_BGP_ELASTIC_PEER_MISSING',
        at.path,
        `${at.label} is IPv6-only and ${at.source} list${at.source.startsWith('its') ? 's' : ''} no IPv4 peer: an elastic address (PublicIps) associated with one of its instances would be routed on its node but reach no router; add an IPv4 peer if its instances get elastic addresses`,
      ),
    );
  }
}

/** The cloud's, each cluster's and each node's Bgp values; the merged cloud → cluster settings; node names and router ids. */
function checkBgp(doc: Obj, space: InstanceSpace, out: Diagnostic[]): void {
  const cloud = checkBgpValues(doc['Bgp'], 'Bgp', space, out);
  const cloudPeers = isObj(doc['Bgp']) ? doc['Bgp']['Peers'] : undefined;
  const elastic = listOf(doc['PublicIps']).length > 0;
  const nodeNames = new Map<string, string>();
  /** Effective router ids: a node's RouterId, else its name when that is an IPv4 address. */
  const idClaims: RouterIdClaim[] = [];
  listOf(doc['Clusters']).forEach((c, i) => {
    if (!isObj(c)) return;
    const base = joinPath('Clusters', i);
    const own = checkBgpValues(c['Bgp'], joinPath(base, 'Bgp'), space, out);
    const missing = [!(own.hasLocalAsn || cloud.hasLocalAsn) ? 'LocalAsn' : undefined, !(own.hasPeers || cloud.hasPeers) ? 'Peers' : undefined].filter((k) => k !== undefined);
    if (missing.length > 0) {
      const name = textOf(c['Name']);
      out.push(
        diag(
          'ROUTED_BGP_MISSING',
          joinPath(base, 'Bgp'),
          `${name !== undefined ? `Cluster "${name}"` : base} has no BGP ${missing.join(' and ')}: set ${missing.map((k) => `Bgp.${k}`).join(' and ')} for the whole cloud or in ${base}.Bgp`,
        ),
      );
    }
    const clusterName = textOf(c['Name']);
    const clusterLabel = clusterName !== undefined ? `Cluster "${clusterName}"` : base;
    const addressing = { ipv4: 'Ipv4Pool' in c, ipv6: 'Ipv6Prefix' in c, elastic };
    const ownPeers = isObj(c['Bgp']) ? c['Bgp']['Peers'] : undefined;
    checkPeerFamilies(
      ownPeers !== undefined
        ? { path: joinPath(base, 'Bgp', 'Peers'), label: clusterLabel, source: `its Bgp.Peers` }
        : { path: joinPath(base, 'Bgp'), label: clusterLabel, source: "the Peers it takes from the cloud's Bgp" },
      peerFamilies(ownPeers ?? cloudPeers),
      addressing,
      out,
    );
    listOf(c['Nodes']).forEach((n, j) => {
      if (!isObj(n)) return;
      const at = joinPath(base, 'Nodes', j);
      const name = textOf(n['Name']);
      const nodePeers = isObj(n['Bgp']) ? n['Bgp']['Peers'] : undefined;
      if (nodePeers !== undefined) {
        const nodeLabel = `Node ${name !== undefined ? `"${name}"` : at} of ${clusterName !== undefined ? `cluster "${clusterName}"` : base}`;
        checkPeerFamilies({ path: joinPath(at, 'Bgp', 'Peers'), label: nodeLabel, source: 'its Bgp.Peers' }, peerFamilies(nodePeers), addressing, out);
      }
      if (name !== undefined) {
        const first = nodeNames.get(name);
        if (first !== undefined) out.push(diag('ROUTED_NODE_DUPLICATE', joinPath(at, 'Name'), `Node "${name}" is already listed at ${first}; a node belongs to one cluster and is listed once`));
        else nodeNames.set(name, at);
      }
      checkBgpValues(n['Bgp'], joinPath(at, 'Bgp'), space, out);
      const bgp = n['Bgp'];
      const explicitText = isObj(bgp) ? textOf(bgp['RouterId']) : undefined;
      const explicit = explicitText === undefined ? undefined : parseIp(explicitText);
      if (explicit !== undefined) {
        const path = joinPath(at, 'Bgp', 'RouterId');
        if (explicit === 0) out.push(diag('ROUTED_BGP_ROUTER_ID_INVALID', path, 'Cannot use 0.0.0.0 as a BGP router id'));
        else idClaims.push({ id: explicit, node: at, explicit: true });
      } else if (explicitText === undefined && name !== undefined) {
        const implicit = parseIp(name);
        if (implicit !== undefined) idClaims.push({ id: implicit, node: at, explicit: false });
        // netd would refuse the node's BGP at every sync (BGP_ROUTER_ID_INVALID): say it here, where it is fixed.
        else out.push(diag('ROUTED_BGP_ROUTER_ID_INVALID', joinPath(at, 'Bgp', 'RouterId'), `Node "${name}" has no Bgp.RouterId and its name is not an IPv4 address to take as one: give it a RouterId (an IPv4 address of the node, unique among the speakers)`));
      }
    });
  });
  checkRouterIds(idClaims, out);
}

interface RouterIdClaim {
  readonly id: Ipv4;
  /** The node's path (`Clusters[0].Nodes[1]`). */
  readonly node: string;
  /** Written as RouterId, not taken from the node's name. */
  readonly explicit: boolean;
}

/**
 * Router ids are unique among the listed nodes. Names come first, so a
 * conflict is reported on a RouterId someone wrote, never on a node's name
 * (two names cannot conflict: that is ROUTED_NODE_DUPLICATE).
 */
function checkRouterIds(claims: readonly RouterIdClaim[], out: Diagnostic[]): void {
  const owners = new Map<Ipv4, RouterIdClaim>();
  for (const claim of [...claims.filter((c) => !c.explicit), ...claims.filter((c) => c.explicit)]) {
    const first = owners.get(claim.id);
    if (first === undefined) owners.set(claim.id, claim);
    else if (claim.explicit) {
      const how = first.explicit ? 'the RouterId' : 'the name, and so the default router id,';
      out.push(diag('ROUTED_BGP_ROUTER_ID_INVALID', joinPath(claim.node, 'Bgp', 'RouterId'), `Router id ${formatIp(claim.id)} is already ${how} of the node at ${first.node}; router ids are unique`));
    }
  }
}

/** The values of one Bgp object at `path`; which of the merged keys it sets. */
function checkBgpValues(value: unknown, path: string, space: InstanceSpace, out: Diagnostic[]): BgpLevel {
  if (!isObj(value)) return { hasLocalAsn: false, hasPeers: false };
  const asn = value['LocalAsn'];
  if (typeof asn === 'number' && Number.isInteger(asn) && !isBgpAsn(asn)) out.push(asnDiag(asn, joinPath(path, 'LocalAsn')));
  const peers = value['Peers'];
  const seen = new Map<string, number>();
  listOf(peers).forEach((p, i) => {
    if (!isObj(p)) return;
    const at = joinPath(path, 'Peers', i);
    const peerAsn = p['Asn'];
    if (typeof peerAsn === 'number' && Number.isInteger(peerAsn) && !isBgpAsn(peerAsn)) out.push(asnDiag(peerAsn, joinPath(at, 'Asn')));
    const address = parseAnyAddress(textOf(p['Address']) ?? '');
    if (address === undefined) return;
    const why = peerProblem(address, space);
    if (why !== undefined) out.push(diag('ROUTED_BGP_PEER_INVALID', joinPath(at, 'Address'), `Cannot peer with ${address.text}: it is ${why}`));
    const first = seen.get(address.text);
    if (first !== undefined) out.push(diag('ROUTED_BGP_PEER_DUPLICATE', joinPath(at, 'Address'), `Peer ${address.text} is listed twice (also ${joinPath(path, 'Peers', first)})`));
    else seen.set(address.text, i);
  });
  listOf(value['Communities']).forEach((c, i) => {
    const text = textOf(c);
    if (text !== undefined && canonicalBgpCommunity(text) === undefined) {
      out.push(diag('ROUTED_BGP_COMMUNITY_INVALID', joinPath(path, 'Communities', i), `Cannot use ${JSON.stringify(text)} as a community: expected "ASN:VALUE" with both parts 0-65535, such as 65001:100`));
    }
  });
  const password = textOf(value['Password']);
  if (password !== undefined && !isBgpPassword(password)) {
    out.push(
      diag(
        'ROUTED_BGP_PASSWORD_INVALID',
        joinPath(path, 'Password'),
        `Cannot use this password (${password.length} characters): it must be 1-80 printable ASCII characters without " or \\ and without a space at either end (it is quoted in the BGP daemon's configuration)`,
      ),
    );
  }
  return { hasLocalAsn: asn !== undefined, hasPeers: peers !== undefined };
}

function asnDiag(asn: number, path: string): Diagnostic {
  return diag('ROUTED_BGP_ASN_INVALID', path, `Cannot use ${asn} as an autonomous system number: expected 1-4294967295`);
}

/** Why an address cannot be a BGP neighbour, or undefined. */
function peerProblem(a: NonNullable<ReturnType<typeof parseAnyAddress>>, space: InstanceSpace): string | undefined {
  if (a.family === 'ipv4') {
    if (a.v4 === 0xffffffff) return 'the broadcast address';
    const reserved = reservedIpv4({ lo: a.v4, hi: a.v4 });
    if (reserved !== undefined) return `in ${reserved}`;
    if (containsIp(space.ipv4, a.v4)) return 'an address of an instance pool (Ipv4Pool or PublicIps)';
    return undefined;
  }
  if (a.v6 === 0n) return 'the unspecified address';
  if (a.v6 === 1n) return 'the loopback address';
  if (cidrContains6(IPV6_MULTICAST, a.v6)) return 'a multicast address';
  if (cidrContains6(IPV6_LINK_LOCAL, a.v6)) return 'link-local (a session needs an address that names one neighbour on any interface)';
  if (cidrContains6(IPV6_IPV4_MAPPED, a.v6)) return 'IPv4-mapped (write the IPv4 address)';
  const prefix = space.ipv6.get(a.v6 >> 64n);
  if (prefix !== undefined) return `inside the instances' /64 (${prefix})`;
  return undefined;
}

/** Binary search in sorted, disjoint ranges. */
function containsIp(ranges: readonly IpRange[], ip: Ipv4): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = ranges[mid]!;
    if (ip < r.lo) hi = mid - 1;
    else if (ip > r.hi) lo = mid + 1;
    else return true;
  }
  return false;
}
