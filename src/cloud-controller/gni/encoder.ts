/**
 * The incremental GNI encoder: CloudSnapshot → the document (model and UTF-8
 * bytes), re-mapping and re-serializing only what changed since the previous
 * builds of the same encoder. What the document says is decided by the pure
 * mapper (map.ts); this class remembers the mapper's results and their
 * serialized fragments by object identity and joins bytes.
 *
 * Ownership: an encoder is a long-lived object owned by whoever builds
 * repeatedly (the broadcaster plugin, a bench); every cache is an instance
 * field, so two encoders never share or disturb each other, and dropping the
 * encoder drops its caches. One-off builds use `buildGni` (builder.ts).
 *
 * Model: snapshots are immutable values, and the snapshot cache keeps
 * unchanged parts and elements as the same objects (snapshot/snapshot-cache.ts),
 * so identity says "unchanged":
 * - per instance: its GniInstance and `<instance>` fragment (WeakMap on the
 *   SnapshotInstance, valid while its filtered group list is unchanged and,
 *   after a property change, while its IPv6 address is: the address follows
 *   from the cluster's Ipv6Prefix, config/instance-ipv6.ts);
 * - the instances section (included list, GniInstance list, UTF-8 bytes) per
 *   instances array, valid for the same configuration, clusters and set of
 *   group ids;
 * - the configuration section per included list, valid for the same
 *   configuration, clusters, clcIp and clcIpv6; per configured cluster and node name
 *   the last GniNode, reused while its instance ids are equal (so the
 *   serializer's per-node line memo applies);
 * - per group: its GniSecurityGroup and fragment (WeakMap on the
 *   SnapshotGroup, valid for the same used/peer-only role and the same peer
 *   group objects); the groups section per groups array and set of used
 *   groups;
 * - the version per triple of section byte buffers.
 * So a build after one authorize re-serializes one group and hashes the
 * cached section bytes; after one run it serializes that instance, copies the
 * other fragments' bytes into a new section and rebuilds the configuration
 * section (node → instance ids).
 *
 * The document's mode (modes/) sees the mapped base sections; a section it
 * returns unchanged keeps its cached bytes, a section it replaces is
 * serialized whole.
 *
 * Invariant: every memo is keyed by inputs only, so a hit returns exactly
 * what a fresh build would: `build(s).encode(q)` is byte-identical to
 * `serializeGni({...buildGni(s), sequence: q})`
 * (test/unit/gni/incremental.test.ts and test/unit/clc/snapshot-cache.test.ts
 * compare byte for byte after random change sequences).
 */
import type { CloudSnapshot, SnapshotCluster, SnapshotGroup, SnapshotInstance } from '../contracts.ts';
import type { ExplodedCluster, ExplodedNetworkConfiguration } from '../config/types.ts';
import type { GniConfiguration, GniDocument, GniInstance, GniNode, GniSecurityGroup } from '../../shared/gni/model.ts';
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
  instancesSectionXml,
  instanceXml,
  rememberGniBody,
} from '../../shared/gni/serialize.ts';
import { gniVersionOfChunks } from '../../shared/gni/version.ts';
import type { GniContent } from '../modes/mode.ts';
import { instanceIpv6Address, ipv6Prefixes, type ClusterIpv6Prefixes } from '../config/instance-ipv6.ts';
import { instanceIpv6 } from '../../shared/gni/ipv6.ts';
import {
  documentGroups,
  documentMode,
  groupsById,
  includedInstances,
  instanceGroups,
  mapConfiguration,
  mapGroup,
  mapInstance,
  type GroupsById,
  type NodeEntry,
} from './map.ts';

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

const AFTER_CONFIGURATION = Buffer.from(AFTER_CONFIGURATION_XML);
const AFTER_INSTANCES = Buffer.from(AFTER_INSTANCES_XML);
const TAIL = Buffer.from(GNI_TAIL_XML);

/** One serialized section of the body: its model and its UTF-8 bytes. */
interface Section<T> {
  readonly gni: T;
  readonly bytes: Buffer;
  /** The same text as a string, when at hand (the instances section keeps bytes only). */
  readonly xml?: string;
}

interface GroupIndex {
  readonly byId: GroupsById;
  /** Stands for the set of group ids: equal tokens ⇒ equal id lists. */
  readonly token: object;
}

interface InstancesPart extends Section<readonly GniInstance[]> {
  readonly config: ExplodedNetworkConfiguration | undefined;
  readonly clusters: readonly SnapshotCluster[];
  readonly groupToken: object;
  readonly included: readonly SnapshotInstance[];
  /** Existing group ids some included instance uses. */
  readonly used: ReadonlySet<string>;
}

/**
 * An instance's GniInstance and its `<instance>` fragment: freshly built it
 * is the text `xml` (`end - start` = its UTF-8 length); once copied into a
 * section it is `bytes[start, end)` of that section (so older sections can be
 * collected; every section holding it has the same bytes there).
 */
interface InstanceMemo {
  groupToken: object;
  /** The configuration it was mapped with (its IPv6 address follows from the cluster's prefix). */
  config: ExplodedNetworkConfiguration | undefined;
  readonly gni: GniInstance;
  bytes: Buffer | undefined;
  xml: string | undefined;
  start: number;
  end: number;
}

interface ConfigurationPart extends Section<GniConfiguration> {
  readonly config: ExplodedNetworkConfiguration | undefined;
  readonly clusters: readonly SnapshotCluster[];
  readonly clcIp: string;
  readonly clcIpv6: string | undefined;
}

interface GroupsPart extends Section<readonly GniSecurityGroup[]> {
  /** The used group ids it was built for (the groups array is the memo key). */
  readonly used: ReadonlySet<string>;
}

interface GroupMemo {
  readonly used: boolean;
  /** Peer groups its rules consulted, by id, as they were (undefined: absent). */
  readonly peers: readonly (readonly [string, SnapshotGroup | undefined])[];
  readonly gni: GniSecurityGroup;
  readonly xml: string;
}

/** The three sections of a body. */
interface Sections {
  readonly conf: Section<GniConfiguration>;
  readonly inst: Section<readonly GniInstance[]>;
  readonly grp: Section<readonly GniSecurityGroup[]>;
}

interface DocumentMemo extends Sections {
  readonly doc: GniDocument;
}

export class GniEncoder {
  private readonly groupIndexes = new WeakMap<readonly SnapshotGroup[], GroupIndex>();
  /** The id list of the last indexed groups array, so a new array with the same ids keeps the token. */
  private lastGroupIds: { readonly ids: readonly string[]; readonly token: object } | undefined;
  private readonly instanceParts = new WeakMap<readonly SnapshotInstance[], InstancesPart>();
  private readonly instanceMemos = new WeakMap<SnapshotInstance, InstanceMemo>();
  private readonly configurationParts = new WeakMap<readonly SnapshotInstance[], ConfigurationPart>();
  /** Last GniNode built per configured cluster and node name (see the module header). */
  private readonly lastNodes = new WeakMap<ExplodedCluster, Map<string, GniNode>>();
  private readonly groupsParts = new WeakMap<readonly SnapshotGroup[], GroupsPart>();
  private readonly groupMemos = new WeakMap<SnapshotGroup, GroupMemo>();
  private readonly documents = new WeakMap<Buffer, DocumentMemo>();
  /** Bound once: the configuration mapper's node factory. */
  private readonly node = (entry: NodeEntry): GniNode => this.nodeOf(entry);

  build(snapshot: CloudSnapshot): GniBuild {
    const groups = this.groupIndex(snapshot.groups);
    const inst = this.instancesPart(snapshot, groups);
    const conf = this.configurationPart(snapshot, inst.included);
    const grp = this.groupsPart(snapshot.groups, { groups, inst });
    const built = this.documentOf(modeSections(snapshot, { conf, inst, grp }));
    const chunks = [built.conf.bytes, AFTER_CONFIGURATION, built.inst.bytes, AFTER_INSTANCES, built.grp.bytes];
    return {
      doc: built.doc,
      encode: (sequence?: number, generation?: number) => Buffer.concat([Buffer.from(gniHeadXml({ version: built.doc.version, sequence, generation })), ...chunks, TAIL]),
    };
  }

  private groupIndex(groups: readonly SnapshotGroup[]): GroupIndex {
    const hit = this.groupIndexes.get(groups);
    if (hit !== undefined) return hit;
    const byId = groupsById(groups);
    const ids = groups.map((g) => g.id);
    const token = this.lastGroupIds !== undefined && sameStrings(this.lastGroupIds.ids, ids) ? this.lastGroupIds.token : {};
    this.lastGroupIds = { ids, token };
    const index = { byId, token };
    this.groupIndexes.set(groups, index);
    return index;
  }

  private instancesPart(snapshot: CloudSnapshot, groups: GroupIndex): InstancesPart {
    const hit = this.instanceParts.get(snapshot.instances);
    if (hit !== undefined && hit.config === snapshot.config && hit.clusters === snapshot.clusters && hit.groupToken === groups.token) return hit;
    // An excluded instance's memo would keep pointing into (and so keep alive) the section it was last copied into.
    const included = includedInstances(snapshot, { groups: groups.byId, excluded: (i) => this.instanceMemos.delete(i) });
    // Parsed once per rebuild, read only for memos of another configuration (a property change).
    let prefixes: ClusterIpv6Prefixes | undefined;
    const prefixesNow = () => (prefixes ??= ipv6Prefixes(snapshot.config));
    const gni: GniInstance[] = [];
    const memos: InstanceMemo[] = [];
    const used = new Set<string>();
    let length = 0;
    for (const i of included) {
      let memo = this.instanceMemos.get(i);
      if (
        memo === undefined ||
        (memo.groupToken !== groups.token && !sameStrings(memo.gni.securityGroups, instanceGroups(i, groups.byId))) ||
        (memo.config !== snapshot.config && instanceIpv6(memo.gni) !== instanceIpv6Address(prefixesNow(), i))
      ) {
        const g = mapInstance(i, groups.byId, prefixesNow());
        const xml = instanceXml(g);
        memo = { groupToken: groups.token, config: snapshot.config, gni: g, bytes: undefined, xml, start: 0, end: Buffer.byteLength(xml) };
        this.instanceMemos.set(i, memo);
      } else {
        memo.groupToken = groups.token;
        memo.config = snapshot.config;
      }
      gni.push(memo.gni);
      memos.push(memo);
      length += memo.end - memo.start;
      for (const id of memo.gni.securityGroups) used.add(id);
    }
    const part: InstancesPart = { config: snapshot.config, clusters: snapshot.clusters, groupToken: groups.token, included, gni, used, bytes: instancesSection(memos, length) };
    this.instanceParts.set(snapshot.instances, part);
    return part;
  }

  private configurationPart(snapshot: CloudSnapshot, included: readonly SnapshotInstance[]): ConfigurationPart {
    const hit = this.configurationParts.get(included);
    if (hit !== undefined && hit.config === snapshot.config && hit.clusters === snapshot.clusters && hit.clcIp === snapshot.clcIp && hit.clcIpv6 === snapshot.clcIpv6) return hit;
    const gni = mapConfiguration(snapshot, { included, node: this.node });
    const xml = configurationXml(gni);
    const part: ConfigurationPart = { config: snapshot.config, clusters: snapshot.clusters, clcIp: snapshot.clcIp, clcIpv6: snapshot.clcIpv6, gni, bytes: Buffer.from(xml), xml };
    this.configurationParts.set(included, part);
    return part;
  }

  private nodeOf({ cluster, name, instanceIds }: NodeEntry): GniNode {
    let nodes = this.lastNodes.get(cluster);
    if (nodes === undefined) this.lastNodes.set(cluster, (nodes = new Map()));
    const last = nodes.get(name);
    if (last !== undefined && sameStrings(last.instanceIds, instanceIds)) return last;
    const node: GniNode = { name, instanceIds };
    nodes.set(name, node);
    return node;
  }

  private groupsPart(list: readonly SnapshotGroup[], { groups, inst }: { readonly groups: GroupIndex; readonly inst: InstancesPart }): GroupsPart {
    const hit = this.groupsParts.get(list);
    // Same groups array and same used set ⇒ same section (a run or terminate rarely changes which groups are used).
    if (hit !== undefined && (hit.used === inst.used || sameSet(hit.used, inst.used))) return hit;
    const gni: GniSecurityGroup[] = [];
    const fragments: string[] = [];
    for (const g of documentGroups(inst.used, groups.byId)) {
      const used = inst.used.has(g.id);
      let memo = this.groupMemos.get(g);
      if (memo === undefined || memo.used !== used || !memo.peers.every(([id, peer]) => groups.byId.get(id) === peer)) {
        const peers = used ? g.rules.flatMap((r): [string, SnapshotGroup | undefined][] => (r.sourceGroupId === undefined ? [] : [[r.sourceGroupId, groups.byId.get(r.sourceGroupId)]])) : [];
        const built = mapGroup(g, { used, groups: groups.byId });
        memo = { used, peers, gni: built, xml: groupXml(built) };
        this.groupMemos.set(g, memo);
      }
      gni.push(memo.gni);
      fragments.push(memo.xml);
    }
    const xml = groupsSectionXml(fragments);
    const part: GroupsPart = { used: inst.used, gni, bytes: Buffer.from(xml), xml };
    this.groupsParts.set(list, part);
    return part;
  }

  private documentOf({ conf, inst, grp }: Sections): DocumentMemo {
    const hit = this.documents.get(inst.bytes);
    if (hit !== undefined && hit.conf === conf && hit.grp === grp) return hit;
    const content: GniContent = { configuration: conf.gni, instances: inst.gni, securityGroups: grp.gni };
    const version = gniVersionOfChunks([conf.bytes, AFTER_CONFIGURATION, inst.bytes, AFTER_INSTANCES, grp.bytes]);
    const doc: GniDocument = { version, ...content };
    // serializeGni(doc) (and of {...doc, sequence}) then only adds the root tag.
    rememberGniBody(doc, () => assembleGniBody({ configuration: textOf(conf), instances: textOf(inst), securityGroups: textOf(grp) }));
    const memo: DocumentMemo = { conf, inst, grp, doc };
    this.documents.set(inst.bytes, memo);
    return memo;
  }
}

/**
 * The sections after the document's mode has seen the base model: a section
 * the mode returns unchanged keeps its (cached) bytes; one it replaces is
 * serialized whole.
 */
function modeSections(snapshot: CloudSnapshot, base: Sections): Sections {
  const content: GniContent = { configuration: base.conf.gni, instances: base.inst.gni, securityGroups: base.grp.gni };
  const out = documentMode(snapshot).extendDocument(content, { snapshot });
  if (out === content) return base;
  return {
    conf: out.configuration === base.conf.gni ? base.conf : textSection(out.configuration, configurationXml(out.configuration)),
    inst: out.instances === base.inst.gni ? base.inst : textSection(out.instances, instancesSectionXml(out.instances.map(instanceXml))),
    grp: out.securityGroups === base.grp.gni ? base.grp : textSection(out.securityGroups, groupsSectionXml(out.securityGroups.map(groupXml))),
  };
}

function textSection<T>(gni: T, xml: string): Section<T> {
  return { gni, bytes: Buffer.from(xml), xml };
}

function textOf(section: Section<unknown>): string {
  return section.xml ?? section.bytes.toString('utf8');
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
