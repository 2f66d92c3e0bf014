/**
 * The GNI builder: CloudSnapshot → GniDocument, pure (no I/O, no clock).
 *
 * Rules (eucalyptus-edge.md §3.6 "Build", with edgenet's choices):
 * - configuration from the exploded property: mode EDGE, public pool, DNS,
 *   `enabledCLCIp` = snapshot.clcIp; top-level subnets that a cluster uses
 *   are dropped from `subnets` (only extra no-SNAT networks stay); clusters
 *   in property order, each with its registered nodes (sorted by name) and
 *   each node's instance ids (sorted), `enabledCCIp` = the registered
 *   cluster's ccIp (omitted when the cluster is configured but not
 *   registered); a subnet's `name` is its address, as in Eucalyptus;
 * - property unset (config undefined): a document with mode EDGE,
 *   `enabledCLCIp`, no clusters and therefore no instances and no groups —
 *   it tells every node to lay down nothing, which is correct for a cloud
 *   with no network configuration;
 * - instances cloud-wide, sorted by id, limited to those on a registered node
 *   of a cluster present in the property, with a private IP and at least one
 *   existing group (`includedInstances`); `publicIp` omitted when none; group
 *   ids in launch order, ids of groups that no longer exist dropped;
 * - security groups: those used by an included instance, with their rules,
 *   plus the groups those rules name as peers (laid down as ipsets). A group
 *   present only as a peer carries no rules: none of its instances is in the
 *   document, so its rules would admit traffic to nobody. Sorted by id;
 * - rules: one per source (the store keeps them exploded), protocol as IANA
 *   number, a rule naming a deleted group dropped, the peer's owner taken
 *   from the group itself, sorted by (protocol, ports, icmp, source) and
 *   de-duplicated.
 *
 * Equal snapshots give deep-equal documents, so byte-identical XML and the
 * same `version`. Linear in the snapshot size apart from the sorts.
 */
import type { CloudSnapshot, SnapshotGroup, SnapshotInstance, SnapshotRule } from '../contracts.ts';
import type { ExplodedNetworkConfiguration, ExplodedSubnet } from '../config/types.ts';
import type { GniCluster, GniConfiguration, GniDocument, GniInstance, GniNode, GniRule, GniSecurityGroup, GniSubnet } from '../../shared/gni/model.ts';
import { rememberGniBody, serializeGniBody } from '../../shared/gni/serialize.ts';
import { gniVersionOfBody } from '../../shared/gni/version.ts';

export interface BuildGniOptions {
  /** Broadcast sequence to stamp on the document; omitted for a preview (`GET /v1/gni`). */
  readonly sequence?: number;
}

export function buildGni(snapshot: CloudSnapshot, options: BuildGniOptions = {}): GniDocument {
  const config = snapshot.config;
  const groupsById = new Map<string, SnapshotGroup>();
  for (const g of snapshot.groups) groupsById.set(g.id, g);

  const included = includedInstances(snapshot, groupsById);

  const content = {
    configuration: buildConfiguration(snapshot, config, included),
    instances: included.map((i) => buildInstance(i, groupsById)),
    securityGroups: buildGroups(included, groupsById),
  };
  const body = serializeGniBody(content);
  const doc: GniDocument = { version: gniVersionOfBody(body), ...(options.sequence === undefined ? {} : { sequence: options.sequence }), ...content };
  rememberGniBody(doc, body);
  return doc;
}

/**
 * The instances the document carries, sorted by id: those of a cluster in the
 * property, on a node registered in that cluster, with a private IP and at
 * least one existing group (Eucalyptus 4.4 omitted instances without private
 * IP, groups or node the same way). Anything else would make the document
 * invalid for every node, so one broken instance cannot stop the whole cloud
 * from converging.
 */
function includedInstances(snapshot: CloudSnapshot, groups: ReadonlyMap<string, SnapshotGroup>): SnapshotInstance[] {
  const nodesOf = new Map<string, Set<string>>();
  for (const c of snapshot.config?.Clusters ?? []) nodesOf.set(c.Name, new Set());
  for (const c of snapshot.clusters) for (const n of c.nodes) nodesOf.get(c.name)?.add(n.name);
  return snapshot.instances
    .filter((i) => i.privateIp !== '' && nodesOf.get(i.cluster)?.has(i.node) === true && i.groups.some((g) => groups.has(g)))
    .sort((a, b) => cmp(a.id, b.id));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function subnetOf(s: ExplodedSubnet): GniSubnet {
  return { name: s.Subnet, subnet: s.Subnet, netmask: s.Netmask, gateway: s.Gateway };
}

function buildConfiguration(snapshot: CloudSnapshot, config: ExplodedNetworkConfiguration | undefined, instances: readonly SnapshotInstance[]): GniConfiguration {
  if (config === undefined) {
    return { mode: 'EDGE', publicIps: [], enabledClcIp: snapshot.clcIp, instanceDnsServers: [], subnets: [], clusters: [] };
  }
  // (cluster, node) → instance ids; `instances` is already sorted by id.
  const byNode = new Map<string, string[]>();
  for (const inst of instances) {
    const key = `${inst.cluster}\u0000${inst.node}`;
    const list = byNode.get(key);
    if (list === undefined) byNode.set(key, [inst.id]);
    else list.push(inst.id);
  }
  const registered = new Map(snapshot.clusters.map((c) => [c.name, c]));
  const clusters: GniCluster[] = config.Clusters.map((c) => {
    const reg = registered.get(c.Name);
    const nodes: GniNode[] = [...(reg?.nodes ?? [])]
      .sort((a, b) => cmp(a.name, b.name))
      .map((n) => ({ name: n.name, instanceIds: byNode.get(`${c.Name}\u0000${n.name}`) ?? [] }));
    return {
      name: c.Name,
      subnet: subnetOf(c.Subnet),
      ...(reg === undefined || reg.ccIp === '' ? {} : { enabledCcIp: reg.ccIp }),
      macPrefix: c.MacPrefix,
      privateIps: [...c.PrivateIps],
      nodes,
    };
  });
  const usedSubnets = new Set(config.Clusters.map((c) => `${c.Subnet.Subnet}/${c.Subnet.Netmask}`));
  return {
    mode: 'EDGE',
    publicIps: [...config.PublicIps],
    enabledClcIp: snapshot.clcIp,
    instanceDnsDomain: config.InstanceDnsDomain,
    instanceDnsServers: [...config.InstanceDnsServers],
    subnets: config.Subnets.filter((s) => !usedSubnets.has(`${s.Subnet}/${s.Netmask}`)).map(subnetOf),
    clusters,
  };
}

function buildInstance(inst: SnapshotInstance, groups: ReadonlyMap<string, SnapshotGroup>): GniInstance {
  // Existing groups only, first occurrence wins (a plain loop: this runs once per instance).
  const securityGroups: string[] = [];
  for (const g of inst.groups) if (groups.has(g) && !securityGroups.includes(g)) securityGroups.push(g);
  const out: { -readonly [K in keyof GniInstance]: GniInstance[K] } = { name: inst.id, ownerId: inst.ownerId, macAddress: inst.mac, privateIp: inst.privateIp, securityGroups };
  if (inst.publicIp !== undefined && inst.publicIp !== '') out.publicIp = inst.publicIp;
  return out;
}

function buildGroups(instances: readonly SnapshotInstance[], groups: ReadonlyMap<string, SnapshotGroup>): GniSecurityGroup[] {
  const used = new Set<string>();
  for (const inst of instances) for (const g of inst.groups) if (groups.has(g)) used.add(g);
  const peers = new Set<string>();
  for (const id of used) {
    for (const r of groups.get(id)?.rules ?? []) {
      if (r.sourceGroupId !== undefined && !used.has(r.sourceGroupId) && groups.has(r.sourceGroupId)) peers.add(r.sourceGroupId);
    }
  }
  const out: GniSecurityGroup[] = [];
  for (const id of [...used, ...peers].sort(cmp)) {
    const g = groups.get(id);
    if (g === undefined) continue;
    out.push({ name: g.id, ownerId: g.ownerId, ingressRules: used.has(id) ? buildRules(g.rules, groups) : [] });
  }
  return out;
}

type MutableRule = { -readonly [K in keyof GniRule]: GniRule[K] };

function buildRules(rules: readonly SnapshotRule[], groups: ReadonlyMap<string, SnapshotGroup>): GniRule[] {
  const built: GniRule[] = [];
  for (const r of rules) {
    const rule = buildRule(r, groups);
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

function buildRule(r: SnapshotRule, groups: ReadonlyMap<string, SnapshotGroup>): GniRule | undefined {
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

export function compareRules(a: GniRule, b: GniRule): number {
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
