/**
 * A ROUTED network property (docs/config.md "ROUTED") rebuilt from a ROUTED
 * network-info document (docs/gni.md "The `routed` and `bgp` extensions"),
 * for `edgenet import gni` without `--property`. Pure.
 *
 * What comes back, read where the CLC wrote it (modes/routed.ts,
 * config/routed.ts explode):
 * - InstanceGateway {Ipv4, Ipv6}: the configuration's `routed` extension;
 * - InstanceDnsDomain, PublicIps (the elastic pool): as for EDGE;
 *   InstanceDnsServers: the document's (IPv4) ones, then the IPv6 ones, which
 *   explode moved onto every IPv6 cluster's `ipv6` extension;
 * - per cluster: Name, MacPrefix, Ipv4Pool = `privateIps` when its `routed`
 *   addressing is ipv4/dual, Ipv6Prefix = its `ipv6` extension's prefix when
 *   ipv6/dual (a cluster without the extension: whichever it has);
 * - BGP: the document carries each node's MERGED settings (cloud → cluster →
 *   node, a list replacing the level above's whole), so a layering is chosen
 *   that gives every node exactly its settings back: per key, the cloud takes
 *   the value most clusters have, a cluster only the keys in which its
 *   settings differ from the cloud's, a node only those in which it differs
 *   from its cluster's, plus its router id when the document has one (a node
 *   is listed only then). A cluster's settings are its nodes' most common
 *   values — except when it has a node the property cannot list (no router id
 *   and a name that is not an IPv4 address, ROUTED_BGP_ROUTER_ID_INVALID):
 *   such a node was never listed, so it carries the cluster's settings
 *   exactly (the CLC registers nodes by IPv4 address, so only a document
 *   from elsewhere has one). A level sets Password only when every node below it has one (no
 *   level can unset a password). Every node's merge is checked against the
 *   document; one that does not come back is named in `lost`.
 *
 * `gaps` lists what the property needs and the document lacks (a document
 * with no node carries no BGP at all): the rebuilt property then does not
 * validate, and the import says why.
 */
import type { GniCluster, GniConfiguration } from '../../shared/gni/model.ts';
import { clusterIpv6 } from '../../shared/gni/ipv6.ts';
import { checkNodeBgp, clusterRoutedAddressing, configurationRouted, nodeBgpText } from '../../shared/gni/routed.ts';
import { parseIp } from '../../shared/ip.ts';
import type { BgpConfig, BgpPeerConfig, ClusterConfig, NetworkConfiguration, RoutedNodeConfig } from '../config/types.ts';

export interface RoutedReconstruction {
  readonly value: NetworkConfiguration;
  /** Property fields the document cannot give back, each with why. */
  readonly lost: readonly string[];
  /** What the property needs and the document does not carry (also in `lost`): the value will not validate. */
  readonly gaps: readonly string[];
}

/** Fields no ROUTED document carries, whatever its content. */
const ALWAYS_LOST: readonly string[] = [
  'MacPrefix (top level): only each cluster\'s resulting prefix travels; written per cluster',
  'Bgp layering: the document carries each node\'s merged settings, so the cloud, cluster and node Bgp are rebuilt as the cloud\'s most common values and each level\'s differences from the one above (every node gets exactly its settings back, not necessarily from the level the admin wrote them at)',
  'Clusters[].Nodes: a node is listed only when it differs from its cluster or has a RouterId; entries for nodes that were not registered, or that only repeated their cluster\'s settings, are not in a document',
  'Clusters that were not registered: a document lists registered clusters only',
  'whether InstanceDnsDomain, InstanceDnsServers and InstanceGateway were set or defaulted: written as the document gives them',
  'how Ipv4Pool and PublicIps entries were written: they come back as the ranges they explode to (a CIDR as its first-last range)',
];

/** A node's BGP settings without its router id: what the layers merge. */
interface Settings {
  readonly LocalAsn: number;
  readonly Peers: readonly BgpPeerConfig[];
  readonly Communities: readonly string[];
  readonly Password?: string;
}

interface DocNode {
  readonly name: string;
  readonly settings: Settings;
  /** Only when the document writes one (without it netd takes the node's name). */
  readonly routerId?: string;
}

interface DocCluster {
  readonly gni: GniCluster;
  readonly nodes: readonly DocNode[];
}

/**
 * checkNodeBgp resolves a missing router id to the node's name and refuses a
 * name that is not IPv4; the name stands in only for that, and a router id
 * is taken back only when the document writes one (whether a node may go
 * without is the property validator's call, on the nodes it lists).
 */
const ROUTER_ID_STAND_IN = '192.0.2.1';

export function reconstructRoutedProperty(conf: GniConfiguration): RoutedReconstruction {
  const lost = [...ALWAYS_LOST];
  const gaps: string[] = [];
  const clusters: DocCluster[] = conf.clusters.map((c) => ({ gni: c, nodes: c.nodes.flatMap((n) => readNode(c, n.name, n, lost)) }));

  // BGP: clusters' settings from their nodes, the cloud's from the clusters'.
  const clusterTargets = new Map<DocCluster, Settings>();
  for (const c of clusters) if (c.nodes.length > 0) clusterTargets.set(c, clusterSettings(c.nodes));
  const cloudTarget = clusterTargets.size > 0 ? commonSettings([...clusterTargets.values()]) : undefined;
  if (cloudTarget === undefined) {
    const why = conf.clusters.some((c) => c.nodes.length > 0) ? 'no node of the document has readable BGP settings' : 'the document has no node';
    const gap = `Bgp: ${why}, and only nodes carry BGP settings, so there is none to rebuild (LocalAsn, Peers) and the rebuilt property does not validate`;
    lost.push(gap);
    gaps.push(gap);
  }
  const cloudBgp = cloudTarget === undefined ? undefined : difference(cloudTarget, undefined);

  const v6Dns: string[] = [];
  const out: ClusterConfig[] = clusters.map((c) => {
    const v6 = clusterIpv6(c.gni);
    for (const s of v6?.dnsServers ?? []) if (!v6Dns.includes(s)) v6Dns.push(s);
    const addressing = clusterRoutedAddressing(c.gni);
    const ipv4 = addressing === 'ipv4' || addressing === 'dual' || (addressing === undefined && c.gni.privateIps.length > 0);
    const ipv6 = addressing === 'ipv6' || addressing === 'dual' || (addressing === undefined && v6 !== undefined);
    if (ipv4 && c.gni.privateIps.length === 0) lost.push(`cluster ${c.gni.name}: Ipv4Pool: its addressing is ${addressing ?? 'unknown'} but the document lists no privateIps`);
    if (ipv6 && v6 === undefined) lost.push(`cluster ${c.gni.name}: Ipv6Prefix: its addressing is ${addressing ?? 'unknown'} but the document has no ipv6 prefix for it`);

    const target = clusterTargets.get(c);
    if (target === undefined && cloudTarget !== undefined) {
      lost.push(`cluster ${c.gni.name}: Bgp: no node of the cluster with BGP settings is in the document; it takes the cloud's (give its own with --property if it had any)`);
    }
    const clusterBgp = target === undefined || cloudTarget === undefined ? {} : difference(target, cloudTarget);
    const nodes: RoutedNodeConfig[] = [];
    for (const n of c.nodes) {
      const bgp: BgpConfig = { ...(n.routerId === undefined ? {} : { RouterId: n.routerId }), ...difference(n.settings, target) };
      if (Object.keys(bgp).length > 0) nodes.push({ Name: n.name, Bgp: bgp });
      const merged = merge([cloudBgp, clusterBgp, bgp]);
      if (!sameSettings(merged, n.settings)) {
        // Only a password can fail to come back: every other key a node differs in is written on it.
        lost.push(`node ${n.name} of cluster ${c.gni.name}: its BGP settings do not come back exactly: it has no password and its cluster's settings have one (no level can unset a password)`);
      }
    }
    return {
      Name: c.gni.name,
      MacPrefix: c.gni.macPrefix,
      ...(ipv4 && c.gni.privateIps.length > 0 ? { Ipv4Pool: [...c.gni.privateIps] } : {}),
      ...(ipv6 && v6 !== undefined ? { Ipv6Prefix: v6.prefix } : {}),
      ...(Object.keys(clusterBgp).length > 0 ? { Bgp: clusterBgp } : {}),
      ...(nodes.length > 0 ? { Nodes: nodes } : {}),
    };
  });
  if (!conf.clusters.some((c) => clusterIpv6(c) !== undefined)) {
    lost.push('IPv6 name servers of InstanceDnsServers: a document carries them only with an IPv6 cluster\'s prefix, and no cluster of this one has one');
  }

  const gateways = configurationRouted(conf);
  const value: NetworkConfiguration = {
    Mode: 'ROUTED',
    ...(conf.instanceDnsDomain !== undefined ? { InstanceDnsDomain: conf.instanceDnsDomain } : {}),
    // The document's instanceDNSServers are IPv4 (what every reader expects); explode puts the IPv6 ones on the IPv6 clusters.
    InstanceDnsServers: [...conf.instanceDnsServers, ...v6Dns.filter((s) => !conf.instanceDnsServers.includes(s))],
    PublicIps: [...conf.publicIps],
    InstanceGateway: { Ipv4: gateways.ipv4, Ipv6: gateways.ipv6 },
    ...(cloudBgp === undefined ? {} : { Bgp: cloudBgp }),
    Clusters: out,
  };
  return { value, lost, gaps };
}

/** The node's settings as the document writes them (checked by the one check netd runs), or nothing with a note in `lost`. */
function readNode(cluster: GniCluster, name: string, node: GniCluster['nodes'][number], lost: string[]): DocNode[] {
  const text = nodeBgpText(node);
  if (text === undefined) {
    lost.push(`node ${name} of cluster ${cluster.name}: the document carries no bgp extension for it; it gets its cluster's settings`);
    return [];
  }
  const check = checkNodeBgp(text, ROUTER_ID_STAND_IN);
  if (!check.ok) {
    lost.push(`node ${name} of cluster ${cluster.name}: its bgp extension does not read (${check.problems.map((p) => p.code).join(', ')}); it gets its cluster's settings`);
    return [];
  }
  const b = check.value;
  return [
    {
      name,
      settings: {
        LocalAsn: b.localAs,
        Peers: b.peers.map((p) => ({ Address: p.address, Asn: p.as })),
        Communities: [...b.communities],
        ...(b.password === undefined ? {} : { Password: b.password }),
      },
      ...(text.routerId === undefined ? {} : { routerId: b.routerId }),
    },
  ];
}

/**
 * The cluster's merged settings. A node that can be listed only with a
 * RouterId it does not have (no router id, a name that is not IPv4) was not
 * listed, so it has them exactly; otherwise the nodes' most common values.
 */
function clusterSettings(nodes: readonly DocNode[]): Settings {
  const unlistable = nodes.find((n) => n.routerId === undefined && parseIp(n.name) === undefined);
  return unlistable !== undefined ? unlistable.settings : commonSettings(nodes.map((n) => n.settings));
}

/** Per key, the most common value (the first on a tie); Password only when every one has one. */
function commonSettings(all: readonly Settings[]): Settings {
  const passwords = all.map((s) => s.Password);
  return {
    LocalAsn: mostCommon(all.map((s) => s.LocalAsn)),
    Peers: mostCommon(all.map((s) => s.Peers)),
    Communities: mostCommon(all.map((s) => s.Communities)),
    ...(passwords.every((p) => p !== undefined) ? { Password: mostCommon(passwords as string[]) } : {}),
  };
}

function mostCommon<T>(values: readonly T[]): T {
  const counts = new Map<string, { value: T; n: number }>();
  for (const v of values) {
    const key = JSON.stringify(v);
    const seen = counts.get(key);
    if (seen === undefined) counts.set(key, { value: v, n: 1 });
    else seen.n++;
  }
  let best: { value: T; n: number } | undefined;
  // Map keeps first-seen order, so `>` keeps the first of equals.
  for (const c of counts.values()) if (best === undefined || c.n > best.n) best = c;
  return best!.value;
}

/** The keys in which `lower` differs from the merged settings above it (all of them at the top); no Communities is []. */
function difference(lower: Settings, upper: Settings | undefined): BgpConfig {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return {
    ...(upper === undefined || lower.LocalAsn !== upper.LocalAsn ? { LocalAsn: lower.LocalAsn } : {}),
    ...(upper === undefined || !same(lower.Peers, upper.Peers) ? { Peers: [...lower.Peers] } : {}),
    ...(!same(lower.Communities, upper?.Communities ?? []) ? { Communities: [...lower.Communities] } : {}),
    ...(lower.Password !== undefined && lower.Password !== upper?.Password ? { Password: lower.Password } : {}),
  };
}

/** Levels top to bottom, merged as explode merges them (config/routed.ts overlay): each key from the lowest level that sets it. */
function merge(levels: readonly (BgpConfig | undefined)[]): BgpConfig {
  let out: BgpConfig = {};
  for (const level of levels) {
    if (level === undefined) continue;
    out = {
      ...out,
      ...(level.LocalAsn === undefined ? {} : { LocalAsn: level.LocalAsn }),
      ...(level.Peers === undefined ? {} : { Peers: level.Peers }),
      ...(level.Communities === undefined ? {} : { Communities: level.Communities }),
      ...(level.Password === undefined ? {} : { Password: level.Password }),
    };
  }
  return out;
}

function sameSettings(merged: BgpConfig, s: Settings): boolean {
  return (
    merged.LocalAsn === s.LocalAsn &&
    JSON.stringify(merged.Peers) === JSON.stringify(s.Peers) &&
    JSON.stringify(merged.Communities ?? []) === JSON.stringify(s.Communities) &&
    merged.Password === s.Password
  );
}
