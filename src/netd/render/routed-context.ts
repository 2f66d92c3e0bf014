/**
 * The render context of a ROUTED node (issue 17): the EDGE RenderContext the
 * shared security-group machinery reads (filter.ts, instance-guard.ts,
 * family.ts, ipsets.ts, nat.ts), resolved with ROUTED's meaning, plus what
 * only ROUTED has (addressing, gateways, each local instance's routed
 * addresses).
 *
 * What differs from EDGE's context.ts:
 * - the cluster's `subnet` is the instance-side link 169.254.0.0/16
 *   (ROUTED_LINK_SUBNET), never a network instances share; the routable
 *   addresses are the cluster's IPv4 pool and IPv6 prefix (routed-checks.ts);
 * - `ports: 'routed'`: filter rules name `vn_<id>` by `-i`/`-o`;
 * - a local instance's `privateIp` is its routed IPv4, '' on an IPv6-only
 *   cluster (LocalInstance keeps EDGE's shape: every consumer of '' is in
 *   ROUTED's own files); `publicIp` its elastic IPv4; `ipv6` its routed IPv6;
 * - `gateway` is the IPv4 instance gateway ('' when no local instance has
 *   IPv4); no fake router, no bridge MAC, no bridge addresses.
 *
 * Failures (RenderFailure, the previous state stays applied): the node's own
 * cluster refused by routed-checks.ts (ROUTED_CLUSTER_INVALID), gateways that
 * are not what an instance can use (ROUTED_GATEWAY_INVALID), two local
 * instances holding one address or MAC (CONFLICTING_INSTANCES, as EDGE).
 * A local instance whose addresses fail is skipped with a warning (sanitize
 * refuses it first, by name).
 */
import { configurationIpv6 } from '../../shared/gni/ipv6.ts';
import type { GniCluster, GniDocument, GniInstance } from '../../shared/gni/model.ts';
import { ROUTED_LINK_SUBNET, type RoutedAddressing } from '../../shared/gni/routed.ts';
import { clusterIpv6 } from '../../shared/gni/ipv6.ts';
import { compareIps, isUnicastMacAddress, parseIp, parseNetmask } from '../../shared/ip.ts';
import type { NetdConfig } from '../config.ts';
import { INTERFACE_NAME_MAX, instanceInterface, netdNames } from '../names.ts';
import type { ClusterIpv6Context, RenderContext } from './context.ts';
import { RenderFailure } from './context.ts';
import { unicastIpv6 } from './ipv6-checks.ts';
import { bgpPeerAddresses, checkRoutedCluster, checkRoutedGateways, checkRoutedInstance, hasIpv4, hasIpv6, publicPool, type RoutedCluster } from './routed-checks.ts';
import type { HostFacts, LocalInstance } from './types.ts';

/** A local instance with its routed host prefixes. */
export interface RoutedLocal {
  readonly instance: LocalInstance;
  /** The document's record (user data for its config drive). */
  readonly record: GniInstance;
  /** Sorted: IPv4 /32s numerically, then the IPv6 /128. */
  readonly prefixes: readonly string[];
}

export interface RoutedContext extends RenderContext {
  readonly addressing: RoutedAddressing;
  readonly routedCluster: RoutedCluster;
  /** The instance-side gateways the ports carry: IPv4 when some local instance has an IPv4 address (its own or elastic), IPv6 when the cluster has IPv6. */
  readonly gatewayIpv4?: string;
  readonly gatewayIpv6?: string;
  /** Sorted by id, like `locals`. */
  readonly routedLocals: readonly RoutedLocal[];
}

const LINK_PREFIX = parseNetmask(ROUTED_LINK_SUBNET.netmask) as number;
const LINK_NETWORK = parseIp(ROUTED_LINK_SUBNET.subnet) as number;

/** IPv4 host prefixes numerically, then IPv6 ones (already canonical text). */
export function sortPrefixes(prefixes: readonly string[]): string[] {
  const v4 = prefixes.filter((p) => !p.includes(':'));
  const v6 = prefixes.filter((p) => p.includes(':'));
  v4.sort((a, b) => compareIps(a.split('/')[0] as string, b.split('/')[0] as string));
  v6.sort();
  return [...v4, ...v6];
}

function ipv6Context(cluster: GniCluster, routed: RoutedCluster, warnings: string[]): ClusterIpv6Context | undefined {
  if (routed.prefix === undefined || routed.prefixText === undefined) return undefined;
  const dnsServers: string[] = [];
  for (const d of clusterIpv6(cluster)?.dnsServers ?? []) {
    const a = unicastIpv6(d);
    if (a === undefined) warnings.push(`cluster ${cluster.name}: IPv6 name server ${JSON.stringify(d)} is not a unicast address: left out`);
    else if (!dnsServers.includes(a)) dnsServers.push(a);
  }
  return { prefix: routed.prefix, prefixText: routed.prefixText, dnsServers };
}

function routedLocals(args: {
  doc: GniDocument; node: string; cluster: GniCluster; routed: RoutedCluster; gatewayIpv4: string; peers: ReadonlySet<string>; warnings: string[];
}): RoutedLocal[] {
  const { doc, node, cluster, routed, warnings } = args;
  const ids = [...new Set(cluster.nodes.find((n) => n.name === node)?.instanceIds ?? [])].sort();
  const wanted = new Set(ids);
  const byId = new Map<string, GniInstance>();
  for (const inst of doc.instances) if (wanted.has(inst.name)) byId.set(inst.name, inst);
  const pool = publicPool(doc.configuration);
  const out: RoutedLocal[] = [];
  const seen = new Map<string, string>();
  for (const id of ids) {
    const inst = byId.get(id);
    if (inst === undefined) { warnings.push(`instance ${id} is listed under node ${node} but has no record: skipped`); continue; }
    const ifname = instanceInterface(id);
    if (ifname.length > INTERFACE_NAME_MAX) { warnings.push(`instance ${id}: interface name ${ifname} exceeds ${INTERFACE_NAME_MAX} characters: skipped`); continue; }
    const mac = inst.macAddress?.toLowerCase() ?? '';
    // Unicast too: render alone (without sanitize) must not pin a multicast lladdr as an instance's neighbour.
    if (!isUnicastMacAddress(mac)) { warnings.push(`instance ${id} has no valid unicast MAC: skipped`); continue; }
    const c = checkRoutedInstance(inst, routed, { publicPool: pool, gatewayIpv4: args.gatewayIpv4, peers: args.peers });
    if (!c.ok) { warnings.push(`instance ${id}: ${c.message}: skipped`); continue; }
    const { ipv4, ipv6, elastic } = c.addresses;
    for (const key of [mac, ipv4, ipv6, elastic]) {
      if (key === undefined) continue;
      const other = seen.get(key);
      if (other !== undefined) throw new RenderFailure('CONFLICTING_INSTANCES', `instances ${other} and ${id} share ${key === mac ? 'MAC' : 'address'} ${key}`);
      seen.set(key, id);
    }
    const instance: LocalInstance = {
      id,
      interface: ifname,
      mac,
      privateIp: ipv4 ?? '',
      ...(elastic === undefined ? {} : { publicIp: elastic }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
      securityGroups: [...new Set(inst.securityGroups)],
    };
    const prefixes = sortPrefixes([
      ...(ipv4 === undefined ? [] : [`${ipv4}/32`]), ...(elastic === undefined ? [] : [`${elastic}/32`]), ...(ipv6 === undefined ? [] : [`${ipv6}/128`]),
    ]);
    out.push({ instance, record: inst, prefixes });
  }
  return out;
}

export function buildRoutedContext(args: { doc: GniDocument; node: string; config: NetdConfig; host: HostFacts }): RoutedContext {
  const { doc, node, config } = args;
  const cluster = doc.configuration.clusters.find((c) => c.nodes.some((n) => n.name === node));
  if (cluster === undefined) throw new RenderFailure('NOT_IN_DOCUMENT', `node ${node} is not listed under any cluster of document ${doc.version}`);
  const peers = bgpPeerAddresses(doc);
  const checked = checkRoutedCluster(cluster, peers);
  if (!checked.ok) throw new RenderFailure('ROUTED_CLUSTER_INVALID', `cluster ${cluster.name}: ${checked.message}`);
  const routed = checked.cluster;
  const gateways = checkRoutedGateways(doc.configuration);
  if (!gateways.ok) throw new RenderFailure('ROUTED_GATEWAY_INVALID', gateways.message);
  const warnings: string[] = [];
  const ipv6 = ipv6Context(cluster, routed, warnings);
  const locals = routedLocals({ doc, node, cluster, routed, gatewayIpv4: gateways.ipv4, peers, warnings });
  const clcText = configurationIpv6(doc.configuration);
  const clcIpv6 = clcText === undefined ? undefined : unicastIpv6(clcText);
  if (clcText !== undefined && clcIpv6 === undefined) warnings.push(`the document's IPv6 clc-address ${JSON.stringify(clcText)} is not a unicast address: not used`);
  // An elastic address gives an instance of an ipv6-only cluster IPv4 too: its port then needs the IPv4 gateway.
  const anyIpv4 = hasIpv4(routed.addressing) || locals.some((l) => l.instance.publicIp !== undefined);
  return {
    doc, node, cluster, config, names: netdNames(config.prefix),
    subnet: { network: LINK_NETWORK, prefix: LINK_PREFIX }, netmask: ROUTED_LINK_SUBNET.netmask,
    locals: locals.map((l) => l.instance),
    gateway: anyIpv4 ? gateways.ipv4 : '',
    fakeRouter: false, bridgeMac: '', bridgeAddresses: [],
    groupsById: new Map(doc.securityGroups.map((g) => [g.name, g])),
    ...(ipv6 === undefined ? {} : { ipv6 }),
    ...(clcIpv6 === undefined ? {} : { clcIpv6 }),
    ports: 'routed',
    warnings,
    addressing: routed.addressing,
    routedCluster: routed,
    ...(anyIpv4 ? { gatewayIpv4: gateways.ipv4 } : {}),
    ...(hasIpv6(routed.addressing) ? { gatewayIpv6: gateways.ipv6 } : {}),
    routedLocals: locals,
  };
}
