/**
 * What netd accepts as the ROUTED data of a document (issue 17), one place for
 * sanitize (routed-sanitize.ts: named refusals) and the routed render context
 * (routed-context.ts: render failures and warnings), so a document rendered
 * without sanitize never lays down a value sanitize would refuse — the
 * ipv6-checks.ts pattern:
 *
 * - a cluster's `routed` addressing is ipv4, ipv6 or dual and agrees with
 *   what the cluster carries: a non-empty, readable `privateIps` pool exactly
 *   when it has IPv4, a valid `ipv6` prefix (ipv6-checks.ts) exactly when it
 *   has IPv6. A cluster that says one thing and carries another is refused
 *   whole: guessing which half is right could route addresses nobody gave;
 * - the instance-side gateways (configuration `routed`): the IPv4 one a
 *   unicast address (the 169.254.0.1 default is link-local, which is fine: it
 *   only lives on the ports), the IPv6 one link-local (fe80::/10: an instance
 *   reaches it on-link without any prefix of its own), neither the network
 *   address of its range;
 * - an instance's routed addresses: its IPv4 (`privateIp`) inside its
 *   cluster's pool and present exactly when the cluster has IPv4; its IPv6
 *   (the `ipv6` extension) present when the cluster has IPv6 and the EUI-64
 *   address of its MAC in the prefix (ipv6-checks.ts); its elastic IPv4
 *   (`publicIp`) inside the configuration's public pool. An instance that
 *   fails is left out whole: half an instance would get a config drive and
 *   routes for addresses that do not work;
 * - no routed IPv4 (own or elastic) and no pool entry in IPV4_RESERVED
 *   (shared/ip: 0/8, loopback, 169.254/16 — the instance-side link with the
 *   gateway and 169.254.169.254 —, multicast, 240/4 and the broadcast), and
 *   none equal to a BGP peer address of the document (`bgpPeerAddresses`):
 *   each routed address is a /32 or /128 in the node's kernel and announced
 *   to the peers, so such an address would take over the metadata service,
 *   the gateway or the route to a BGP neighbour. Every node's peers, not
 *   only the instance's node's: an instance moves between nodes, and a /32
 *   of any peer of the cloud announced by any node hijacks that peer.
 *
 * Pure. Addresses come back canonical (IPv6 in RFC 5952 text).
 */
import type { GniCluster, GniConfiguration, GniDocument, GniInstance } from '../../shared/gni/model.ts';
import { clusterIpv6, instanceIpv6 } from '../../shared/gni/ipv6.ts';
import { ROUTED_ADDRESSING, clusterRoutedAddressing, configurationRouted, nodeBgpText, type RoutedAddressing } from '../../shared/gni/routed.ts';
import type { Cidr6, IpRange } from '../../shared/ip.ts';
import { IPV6_LINK_LOCAL, cidrContains6, formatIp, formatIpv6, formatRange, ipv4RangeReserved, ipv4Reserved, parseIp, parseIpv6, parseRangeEntry, rangeContains } from '../../shared/ip.ts';
import { checkClusterPrefix, checkInstanceAddress } from './ipv6-checks.ts';

/** A ROUTED cluster whose addressing agrees with what it carries. */
export interface RoutedCluster {
  readonly name: string;
  readonly addressing: RoutedAddressing;
  /** The routable IPv4 pool (`privateIps`); empty exactly when the addressing is ipv6. */
  readonly pool: readonly IpRange[];
  /** The routable IPv6 /64; present exactly when the addressing is ipv6 or dual. */
  readonly prefix?: Cidr6;
  /** The prefix as ip6tables-save and `ip -6 route` print it. */
  readonly prefixText?: string;
}

export type RoutedClusterCheck =
  | { readonly ok: true; readonly cluster: RoutedCluster }
  | { readonly ok: false; readonly reason: 'addressing-invalid' | 'addressing-mismatch' | 'pool-reserved'; readonly message: string };

/**
 * The BGP peer addresses of every node of the document (canonical text, both
 * families; a peer that does not parse is left out here: checkNodeBgp refuses
 * it where bird.conf is rendered).
 */
export function bgpPeerAddresses(doc: GniDocument): ReadonlySet<string> {
  const out = new Set<string>();
  for (const c of doc.configuration.clusters) {
    for (const n of c.nodes) {
      for (const p of nodeBgpText(n)?.peers ?? []) {
        const text = p.split(' ')[0] ?? '';
        const v4 = parseIp(text);
        const v6 = v4 === undefined ? parseIpv6(text) : undefined;
        if (v4 !== undefined) out.add(formatIp(v4));
        else if (v6 !== undefined) out.add(formatIpv6(v6));
      }
    }
  }
  return out;
}

export const hasIpv4 = (a: RoutedAddressing): boolean => a !== 'ipv6';
export const hasIpv6 = (a: RoutedAddressing): boolean => a !== 'ipv4';

function isRoutedAddressing(text: string | undefined): text is RoutedAddressing {
  return text !== undefined && (ROUTED_ADDRESSING as readonly string[]).includes(text);
}

/** `peers`: bgpPeerAddresses of the document (a pool holding one is refused). */
export function checkRoutedCluster(cluster: GniCluster, peers: ReadonlySet<string> = new Set()): RoutedClusterCheck {
  const text = clusterRoutedAddressing(cluster);
  if (!isRoutedAddressing(text)) {
    return {
      ok: false, reason: 'addressing-invalid',
      message: text === undefined ? 'the cluster has no routed addressing (ipv4, ipv6 or dual)' : `routed addressing ${JSON.stringify(text.slice(0, 40))} is not ipv4, ipv6 or dual`,
    };
  }
  const mismatch = (message: string): RoutedClusterCheck => ({ ok: false, reason: 'addressing-mismatch', message: `addressing ${text}: ${message}` });
  const pool: IpRange[] = [];
  for (const entry of cluster.privateIps) {
    const r = parseRangeEntry(entry);
    if (r === undefined || r.lo > r.hi) return mismatch(`IPv4 pool entry ${JSON.stringify(entry.slice(0, 40))} is not an address or a lo-hi range`);
    // Refused whole, not clipped: a pool that reaches into reserved space is a broken property, and clipping would route what is left silently.
    const reserved = ipv4RangeReserved(r);
    if (reserved !== undefined) return { ok: false, reason: 'pool-reserved', message: `IPv4 pool entry ${formatRange(r)} reaches into ${reserved}` };
    for (const peer of peers) {
      const p = parseIp(peer);
      if (p !== undefined && rangeContains(r, p)) return { ok: false, reason: 'pool-reserved', message: `IPv4 pool entry ${formatRange(r)} holds the BGP peer ${peer}` };
    }
    pool.push(r);
  }
  if (hasIpv4(text) && pool.length === 0) return mismatch('the cluster carries no IPv4 pool (privateIps)');
  if (!hasIpv4(text) && pool.length > 0) return mismatch('the cluster carries an IPv4 pool (privateIps)');
  const v6 = clusterIpv6(cluster);
  if (!hasIpv6(text)) {
    if (v6 !== undefined) return mismatch('the cluster carries an IPv6 prefix');
    return { ok: true, cluster: { name: cluster.name, addressing: text, pool } };
  }
  if (v6 === undefined) return mismatch('the cluster carries no IPv6 prefix');
  const p = checkClusterPrefix(v6.prefix);
  if (!p.ok) return mismatch(p.message);
  return { ok: true, cluster: { name: cluster.name, addressing: text, pool, prefix: p.prefix, prefixText: p.text } };
}

export type GatewayCheck =
  | { readonly ok: true; readonly ipv4: string; readonly ipv6: string }
  | { readonly ok: false; readonly message: string };

/** The configuration's instance-side gateways (defaults for absent ones), canonical. */
export function checkRoutedGateways(conf: GniConfiguration): GatewayCheck {
  const g = configurationRouted(conf);
  const v4 = parseIp(g.ipv4);
  const first = v4 === undefined ? 0 : v4 >>> 24;
  // Not 0/8, loopback, multicast or 240/4 (which holds the limited broadcast).
  if (v4 === undefined || first === 0 || first === 127 || first >= 224) {
    return { ok: false, message: `the IPv4 instance gateway ${JSON.stringify(g.ipv4.slice(0, 40))} is not a unicast IPv4 address` };
  }
  const v6 = parseIpv6(g.ipv6);
  // fe80:: itself is the subnet-router anycast address of the link.
  if (v6 === undefined || !cidrContains6(IPV6_LINK_LOCAL, v6) || (v6 & ((1n << 64n) - 1n)) === 0n) {
    return { ok: false, message: `the IPv6 instance gateway ${JSON.stringify(g.ipv6.slice(0, 40))} is not a link-local (fe80::/10) host address` };
  }
  return { ok: true, ipv4: formatIp(v4), ipv6: formatIpv6(v6) };
}

/** An instance's routed addresses, checked (canonical text). */
export interface RoutedAddresses {
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly elastic?: string;
}

export type RoutedInstanceReason =
  | 'ipv4-missing' | 'ipv4-unexpected' | 'ipv4-outside-pool' | 'ipv4-is-gateway' | 'address-reserved'
  | 'ipv6-missing' | 'ipv6-outside-prefix' | 'ipv6-not-eui64'
  | 'elastic-outside-pool';

export type RoutedInstanceCheck =
  | { readonly ok: true; readonly addresses: RoutedAddresses }
  | { readonly ok: false; readonly reason: RoutedInstanceReason; readonly message: string };

/** The document's effective elastic address (EDGE's rule: absent, empty, 0.0.0.0 or the private IP means none). */
export function elasticOf(inst: GniInstance): string | undefined {
  const p = inst.publicIp;
  return p === undefined || p === '' || p === '0.0.0.0' || p === inst.privateIp ? undefined : p;
}

/**
 * One instance of `cluster`: its addresses by the cluster's addressing.
 * `publicPool`: the configuration's publicIps, parsed (an elastic address
 * outside it — or any elastic address when it is empty — is refused: it
 * would be announced over BGP). `peers`: bgpPeerAddresses of the document
 * (none of the instance's addresses may be one).
 */
export function checkRoutedInstance(
  inst: GniInstance, cluster: RoutedCluster,
  ctx: { readonly publicPool: readonly IpRange[]; readonly gatewayIpv4?: string; readonly peers?: ReadonlySet<string> },
): RoutedInstanceCheck {
  const no = (reason: RoutedInstanceReason, message: string): RoutedInstanceCheck => ({ ok: false, reason, message });
  const peer = (address: string, what: string): RoutedInstanceCheck | undefined =>
    ctx.peers?.has(address) === true ? no('address-reserved', `${what} ${address} is a BGP peer's address`) : undefined;
  const reserved = (ip: number, what: string): RoutedInstanceCheck | undefined => {
    const block = ipv4Reserved(ip);
    return block === undefined ? peer(formatIp(ip), what) : no('address-reserved', `${what} ${formatIp(ip)} is in ${block}`);
  };
  const v4Text = inst.privateIp === undefined || inst.privateIp === '' ? undefined : inst.privateIp;
  let ipv4: string | undefined;
  if (hasIpv4(cluster.addressing)) {
    if (v4Text === undefined) return no('ipv4-missing', `no IPv4 address (privateIp) on a ${cluster.addressing} cluster`);
    const ip = parseIp(v4Text);
    const bad = ip === undefined ? undefined : reserved(ip, 'IPv4 address');
    if (bad !== undefined) return bad;
    if (ip === undefined || !cluster.pool.some((r) => rangeContains(r, ip))) return no('ipv4-outside-pool', `IPv4 address ${JSON.stringify(v4Text.slice(0, 40))} is outside the pool of cluster ${cluster.name}`);
    ipv4 = formatIp(ip);
    if (ipv4 === ctx.gatewayIpv4) return no('ipv4-is-gateway', `IPv4 address ${ipv4} is the instance gateway`);
  } else if (v4Text !== undefined) {
    return no('ipv4-unexpected', `an IPv4 address (privateIp ${JSON.stringify(v4Text.slice(0, 40))}) on an ipv6-only cluster`);
  }
  let ipv6: string | undefined;
  if (hasIpv6(cluster.addressing)) {
    const text = instanceIpv6(inst);
    if (text === undefined) return no('ipv6-missing', `no IPv6 address on a ${cluster.addressing} cluster`);
    const c = checkInstanceAddress(text, cluster.prefix, inst.macAddress?.toLowerCase());
    if (!c.ok) return no(c.reason === 'outside-prefix' ? 'ipv6-outside-prefix' : 'ipv6-not-eui64', c.message);
    ipv6 = c.address;
    const bad = peer(ipv6, 'IPv6 address');
    if (bad !== undefined) return bad;
  }
  const elasticText = elasticOf(inst);
  let elastic: string | undefined;
  if (elasticText !== undefined) {
    const ip = parseIp(elasticText);
    const bad = ip === undefined ? undefined : reserved(ip, 'elastic IPv4 address');
    if (bad !== undefined) return bad;
    if (ip === undefined || !ctx.publicPool.some((r) => rangeContains(r, ip))) {
      return no('elastic-outside-pool', `elastic IPv4 address ${JSON.stringify(elasticText.slice(0, 40))} is outside the public pool${ctx.publicPool.length === 0 ? ' (which is empty)' : ''}`);
    }
    elastic = formatIp(ip);
  }
  return {
    ok: true,
    addresses: { ...(ipv4 === undefined ? {} : { ipv4 }), ...(ipv6 === undefined ? {} : { ipv6 }), ...(elastic === undefined ? {} : { elastic }) },
  };
}

/** The configuration's public pool, parsed (unreadable entries left out: they contain nothing). */
export function publicPool(conf: GniConfiguration): IpRange[] {
  return conf.publicIps.flatMap((e) => { const r = parseRangeEntry(e); return r === undefined ? [] : [r]; });
}
