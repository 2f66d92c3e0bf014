/**
 * The GNI mapper: CloudSnapshot → the document's content model (GniContent),
 * pure — no I/O, no clock, no caches, no module state. What the CLC
 * broadcasts is decided here; the incremental encoder (encoder.ts) only
 * remembers results of these functions by object identity and turns them
 * into bytes.
 *
 * Rules (eucalyptus-edge.md §3.6 "Build", with edgenet's choices):
 * - configuration from the exploded property: the mode, public pool, DNS,
 *   `enabledCLCIp` = snapshot.clcIp; top-level subnets that a cluster uses
 *   are dropped from `subnets` (only extra no-SNAT networks stay); clusters
 *   in property order, each with its registered nodes (sorted by name) and
 *   each node's instance ids (sorted), `enabledCCIp` = the registered
 *   cluster's ccIp; a subnet's `name` is its address, as in Eucalyptus;
 *   `publicGateway` only when the property sets PublicGateway (Eucalyptus
 *   4.4 NetworkInfoBroadcasts does the same); clusters sharing one subnet
 *   each carry it, with their own pools;
 * - what a Eucalyptus 4.4 eucanetd requires is always there (its
 *   `gni_validate`, net/euca_gni.c, refuses the whole document otherwise and
 *   keeps its old state; docs/gni.md "What a 4.4 eucanetd accepts"):
 *   - `instanceDNSServers` never empty: with none configured (property and
 *     `system.dns.nameserveraddress`), 127.0.0.1, the value Eucalyptus 4.4
 *     sent in that case (NetworkInfoBroadcasts.buildNetworkConfiguration's
 *     fallback through NetworkConfigurations.loadSystemNameservers);
 *   - `enabledCCIp` on every cluster: a cluster configured in the property
 *     but not registered is left out of the document, as Eucalyptus 4.4
 *     built its clusters from the registered ones (it has no node, so no
 *     node hosts anything in it); a registered cluster without an address
 *     (registration refuses one, so only a damaged store has it) stops the
 *     build with CLUSTER_WITHOUT_CC_ADDRESS — leaving it out would tell its
 *     nodes to drop their instances' rules;
 * - property unset (config undefined): a document of the default mode with
 *   `enabledCLCIp`, Eucalyptus's default DNS domain and server (what 4.4 sent
 *   without a property, and what its eucanetd requires), no clusters and
 *   therefore no instances and no groups — it tells every node to lay down
 *   nothing, which is correct for a cloud with no network configuration;
 * - instances cloud-wide, sorted by id, limited to those on a registered node
 *   of a cluster present in the property, with a private IP and at least one
 *   existing group (`includedInstances`); in a ROUTED document an instance
 *   without a private IP (IPv6-only cluster) is included when it has an IPv6
 *   address, and carries no `privateIp`; `publicIp` omitted when none; group
 *   ids in launch order, ids of groups that no longer exist dropped;
 * - security groups: those used by an included instance, with their rules,
 *   plus the groups those rules name as peers (laid down as ipsets). A group
 *   present only as a peer carries no rules: none of its instances is in the
 *   document, so its rules would admit traffic to nobody. Sorted by id;
 * - rules: one per source (the store keeps them exploded), protocol as IANA
 *   number, a rule naming a deleted group dropped, the peer's owner taken
 *   from the group itself, sorted by (protocol, ports, icmp, source) and
 *   de-duplicated; IPv6-only rules (an IPv6 CIDR, a source group on ICMPv6)
 *   in the group's `ipv6` extension (shared/gni/ipv6.ts), the rest in
 *   `ingressRules`;
 * - dual stack (issue 14, shared/gni/ipv6.ts), nothing of it for an
 *   IPv4-only property, so its document is byte for byte what it was: a
 *   cluster whose subnet has an Ipv6Prefix carries the `ipv6` extension
 *   (`prefix`, `dns-servers`), each of its instances its address (the
 *   EUI-64 of its MAC in the /64, config/instance-ipv6.ts), and the
 *   configuration `clc-address` = snapshot.clcIpv6 (CLC_IPV6) when that is
 *   set and some cluster of the document is dual-stack;
 * - last, the document's mode adds what it needs (modes/, `extendDocument`;
 *   EDGE adds nothing, so its documents keep the Eucalyptus 4.4 shape).
 *
 * Equal snapshots give deep-equal content. Linear in the snapshot size apart
 * from the sorts.
 */
import type { CloudSnapshot, SnapshotGroup, SnapshotInstance, SnapshotRule } from '../contracts.ts';
import type { ExplodedCluster, ExplodedSubnet } from '../config/types.ts';
import type { GniCluster, GniConfiguration, GniInstance, GniNode, GniRule, GniSecurityGroup, GniSubnet } from '../../shared/gni/model.ts';
import { DEFAULT_NETWORK_MODE } from '../../shared/gni/mode.ts';
import { EdgenetError } from '../../shared/errors.ts';
import { DEFAULT_EXPLODE_INPUTS } from '../config/explode.ts';
import { instanceIpv6Address, ipv6Prefixes, type ClusterIpv6Prefixes } from '../config/instance-ipv6.ts';
import { clusterIpv6Extension, configurationIpv6Extension, groupIpv6Extension, instanceIpv6Extension, ruleDocumentPlace } from '../../shared/gni/ipv6.ts';
import type { ClcNetworkMode, GniContent } from '../modes/mode.ts';
import { clcMode } from '../modes/registry.ts';

/** Groups by id (the snapshot lists them sorted by id). */
export type GroupsById = ReadonlyMap<string, SnapshotGroup>;

/** The whole document content of `snapshot`, from scratch. */
export function mapGni(snapshot: CloudSnapshot): GniContent {
  const groups = groupsById(snapshot.groups);
  const included = includedInstances(snapshot, { groups });
  const prefixes = ipv6Prefixes(snapshot.config);
  const instances = included.map((i) => mapInstance(i, groups, prefixes));
  const used = usedGroups(instances);
  const securityGroups = documentGroups(used, groups).map((g) => mapGroup(g, { used: used.has(g.id), groups }));
  const configuration = mapConfiguration(snapshot, { included });
  return documentMode(snapshot).extendDocument({ configuration, instances, securityGroups }, { snapshot });
}

/** The mode the document is built for: the property's, or the default mode while the property is unset. */
export function documentMode(snapshot: CloudSnapshot): ClcNetworkMode {
  return clcMode(snapshot.config?.Mode ?? DEFAULT_NETWORK_MODE);
}

export function groupsById(groups: readonly SnapshotGroup[]): GroupsById {
  const byId = new Map<string, SnapshotGroup>();
  for (const g of groups) byId.set(g.id, g);
  return byId;
}

export interface IncludedOptions {
  readonly groups: GroupsById;
  /** Told about every instance left out (the encoder drops its memo of it). */
  readonly excluded?: (instance: SnapshotInstance) => void;
}

/**
 * The instances the document carries, sorted by id: those of a cluster in the
 * property, on a node registered in that cluster, with a private IP and at
 * least one existing group (Eucalyptus 4.4 omitted instances without private
 * IP, groups or node the same way). Anything else would make the document
 * invalid for every node, so one broken instance cannot stop the whole cloud
 * from converging. ROUTED: an instance without a private IP (an IPv6-only
 * cluster's) is addressed by its IPv6 address, so it is included when it has
 * one; EDGE never carries one (its nodes refuse it: netd's sanitize,
 * INSTANCE_NO_PRIVATE_IP).
 */
export function includedInstances(snapshot: CloudSnapshot, options: IncludedOptions): SnapshotInstance[] {
  const nodesOf = new Map<string, Set<string>>();
  for (const c of snapshot.config?.Clusters ?? []) nodesOf.set(c.Name, new Set());
  for (const c of snapshot.clusters) for (const n of c.nodes) nodesOf.get(c.name)?.add(n.name);
  // Only a ROUTED document has IPv4-less instances; their IPv6 prefixes are read once.
  const prefixes = snapshot.config?.Mode === 'ROUTED' ? ipv6Prefixes(snapshot.config) : undefined;
  const out: SnapshotInstance[] = [];
  let sorted = true;
  for (const i of snapshot.instances) {
    const addressed = i.privateIp === undefined ? prefixes !== undefined && instanceIpv6Address(prefixes, i) !== undefined : i.privateIp !== '';
    if (!addressed || nodesOf.get(i.cluster)?.has(i.node) !== true || !hasAny(i.groups, options.groups)) {
      options.excluded?.(i);
      continue;
    }
    if (sorted && out.length > 0 && cmp(out[out.length - 1]!.id, i.id) > 0) sorted = false;
    out.push(i);
  }
  // Snapshots come sorted by id; the (stable) sort is for any other caller.
  return sorted ? out : out.sort((a, b) => cmp(a.id, b.id));
}

/** The instance's group ids that exist, first occurrence wins (a plain loop: this runs once per instance). */
export function instanceGroups(inst: SnapshotInstance, groups: GroupsById): string[] {
  const securityGroups: string[] = [];
  for (const g of inst.groups) if (groups.has(g) && !securityGroups.includes(g)) securityGroups.push(g);
  return securityGroups;
}

/** `prefixes`: the dual-stack clusters' /64s (`ipv6Prefixes`); an instance of one carries its address in the `ipv6` extension. */
export function mapInstance(inst: SnapshotInstance, groups: GroupsById, prefixes?: ClusterIpv6Prefixes): GniInstance {
  const securityGroups = instanceGroups(inst, groups);
  const out: { -readonly [K in keyof GniInstance]: GniInstance[K] } =
    inst.privateIp === undefined
      ? { name: inst.id, ownerId: inst.ownerId, macAddress: inst.mac, securityGroups }
      : { name: inst.id, ownerId: inst.ownerId, macAddress: inst.mac, privateIp: inst.privateIp, securityGroups };
  if (inst.publicIp !== undefined && inst.publicIp !== '') out.publicIp = inst.publicIp;
  const ipv6 = prefixes === undefined ? undefined : instanceIpv6Address(prefixes, inst);
  if (ipv6 !== undefined) out.extensions = [instanceIpv6Extension(ipv6)];
  return out;
}

/** Existing group ids some included instance uses. */
function usedGroups(instances: readonly GniInstance[]): Set<string> {
  const used = new Set<string>();
  for (const i of instances) for (const id of i.securityGroups) used.add(id);
  return used;
}

/**
 * The groups the document carries, sorted by id: those an included instance
 * uses (`used`, existing ids only), plus the existing groups their rules name
 * as peers.
 */
export function documentGroups(used: ReadonlySet<string>, groups: GroupsById): SnapshotGroup[] {
  const peers = new Set<string>();
  for (const id of used) {
    for (const r of groups.get(id)?.rules ?? []) {
      if (r.sourceGroupId !== undefined && !used.has(r.sourceGroupId) && groups.has(r.sourceGroupId)) peers.add(r.sourceGroupId);
    }
  }
  const out: SnapshotGroup[] = [];
  for (const id of [...used, ...peers].sort(cmp)) {
    const g = groups.get(id);
    if (g !== undefined) out.push(g);
  }
  return out;
}

/**
 * A document group; `used`: some included instance is in it (a peer-only group carries no rules).
 * Each rule goes where `ruleDocumentPlace` says: `ingressRules` (what a 4.4 reader renders as
 * IPv4), or the `ipv6` extension for IPv6-only rules (an IPv6 CIDR, a source group on ICMPv6),
 * both lists in the sorted order; a group without IPv6-only rules has no extension, so an
 * IPv4-only group is written exactly as before.
 */
export function mapGroup(g: SnapshotGroup, options: { readonly used: boolean; readonly groups: GroupsById }): GniSecurityGroup {
  if (!options.used) return { name: g.id, ownerId: g.ownerId, ingressRules: [] };
  const ingressRules: GniRule[] = [];
  const ipv6Rules: GniRule[] = [];
  for (const r of mapRules(g.rules, options.groups)) (ruleDocumentPlace(r) === 'ipv6' ? ipv6Rules : ingressRules).push(r);
  const ipv6 = groupIpv6Extension(ipv6Rules);
  return { name: g.id, ownerId: g.ownerId, ingressRules, ...(ipv6 === undefined ? {} : { extensions: [ipv6] }) };
}

export interface ConfigurationOptions {
  /** The included instances, sorted by id (`includedInstances`). */
  readonly included: readonly SnapshotInstance[];
  /**
   * Makes a cluster's node entry; the default builds a new one. The encoder
   * passes one that returns the previous GniNode while its ids are unchanged,
   * so the serializer's per-node line memo applies.
   */
  readonly node?: (entry: NodeEntry) => GniNode;
}

/** A node of a configured cluster with the ids of the included instances it hosts (sorted). */
export interface NodeEntry {
  readonly cluster: ExplodedCluster;
  readonly name: string;
  readonly instanceIds: string[];
}

/**
 * The name server Eucalyptus 4.4 sent when none was configured: the default
 * of `system.dns.nameserveraddress`, which NetworkConfigurations
 * .loadSystemNameservers also falls back to. A 4.4 eucanetd refuses a
 * document without one.
 */
const FALLBACK_DNS_SERVER = '127.0.0.1';

/** Eucalyptus's default instance DNS domain (`cloud.vmstate.instance_subdomain` ".eucalyptus" + ".internal"). */
const DEFAULT_DNS_DOMAIN = `${DEFAULT_EXPLODE_INPUTS.instanceSubdomain.replace(/^\.+/, '')}.internal`;

export function mapConfiguration(snapshot: CloudSnapshot, options: ConfigurationOptions): GniConfiguration {
  const config = snapshot.config;
  if (config === undefined) {
    return {
      mode: DEFAULT_NETWORK_MODE,
      publicIps: [],
      enabledClcIp: snapshot.clcIp,
      instanceDnsDomain: DEFAULT_DNS_DOMAIN,
      instanceDnsServers: [FALLBACK_DNS_SERVER],
      subnets: [],
      clusters: [],
    };
  }
  const node = options.node ?? (({ name, instanceIds }: NodeEntry): GniNode => ({ name, instanceIds }));
  // (cluster, node) → instance ids; `included` is already sorted by id.
  const byCluster = new Map<string, Map<string, string[]>>();
  for (const inst of options.included) {
    let byNode = byCluster.get(inst.cluster);
    if (byNode === undefined) byCluster.set(inst.cluster, (byNode = new Map()));
    const list = byNode.get(inst.node);
    if (list === undefined) byNode.set(inst.node, [inst.id]);
    else list.push(inst.id);
  }
  const registered = new Map(snapshot.clusters.map((c) => [c.name, c]));
  const clusters: GniCluster[] = [];
  for (const c of config.Clusters) {
    const reg = registered.get(c.Name);
    if (reg === undefined) continue;
    if (reg.ccIp === '') {
      throw new EdgenetError('CLUSTER_WITHOUT_CC_ADDRESS', `cluster ${c.Name} is registered without a CC address: set one (edgenet cluster update ${c.Name} --cc-ip ADDRESS) so the document can carry its enabledCCIp`, {
        details: { cluster: c.Name },
      });
    }
    const nodes: GniNode[] = [...reg.nodes]
      .sort((a, b) => cmp(a.name, b.name))
      .map((n) => node({ cluster: c, name: n.name, instanceIds: byCluster.get(c.Name)?.get(n.name) ?? [] }));
    const v6 = c.Subnet.Ipv6Prefix === undefined ? {} : { extensions: [clusterIpv6Extension({ prefix: c.Subnet.Ipv6Prefix, dnsServers: c.Subnet.Ipv6DnsServers ?? [] })] };
    clusters.push({ name: c.Name, subnet: subnetOf(c.Subnet), enabledCcIp: reg.ccIp, macPrefix: c.MacPrefix, privateIps: [...c.PrivateIps], nodes, ...v6 });
  }
  // The CLC's IPv6 address (metadata over IPv6) only when some cluster of the document is dual-stack.
  const dualStack = config.Clusters.some((c) => c.Subnet.Ipv6Prefix !== undefined && registered.has(c.Name));
  const clcIpv6 = snapshot.clcIpv6 !== undefined && snapshot.clcIpv6 !== '' && dualStack ? snapshot.clcIpv6 : undefined;
  const usedSubnets = new Set(config.Clusters.map((c) => `${c.Subnet.Subnet}/${c.Subnet.Netmask}`));
  return {
    mode: config.Mode,
    publicIps: [...config.PublicIps],
    enabledClcIp: snapshot.clcIp,
    instanceDnsDomain: config.InstanceDnsDomain,
    instanceDnsServers: config.InstanceDnsServers.length > 0 ? [...config.InstanceDnsServers] : [FALLBACK_DNS_SERVER],
    ...(config.PublicGateway === undefined ? {} : { publicGateway: config.PublicGateway }),
    subnets: config.Subnets.filter((s) => !usedSubnets.has(`${s.Subnet}/${s.Netmask}`)).map(subnetOf),
    clusters,
    ...(clcIpv6 === undefined ? {} : { extensions: [configurationIpv6Extension(clcIpv6)] }),
  };
}

function subnetOf(s: ExplodedSubnet): GniSubnet {
  return { name: s.Subnet, subnet: s.Subnet, netmask: s.Netmask, gateway: s.Gateway };
}

function hasAny(ids: readonly string[], groups: GroupsById): boolean {
  for (const g of ids) if (groups.has(g)) return true;
  return false;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type MutableRule = { -readonly [K in keyof GniRule]: GniRule[K] };

function mapRules(rules: readonly SnapshotRule[], groups: GroupsById): GniRule[] {
  const built: GniRule[] = [];
  for (const r of rules) {
    const rule = mapRule(r, groups);
    if (rule !== undefined) built.push(rule);
  }
  built.sort(compareRules);
  const out: GniRule[] = [];
  for (const rule of built) {
    const last = out[out.length - 1];
    if (last === undefined || compareRules(last, rule) !== 0) out.push(rule);
  }
  return out;
}

function mapRule(r: SnapshotRule, groups: GroupsById): GniRule | undefined {
  const rule: MutableRule = { protocol: r.protocol };
  if (r.fromPort !== undefined) rule.fromPort = r.fromPort;
  if (r.toPort !== undefined) rule.toPort = r.toPort;
  if (r.icmpType !== undefined) rule.icmpType = r.icmpType;
  if (r.icmpCode !== undefined) rule.icmpCode = r.icmpCode;
  if (r.sourceGroupId !== undefined) {
    const peer = groups.get(r.sourceGroupId);
    // The peer group was deleted: its members are gone, so the rule admits nobody.
    if (peer === undefined) return undefined;
    rule.groupId = peer.id;
    rule.groupOwnerId = peer.ownerId;
    return rule;
  }
  if (r.cidr === undefined) return undefined;
  rule.cidr = r.cidr;
  return rule;
}

/** Absent numbers sort first; CIDR sources before group sources; then lexically. */
function compareNum(a: number | undefined, b: number | undefined): number {
  return (a ?? -2) - (b ?? -2);
}

function compareRules(a: GniRule, b: GniRule): number {
  return (
    compareNum(a.protocol, b.protocol) ||
    compareNum(a.fromPort, b.fromPort) ||
    compareNum(a.toPort, b.toPort) ||
    compareNum(a.icmpType, b.icmpType) ||
    compareNum(a.icmpCode, b.icmpCode) ||
    (a.cidr === undefined ? 1 : 0) - (b.cidr === undefined ? 1 : 0) ||
    cmp(a.cidr ?? '', b.cidr ?? '') ||
    cmp(a.groupId ?? '', b.groupId ?? '') ||
    cmp(a.groupOwnerId ?? '', b.groupOwnerId ?? '')
  );
}
