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
 *
 * Incremental: the result is memoized by the identity of the snapshot's parts
 * and elements (snapshots are immutable values; the snapshot cache keeps
 * unchanged parts and elements as the same objects, see snapshot-cache.ts):
 * - per instance: its GniInstance and `<instance>` fragment (WeakMap on the
 *   SnapshotInstance, valid while its filtered group list is unchanged);
 * - the instances section (included list, GniInstance list, UTF-8 bytes) per
 *   instances array, valid for the same configuration, clusters and set of
 *   group ids;
 * - the configuration section per included list, valid for the same
 *   configuration, clusters and clcIp;
 * - per group: its GniSecurityGroup and fragment (WeakMap on the
 *   SnapshotGroup, valid for the same used/peer-only role and the same peer
 *   group objects); the groups section per groups array and set of used
 *   groups;
 * - the version per triple of section byte buffers.
 * So a build after one authorize re-serializes one group and hashes the
 * cached section bytes; after one run it serializes that instance, copies the
 * other fragments' bytes into a new section and rebuilds the configuration
 * section (node → instance ids).
 * Every memo is keyed by inputs only (pure-function memoization; the only
 * module state besides WeakMaps is the last group id list, to recognise an
 * unchanged set of groups): a hit returns exactly what a fresh build would
 * (test/unit/gni/incremental.test.ts and test/unit/clc/snapshot-cache.test.ts
 * compare byte for byte after random change sequences).
 */
import type { CloudSnapshot, SnapshotCluster, SnapshotGroup, SnapshotInstance, SnapshotRule } from '../contracts.ts';
import type { ExplodedCluster, ExplodedNetworkConfiguration, ExplodedSubnet } from '../config/types.ts';
import type { GniCluster, GniConfiguration, GniDocument, GniInstance, GniNode, GniRule, GniSecurityGroup, GniSubnet } from '../../shared/gni/model.ts';
import {
  AFTER_CONFIGURATION_XML,
  AFTER_INSTANCES_XML,
  assembleGniBody,
  configurationXml,
  GNI_TAIL_XML,
  gniHeadXml,
  groupsSectionXml,
  groupXml,
  INSTANCES_CLOSE_XML,
  INSTANCES_EMPTY_XML,
  INSTANCES_OPEN_XML,
  instanceXml,
  rememberGniBody,
} from '../../shared/gni/serialize.ts';
import { gniVersionOfChunks } from '../../shared/gni/version.ts';

export interface BuildGniOptions {
  /** Broadcast sequence to stamp on the document; omitted for a preview (`GET /v1/gni`). */
  readonly sequence?: number;
}

/** A built document with its encoded form at hand (what the broadcaster needs). */
export interface GniBuild {
  /** The document without a sequence. */
  readonly doc: GniDocument;
  /**
   * The full XML text as UTF-8, `sequence` and `generation` stamped on the root when given
   * (equals `Buffer.from(serializeGni({...doc, sequence, generation}))`).
   */
  encode(sequence?: number, generation?: number): Buffer;
}

export function buildGni(snapshot: CloudSnapshot, options: BuildGniOptions = {}): GniDocument {
  const { doc } = buildGniEncoded(snapshot);
  // A fresh object each call (callers may hold on to it); the content objects are shared and immutable.
  return { version: doc.version, ...(options.sequence === undefined ? {} : { sequence: options.sequence }), configuration: doc.configuration, instances: doc.instances, securityGroups: doc.securityGroups };
}

const AFTER_CONFIGURATION = Buffer.from(AFTER_CONFIGURATION_XML);
const AFTER_INSTANCES = Buffer.from(AFTER_INSTANCES_XML);
const TAIL = Buffer.from(GNI_TAIL_XML);

export function buildGniEncoded(snapshot: CloudSnapshot): GniBuild {
  const groups = groupIndex(snapshot.groups);
  const inst = instancesPart(snapshot, groups);
  const conf = configurationPart(snapshot, inst.included);
  const grp = groupsPart(snapshot.groups, groups, inst);
  const built = documentOf(conf, inst, grp);
  const chunks = [conf.bytes, AFTER_CONFIGURATION, inst.bytes, AFTER_INSTANCES, grp.bytes];
  return {
    doc: built.doc,
    encode: (sequence?: number, generation?: number) => Buffer.concat([Buffer.from(gniHeadXml({ version: built.doc.version, sequence, generation })), ...chunks, TAIL]),
  };
}

// --- memo layers (see the module header) ---

interface GroupIndex {
  readonly byId: ReadonlyMap<string, SnapshotGroup>;
  /** Stands for the set of group ids: equal tokens ⇒ equal id lists. */
  readonly token: object;
}

interface InstancesPart {
  readonly config: ExplodedNetworkConfiguration | undefined;
  readonly clusters: readonly SnapshotCluster[];
  readonly groupToken: object;
  readonly included: readonly SnapshotInstance[];
  readonly gni: readonly GniInstance[];
  /** Existing group ids some included instance uses. */
  readonly used: ReadonlySet<string>;
  readonly bytes: Buffer;
}

/**
 * An instance's GniInstance and its `<instance>` fragment: freshly built it
 * is the text `xml` (`end - start` = its UTF-8 length); once copied into a
 * section it is `bytes[start, end)` of that section (so older sections can be
 * collected; every section holding it has the same bytes there).
 */
interface InstanceMemo {
  groupToken: object;
  readonly gni: GniInstance;
  bytes: Buffer | undefined;
  xml: string | undefined;
  start: number;
  end: number;
}

interface ConfigurationPart {
  readonly config: ExplodedNetworkConfiguration | undefined;
  readonly clusters: readonly SnapshotCluster[];
  readonly clcIp: string;
  readonly gni: GniConfiguration;
  readonly bytes: Buffer;
  readonly xml: string;
}

interface GroupsPart {
  /** The used group ids it was built for (the groups array is the memo key). */
  readonly used: ReadonlySet<string>;
  readonly gni: readonly GniSecurityGroup[];
  readonly bytes: Buffer;
  readonly xml: string;
}

interface GroupMemo {
  readonly used: boolean;
  /** Peer groups its rules consulted, by id, as they were (undefined: absent). */
  readonly peers: readonly (readonly [string, SnapshotGroup | undefined])[];
  readonly gni: GniSecurityGroup;
  readonly xml: string;
}

interface DocumentMemo {
  readonly conf: ConfigurationPart;
  readonly inst: InstancesPart;
  readonly grp: GroupsPart;
  readonly doc: GniDocument;
}

const groupIndexes = new WeakMap<readonly SnapshotGroup[], GroupIndex>();
/** The id list of the last indexed groups array, so a new array with the same ids keeps the token. */
let lastGroupIds: { readonly ids: readonly string[]; readonly token: object } | undefined;
const instanceParts = new WeakMap<readonly SnapshotInstance[], InstancesPart>();
const instanceMemos = new WeakMap<SnapshotInstance, InstanceMemo>();
const configurationParts = new WeakMap<readonly SnapshotInstance[], ConfigurationPart>();
const groupsParts = new WeakMap<readonly SnapshotGroup[], GroupsPart>();
const groupMemos = new WeakMap<SnapshotGroup, GroupMemo>();
const documents = new WeakMap<Buffer, DocumentMemo>();

function groupIndex(groups: readonly SnapshotGroup[]): GroupIndex {
  const hit = groupIndexes.get(groups);
  if (hit !== undefined) return hit;
  const byId = new Map<string, SnapshotGroup>();
  for (const g of groups) byId.set(g.id, g);
  const ids = groups.map((g) => g.id);
  const token = lastGroupIds !== undefined && sameStrings(lastGroupIds.ids, ids) ? lastGroupIds.token : {};
  lastGroupIds = { ids, token };
  const index = { byId, token };
  groupIndexes.set(groups, index);
  return index;
}

function instancesPart(snapshot: CloudSnapshot, groups: GroupIndex): InstancesPart {
  const hit = instanceParts.get(snapshot.instances);
  if (hit !== undefined && hit.config === snapshot.config && hit.clusters === snapshot.clusters && hit.groupToken === groups.token) return hit;
  const included = includedInstances(snapshot, groups.byId);
  const gni: GniInstance[] = [];
  const memos: InstanceMemo[] = [];
  const used = new Set<string>();
  let length = 0;
  for (const i of included) {
    let memo = instanceMemos.get(i);
    if (memo === undefined || (memo.groupToken !== groups.token && !sameStrings(memo.gni.securityGroups, existingGroups(i, groups.byId)))) {
      const g = buildInstance(i, groups.byId);
      const xml = instanceXml(g);
      memo = { groupToken: groups.token, gni: g, bytes: undefined, xml, start: 0, end: Buffer.byteLength(xml) };
      instanceMemos.set(i, memo);
    } else memo.groupToken = groups.token;
    gni.push(memo.gni);
    memos.push(memo);
    length += memo.end - memo.start;
    for (const id of memo.gni.securityGroups) used.add(id);
  }
  const part: InstancesPart = { config: snapshot.config, clusters: snapshot.clusters, groupToken: groups.token, included, gni, used, bytes: instancesSection(memos, length) };
  instanceParts.set(snapshot.instances, part);
  return part;
}

/**
 * The `<instances>` section as bytes: the fragments copied into one buffer
 * (joining 10,000 fragment strings and encoding the result costs ~10× more).
 * Same text as `instancesSectionXml`.
 */
function instancesSection(memos: readonly InstanceMemo[], fragmentBytes: number): Buffer {
  if (memos.length === 0) return Buffer.from(INSTANCES_EMPTY_XML);
  const out = Buffer.allocUnsafe(INSTANCES_OPEN_XML.length + fragmentBytes + INSTANCES_CLOSE_XML.length);
  let at = out.write(INSTANCES_OPEN_XML, 0, 'latin1');
  // Fragments adjacent in one source buffer (all but the changed ones, after the first build) are
  // copied in one call; consecutive fresh fragments are joined and written in one call.
  let run: { bytes: Buffer; start: number; end: number } | undefined;
  let fresh: string[] = [];
  const flush = () => {
    if (run !== undefined) at += run.bytes.copy(out, at, run.start, run.end);
    run = undefined;
    if (fresh.length > 0) at += out.write(fresh.join(''), at, 'utf8');
    fresh = [];
  };
  for (const m of memos) {
    if (m.bytes === undefined) {
      if (run !== undefined) flush();
      fresh.push(m.xml!);
    } else if (run !== undefined && run.bytes === m.bytes && run.end === m.start) run.end = m.end;
    else {
      flush();
      run = { bytes: m.bytes, start: m.start, end: m.end };
    }
  }
  flush();
  // Point every memo into the new section, so the old sections (and fresh texts) can be collected.
  let pos = INSTANCES_OPEN_XML.length;
  for (const m of memos) {
    const len = m.end - m.start;
    m.bytes = out;
    m.xml = undefined;
    m.start = pos;
    m.end = pos += len;
  }
  at += out.write(INSTANCES_CLOSE_XML, at, 'latin1');
  if (at !== out.length) throw new Error(`instances section: wrote ${at} of ${out.length} bytes`);
  return out;
}

function configurationPart(snapshot: CloudSnapshot, included: readonly SnapshotInstance[]): ConfigurationPart {
  const hit = configurationParts.get(included);
  if (hit !== undefined && hit.config === snapshot.config && hit.clusters === snapshot.clusters && hit.clcIp === snapshot.clcIp) return hit;
  const gni = buildConfiguration(snapshot, snapshot.config, included);
  const xml = configurationXml(gni);
  const part: ConfigurationPart = { config: snapshot.config, clusters: snapshot.clusters, clcIp: snapshot.clcIp, gni, bytes: Buffer.from(xml), xml };
  configurationParts.set(included, part);
  return part;
}

function groupsPart(list: readonly SnapshotGroup[], groups: GroupIndex, inst: InstancesPart): GroupsPart {
  const hit = groupsParts.get(list);
  // Same groups array and same used set ⇒ same section (a run or terminate rarely changes which groups are used).
  if (hit !== undefined && (hit.used === inst.used || sameSet(hit.used, inst.used))) return hit;
  const gni: GniSecurityGroup[] = [];
  const fragments: string[] = [];
  for (const g of documentGroups(inst.used, groups.byId)) {
    const used = inst.used.has(g.id);
    let memo = groupMemos.get(g);
    if (memo === undefined || memo.used !== used || !memo.peers.every(([id, peer]) => groups.byId.get(id) === peer)) {
      const peers = used ? g.rules.flatMap((r): [string, SnapshotGroup | undefined][] => (r.sourceGroupId === undefined ? [] : [[r.sourceGroupId, groups.byId.get(r.sourceGroupId)]])) : [];
      const built: GniSecurityGroup = { name: g.id, ownerId: g.ownerId, ingressRules: used ? buildRules(g.rules, groups.byId) : [] };
      memo = { used, peers, gni: built, xml: groupXml(built) };
      groupMemos.set(g, memo);
    }
    gni.push(memo.gni);
    fragments.push(memo.xml);
  }
  const xml = groupsSectionXml(fragments);
  const part: GroupsPart = { used: inst.used, gni, bytes: Buffer.from(xml), xml };
  groupsParts.set(list, part);
  return part;
}

function documentOf(conf: ConfigurationPart, inst: InstancesPart, grp: GroupsPart): DocumentMemo {
  const hit = documents.get(inst.bytes);
  if (hit !== undefined && hit.conf === conf && hit.grp === grp) return hit;
  const content = { configuration: conf.gni, instances: inst.gni, securityGroups: grp.gni };
  const version = gniVersionOfChunks([conf.bytes, AFTER_CONFIGURATION, inst.bytes, AFTER_INSTANCES, grp.bytes]);
  const doc: GniDocument = { version, ...content };
  // serializeGni(doc) (and of {...doc, sequence}) then only adds the root tag.
  rememberGniBody(doc, () => assembleGniBody({ configuration: conf.xml, instances: inst.bytes.toString('utf8'), securityGroups: grp.xml }));
  const memo: DocumentMemo = { conf, inst, grp, doc };
  documents.set(inst.bytes, memo);
  return memo;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
  const out: SnapshotInstance[] = [];
  let sorted = true;
  for (const i of snapshot.instances) {
    if (i.privateIp === '' || nodesOf.get(i.cluster)?.has(i.node) !== true || !hasAny(i.groups, groups)) {
      // Its memo would keep pointing into (and so keep alive) the section it was last copied into.
      instanceMemos.delete(i);
      continue;
    }
    if (sorted && out.length > 0 && cmp(out[out.length - 1]!.id, i.id) > 0) sorted = false;
    out.push(i);
  }
  // Snapshots come sorted by id; the (stable) sort is for any other caller.
  return sorted ? out : out.sort((a, b) => cmp(a.id, b.id));
}

function hasAny(ids: readonly string[], groups: ReadonlyMap<string, SnapshotGroup>): boolean {
  for (const g of ids) if (groups.has(g)) return true;
  return false;
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
  const byCluster = new Map<string, Map<string, string[]>>();
  for (const inst of instances) {
    let byNode = byCluster.get(inst.cluster);
    if (byNode === undefined) byCluster.set(inst.cluster, (byNode = new Map()));
    const list = byNode.get(inst.node);
    if (list === undefined) byNode.set(inst.node, [inst.id]);
    else list.push(inst.id);
  }
  const registered = new Map(snapshot.clusters.map((c) => [c.name, c]));
  const clusters: GniCluster[] = config.Clusters.map((c) => {
    const reg = registered.get(c.Name);
    const nodes: GniNode[] = [...(reg?.nodes ?? [])]
      .sort((a, b) => cmp(a.name, b.name))
      .map((n) => nodeOf(c, n.name, byCluster.get(c.Name)?.get(n.name) ?? []));
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

/** The instance's group ids that exist, first occurrence wins (a plain loop: this runs once per instance). */
function existingGroups(inst: SnapshotInstance, groups: ReadonlyMap<string, SnapshotGroup>): string[] {
  const securityGroups: string[] = [];
  for (const g of inst.groups) if (groups.has(g) && !securityGroups.includes(g)) securityGroups.push(g);
  return securityGroups;
}

/**
 * Last GniNode built per configured cluster and node name: reused while the
 * node's instance ids are the same, so the serializer's per-node line memo
 * applies (a run changes one node's list; the other 99 lines are reused).
 */
const lastNodes = new WeakMap<ExplodedCluster, Map<string, GniNode>>();

function nodeOf(cluster: ExplodedCluster, name: string, instanceIds: string[]): GniNode {
  let nodes = lastNodes.get(cluster);
  if (nodes === undefined) lastNodes.set(cluster, (nodes = new Map()));
  const last = nodes.get(name);
  if (last !== undefined && sameStrings(last.instanceIds, instanceIds)) return last;
  const node: GniNode = { name, instanceIds };
  nodes.set(name, node);
  return node;
}

function buildInstance(inst: SnapshotInstance, groups: ReadonlyMap<string, SnapshotGroup>): GniInstance {
  const securityGroups = existingGroups(inst, groups);
  const out: { -readonly [K in keyof GniInstance]: GniInstance[K] } = { name: inst.id, ownerId: inst.ownerId, macAddress: inst.mac, privateIp: inst.privateIp, securityGroups };
  if (inst.publicIp !== undefined && inst.publicIp !== '') out.publicIp = inst.publicIp;
  return out;
}

/**
 * The groups the document carries, sorted by id: those an included instance
 * uses (`used`, existing ids only), plus the existing groups their rules name
 * as peers.
 */
function documentGroups(used: ReadonlySet<string>, groups: ReadonlyMap<string, SnapshotGroup>): SnapshotGroup[] {
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
