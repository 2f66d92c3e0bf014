/**
 * ROUTED (issue 17) in the property: how its values parse and what explode
 * makes of them. The checks are routed-semantic.ts; both use the parsers
 * here, so what validation accepts is exactly what explode reads.
 *
 * Explode of a ROUTED property (docs/config.md "ROUTED"), in EDGE's exploded
 * shape so the IPAM, the EUI-64 IPv6 addresses (instance-ipv6.ts) and the
 * GNI mapper work unchanged:
 * - a cluster's `Subnet` is the instance-side link: `routed`,
 *   169.254.0.0/255.255.0.0 (ROUTED_LINK_SUBNET), Gateway = the IPv4 gateway;
 *   with the cluster's Ipv6Prefix, and then the IPv6 name servers, on it;
 * - its `PrivateIps` is the Ipv4Pool as canonical ranges (a CIDR becomes its
 *   whole range: every address is a /32 of its own, there is no network or
 *   broadcast address to keep out) — EMPTY for an IPv6-only cluster, which
 *   means "no IPv4", never "the whole subnet";
 * - `InstanceDnsServers` keeps the IPv4 name servers (the document's
 *   `instanceDNSServers` are IPv4 for every reader); the IPv6 ones travel
 *   with each IPv6 cluster's prefix (the document's cluster `ipv6`
 *   extension), as EDGE's dual-stack subnets carry theirs;
 * - `Routed` holds what only ROUTED has: the gateways, each cluster's
 *   addressing, the merged BGP settings of the cluster and of each node the
 *   property names;
 * - `Subnets` is empty, there is no `PublicGateway`, and registered clusters
 *   the property does not list get no entry (a ROUTED cluster needs its own
 *   pool and BGP peers; nothing can be defaulted for it).
 * BGP merge: cloud → cluster → node, key by key; a list (Peers,
 * Communities) replaces the level above's as a whole; RouterId only from the
 * node's own settings.
 */
import { EdgenetError } from '../../shared/errors.ts';
import type { Cidr, IpRange, Ipv4 } from '../../shared/ip.ts';
import { IPV4_RESERVED, cidrRange, formatCidr6, formatIp, formatIpv6, formatRange, ipv4RangeReserved, isAligned, parseCidr, parseCidr6, parseIp, parseIpv6, parseRangeEntry } from '../../shared/ip.ts';
import { DEFAULT_ROUTED_GATEWAY_IPV4, DEFAULT_ROUTED_GATEWAY_IPV6, ROUTED_LINK_SUBNET, canonicalBgpCommunity, type RoutedAddressing } from '../../shared/gni/routed.ts';
import type { BgpConfig, BgpPeerConfig, ClusterConfig, ExplodedBgp, ExplodedCluster, ExplodedNetworkConfiguration, ExplodedSubnet, NetworkConfiguration } from './types.ts';

/** The name of every ROUTED cluster's link subnet in the exploded form (and so the document's subnet `name`: the mapper writes the address). */
export const ROUTED_LINK_NAME = 'routed';

/** A parsed Ipv4Pool entry: its addresses, and the CIDR when it was written as one (aligned or not). */
export interface RoutedPoolEntry {
  readonly range: IpRange;
  readonly cidr?: Cidr;
}

/** An Ipv4Pool entry: an address, `lo-hi` or `a.b.c.d/n` (whitespace around the parts tolerated). Undefined when it does not parse. */
export function parseRoutedPoolEntry(text: string): RoutedPoolEntry | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const range = parseRangeEntry(text);
    return range === undefined ? undefined : { range };
  }
  const cidr = parseCidr(`${text.slice(0, slash).trim()}/${text.slice(slash + 1).trim()}`);
  return cidr === undefined ? undefined : { range: cidrRange(cidr), cidr };
}

/**
 * IPv4 ranges no routed address may come from: the instance-side link
 * (169.254.0.0/16, which holds the gateway and the metadata address), and
 * everything that is not unicast on a network. The one list is
 * shared/ip/ipv4-reserved.ts (netd's checks read it too).
 */
export const ROUTED_RESERVED_IPV4: readonly { readonly range: IpRange; readonly what: string }[] = IPV4_RESERVED;

/** What reserved block `range` touches, or undefined. */
export function reservedIpv4(range: IpRange): string | undefined {
  return ipv4RangeReserved(range);
}

/** An IPv4 or IPv6 address in canonical text, with its family; undefined when it is neither. */
export function parseAnyAddress(text: string): { readonly family: 'ipv4'; readonly v4: Ipv4; readonly text: string } | { readonly family: 'ipv6'; readonly v6: bigint; readonly text: string } | undefined {
  const v4 = parseIp(text);
  if (v4 !== undefined) return { family: 'ipv4', v4, text: formatIp(v4) };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: 'ipv6', v6, text: formatIpv6(v6) };
}

/** Inputs explode has already resolved for every mode. */
export interface RoutedExplodeBase {
  readonly macPrefix: string;
  readonly dnsDomain: string;
  readonly dnsServers: readonly string[];
}

export function explodeRouted(cfg: NetworkConfiguration, base: RoutedExplodeBase): ExplodedNetworkConfiguration {
  const gatewayIpv4 = canonical(cfg.InstanceGateway?.Ipv4 ?? DEFAULT_ROUTED_GATEWAY_IPV4, 'InstanceGateway.Ipv4', 'ipv4');
  const gatewayIpv6 = canonical(cfg.InstanceGateway?.Ipv6 ?? DEFAULT_ROUTED_GATEWAY_IPV6, 'InstanceGateway.Ipv6', 'ipv6');
  const dnsV4: string[] = [];
  const dnsV6: string[] = [];
  for (const s of base.dnsServers) {
    const v6 = parseIp(s) === undefined ? parseIpv6(s) : undefined;
    if (v6 === undefined) dnsV4.push(s);
    else if (!dnsV6.includes(formatIpv6(v6))) dnsV6.push(formatIpv6(v6));
  }
  const clusters = (cfg.Clusters ?? []).map((c, i) => explodeRoutedCluster(c, i, { cfg, macPrefix: base.macPrefix, gatewayIpv4, dnsV6 }));
  return {
    Mode: 'ROUTED',
    InstanceDnsDomain: base.dnsDomain,
    InstanceDnsServers: dnsV4,
    MacPrefix: base.macPrefix,
    PublicIps: (cfg.PublicIps ?? []).map((e) => {
      const r = parseRangeEntry(e);
      if (r === undefined) throw invalid(`PublicIps entry "${e}" does not parse`);
      return formatRange(r);
    }),
    Subnets: [],
    Clusters: clusters,
    Routed: { GatewayIpv4: gatewayIpv4, GatewayIpv6: gatewayIpv6 },
  };
}

interface ClusterContext {
  readonly cfg: NetworkConfiguration;
  readonly macPrefix: string;
  readonly gatewayIpv4: string;
  readonly dnsV6: readonly string[];
}

function explodeRoutedCluster(c: ClusterConfig, index: number, ctx: ClusterContext): ExplodedCluster {
  const where = `Clusters[${index}]`;
  const pool = (c.Ipv4Pool ?? []).map((e) => {
    const entry = parseRoutedPoolEntry(e);
    if (entry === undefined) throw invalid(`${where}.Ipv4Pool entry "${e}" does not parse`);
    if (entry.cidr !== undefined && !isAligned(entry.cidr)) throw invalid(`${where}.Ipv4Pool entry "${e}" has host bits set`);
    return formatRange(entry.range);
  });
  let prefix: string | undefined;
  if (c.Ipv6Prefix !== undefined) {
    const p = parseCidr6(c.Ipv6Prefix);
    if (p === undefined) throw invalid(`${where}.Ipv6Prefix does not parse`);
    prefix = formatCidr6(p);
  }
  const addressing: RoutedAddressing = pool.length > 0 ? (prefix !== undefined ? 'dual' : 'ipv4') : prefix !== undefined ? 'ipv6' : fail(`${where} has neither Ipv4Pool nor Ipv6Prefix`);
  const subnet: ExplodedSubnet = {
    Name: ROUTED_LINK_NAME,
    Subnet: ROUTED_LINK_SUBNET.subnet,
    Netmask: ROUTED_LINK_SUBNET.netmask,
    Gateway: ctx.gatewayIpv4,
    ...(prefix === undefined ? {} : { Ipv6Prefix: prefix, Ipv6DnsServers: [...ctx.dnsV6] }),
  };
  const clusterBgp = overlay(ctx.cfg.Bgp, c.Bgp, { withRouterId: false });
  return {
    Name: c.Name,
    MacPrefix: (c.MacPrefix ?? ctx.macPrefix).toLowerCase(),
    Subnet: subnet,
    PrivateIps: pool,
    Routed: {
      Addressing: addressing,
      Bgp: complete(clusterBgp, where),
      Nodes: (c.Nodes ?? []).map((n, j) => ({ Name: n.Name, Bgp: complete(overlay(clusterBgp, n.Bgp, { withRouterId: true }), `${where}.Nodes[${j}]`) })),
    },
  };
}

/** `lower` over `upper`, key by key (a list replaces a list). */
function overlay(upper: BgpConfig | undefined, lower: BgpConfig | undefined, options: { readonly withRouterId: boolean }): BgpConfig {
  const pick = <K extends keyof BgpConfig>(key: K): Pick<BgpConfig, K> | Record<string, never> => {
    const v = lower?.[key] ?? upper?.[key];
    return v === undefined ? {} : ({ [key]: v } as Pick<BgpConfig, K>);
  };
  return {
    ...pick('LocalAsn'),
    ...(options.withRouterId && lower?.RouterId !== undefined ? { RouterId: lower.RouterId } : {}),
    ...pick('Peers'),
    ...pick('Communities'),
    ...pick('Password'),
  };
}

/** Merged settings in canonical text; LocalAsn and Peers are required (validation guarantees them). */
function complete(b: BgpConfig, where: string): ExplodedBgp {
  if (b.LocalAsn === undefined || b.Peers === undefined || b.Peers.length === 0) throw invalid(`${where} has no LocalAsn or no Peers after the cloud's Bgp`);
  const peers: BgpPeerConfig[] = b.Peers.map((p) => ({ Address: parseAnyAddress(p.Address)?.text ?? fail(`${where} peer "${p.Address}" does not parse`), Asn: p.Asn }));
  const communities = (b.Communities ?? []).map((t) => canonicalBgpCommunity(t) ?? fail(`${where} community "${t}" does not parse`));
  return {
    LocalAsn: b.LocalAsn,
    ...(b.RouterId === undefined ? {} : { RouterId: canonical(b.RouterId, `${where}.Bgp.RouterId`, 'ipv4') }),
    Peers: peers,
    Communities: communities,
    ...(b.Password === undefined ? {} : { Password: b.Password }),
  };
}

function canonical(text: string, where: string, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') {
    const v = parseIp(text);
    return v === undefined ? fail(`${where} "${text}" does not parse`) : formatIp(v);
  }
  const v = parseIpv6(text);
  return v === undefined ? fail(`${where} "${text}" does not parse`) : formatIpv6(v);
}

function fail(message: string): never {
  throw invalid(message);
}

function invalid(message: string): EdgenetError {
  return new EdgenetError('INVALID_CONFIGURATION', `explode needs a valid document: ${message}`);
}
