/**
 * XML text → GniDocument, without the cross-checks (those are `validate.ts`).
 *
 * Order of defences: (size limit in codec.ts), then a textual scan for
 * `<!DOCTYPE`/`<!ENTITY` (rejected before any parser sees the input: GNI never
 * needs a DTD, and entity expansion is the classic way to make an XML reader
 * eat a node), then well-formedness (errors carry line/column) and the read
 * into the model. The readers below pull elements through an `ElementCursor`
 * (cursor.ts); the engine (`GniXmlEngine`) decides where the elements come
 * from: in production `scanEngine`, straight from the text (`ScanCursor`,
 * one pass that checks well-formedness as it goes, no tree). The tests run
 * the same readers over fast-xml-parser's tree as an oracle
 * (test/helpers/gni-oracle/; differential tests in
 * test/unit/gni/scan.test.ts). A document that is not well-formed reports
 * GNI_MALFORMED alone, wherever the fault lies.
 *
 * The walk is lenient in the ways Eucalyptus-produced EDGE documents need
 * (eucalyptus-edge.md §2.2): unknown elements and properties are ignored;
 * empty `vpcs`, `dhcpOptionSets`, `internetGateways`, `networkInterfaces`,
 * `egressRules` are accepted (non-empty ones are ignored with a warning);
 * `applied-version`/`applied-time` attributes are ignored; 4.0-style
 * `<rules><value>` strings are mapped to ingress rules when a group has no
 * `ingressRules`. A missing required string becomes `''` in the model and is
 * reported by the validator, which knows the path; a malformed number is
 * reported here (the model holds numbers).
 *
 * `edgenet:extension` elements (extension.ts) are read on the configuration,
 * clusters, nodes, instances and security groups into the generic
 * `extensions` field, whatever their names: a new mode's data needs no change
 * here. Their structure is checked here, their names and limits by the
 * validator.
 */
import type { Diagnostic } from '../diagnostics.ts';
import { GniCode, error, warning } from './codes.ts';
import { EXTENSION_TAG, MAX_EXTENSIONS_PER_ELEMENT, readExtension } from './extension.ts';
import type { GniCluster, GniConfiguration, GniDocument, GniExtension, GniInstance, GniNode, GniRule, GniSecurityGroup, GniSubnet } from './model.ts';
import { gniPaths as P } from './paths.ts';
import { parseRuleString } from './rule-string.ts';
import type { ElementCursor } from './cursor.ts';
import { ScanCursor, ScanError } from './scan.ts';

export interface RawParse {
  /** The document, `version` possibly '' (then the caller computes it). */
  readonly doc: GniDocument | undefined;
  readonly diagnostics: Diagnostic[];
}


/** Where a forbidden declaration may start: `<!`, then this (sticky) at the same offset. */
const FORBIDDEN = /<!\s*(DOCTYPE|ENTITY)/iy;

/** The first `<!DOCTYPE`/`<!ENTITY` (any case, blanks allowed after `<!`): `indexOf` to each `<!`, the regex only there. */
function findForbidden(text: string): { index: number; keyword: string } | undefined {
  for (let at = text.indexOf('<!'); at !== -1; at = text.indexOf('<!', at + 2)) {
    FORBIDDEN.lastIndex = at;
    const m = FORBIDDEN.exec(text);
    if (m !== null) return { index: at, keyword: (m[1] as string).toUpperCase() };
  }
  return undefined;
}

/**
 * An XML engine: reads `text` into the model through the readers below
 * (`readDocument` on its root element), or reports the document's first
 * well-formedness fault. Production has one, `scanEngine` (`scan.ts`,
 * strict, no tree); the tests hold it against an independent one built on
 * fast-xml-parser (test/helpers/gni-oracle/), which must give the same result.
 */
export type GniXmlEngine = (text: string, diagnostics: Diagnostic[]) => ReadResult;

export function parseGniXml(text: string, engine: GniXmlEngine = scanEngine): RawParse {
  const diagnostics: Diagnostic[] = [];
  const forbidden = findForbidden(text);
  if (forbidden !== undefined) {
    return { doc: undefined, diagnostics: [error(GniCode.DoctypeForbidden, '', `<!${forbidden.keyword} is not allowed in a GNI document (offset ${forbidden.index})`)] };
  }
  const read = engine(text, diagnostics);
  // A malformed document reports only that: diagnostics of what was read before the fault are dropped.
  if (!read.ok) return { doc: undefined, diagnostics: [read.diagnostic] };
  return { doc: read.doc, diagnostics };
}

export type ReadResult = { ok: true; doc: GniDocument } | { ok: false; diagnostic: Diagnostic };

export function wrongRoot(found: readonly string[]): ReadResult {
  return { ok: false, diagnostic: error(GniCode.WrongRoot, '', `root element must be <network-data>, found ${found.map((r) => `<${r}>`).join(', ') || 'none'}`) };
}

/** The production engine: `ScanCursor` straight over the text. */
export function scanEngine(text: string, diagnostics: Diagnostic[]): ReadResult {
  try {
    const cur = new ScanCursor(text);
    if (cur.tag !== 'network-data') {
      // Well-formedness first, as for any document: read to the end, then refuse the root.
      const tag = cur.tag;
      cur.skip();
      cur.finish();
      return wrongRoot([tag]);
    }
    const doc = readDocument(cur, diagnostics);
    cur.finish();
    return { ok: true, doc };
  } catch (err) {
    if (err instanceof ScanError) return { ok: false, diagnostic: error(GniCode.Malformed, '', `line ${err.line}, column ${err.col}: ${err.message}`) };
    throw err;
  }
}

// ---- helpers ----------------------------------------------------------------

/** The texts of the current element's `value` children (consumes the element). */
function values(cur: ElementCursor): string[] {
  const out: string[] = [];
  while (cur.next()) {
    if (cur.tag === 'value') out.push(cur.text());
    else cur.skip();
  }
  return out;
}

/** The first `value` of the current element, '' when none (consumes the element). */
function firstValue(cur: ElementCursor): string {
  return values(cur)[0] ?? '';
}

/** Reads each `tag` child of the current element with `read` (given its index among them), skipping other children (consumes the element). */
function each<T>(cur: ElementCursor, tag: string, read: (cur: ElementCursor, index: number) => T): T[] {
  const out: T[] = [];
  while (cur.next()) {
    if (cur.tag === tag) out.push(read(cur, out.length));
    else cur.skip();
  }
  return out;
}

/**
 * Reads the extension the cursor stands on into `list` (created on the first
 * one; consumes the element); `owner` is the carrying element's path. Keeps at
 * most one past the limit, for the validator to report.
 */
function addExtension(list: GniExtension[] | undefined, cur: ElementCursor, owner: string, diagnostics: Diagnostic[]): GniExtension[] {
  const out = list ?? [];
  if (out.length > MAX_EXTENSIONS_PER_ELEMENT) cur.skip();
  else out.push(readExtension(cur, { owner, index: out.length, diagnostics }));
  return out;
}

/**
 * Walks the `property[@name]` children of the current element, calling
 * `read` for the first property of each name (the cursor on it; `read` must
 * consume it); later ones of a name, unnamed properties and other children
 * are skipped; `other` sees the non-property children. Consumes the element.
 */
function eachProperty(cur: ElementCursor, read: (name: string) => void, other?: (tag: string) => void): void {
  const seen = new Set<string>();
  while (cur.next()) {
    if (cur.tag !== 'property') {
      if (other === undefined) cur.skip();
      else other(cur.tag);
      continue;
    }
    const name = cur.attr('name');
    if (name === undefined || seen.has(name)) {
      cur.skip();
      continue;
    }
    seen.add(name);
    read(name);
  }
}

const INT = /^-?\d{1,10}$/;

/** Where a rule sits, for diagnostics (its path is built only when one is reported). */
interface RuleAt {
  readonly group: string;
  readonly index: number;
  readonly rule: number;
}

function rulePath(at: RuleAt, rest: string): string {
  return P.group(at.group, at.index, `ingressRules/rule[${at.rule + 1}]/${rest}`);
}

/** A numeric field of a rule: its element name and the range it must lie in. */
interface IntField {
  readonly tag: string;
  readonly min: number;
  readonly max: number;
}

const PROTOCOL_FIELD: IntField = { tag: 'protocol', min: -1, max: 255 };
const FROM_PORT_FIELD: IntField = { tag: 'fromPort', min: -1, max: 65535 };
const TO_PORT_FIELD: IntField = { tag: 'toPort', min: -1, max: 65535 };
const ICMP_TYPE_FIELD: IntField = { tag: 'icmpType', min: -1, max: 255 };
const ICMP_CODE_FIELD: IntField = { tag: 'icmpCode', min: -1, max: 255 };

function readInt(raw: string | undefined, { tag, min, max }: IntField, { at, diagnostics }: { readonly at: RuleAt; readonly diagnostics: Diagnostic[] }): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!INT.test(raw) || Number(raw) < min || Number(raw) > max) {
    diagnostics.push(error(GniCode.BadNumber, rulePath(at, tag), `expected an integer in ${min}..${max}, found "${raw}"`));
    return undefined;
  }
  return Number(raw);
}

// ---- document ---------------------------------------------------------------
//
// The readers consume the document in its own order but report diagnostics in
// a fixed one (sequence, configuration, VPC wrappers, instances, groups; in a
// group, egress before rules), and only the first element of each kind counts
// (the first `<instances>`, the first `<ownerId>` of an instance, the first
// property of a name, ...), whatever the order of elements in the text.

/** A model type under construction (the model's fields are readonly). */
type Mutable<T> = { -readonly [K in keyof T]?: T[K] };

const VPC_WRAPPERS = ['vpcs', 'dhcpOptionSets', 'internetGateways'] as const;

export function readDocument(cur: ElementCursor, diagnostics: Diagnostic[]): GniDocument {
  const version = cur.attr('version') ?? '';
  const seqRaw = cur.attr('sequence');
  let sequence: number | undefined;
  if (seqRaw !== undefined) {
    if (/^\d{1,15}$/.test(seqRaw)) sequence = Number(seqRaw);
    else diagnostics.push(error(GniCode.BadNumber, P.root('@sequence'), `sequence must be a non-negative integer, found "${seqRaw}"`));
  }
  const genRaw = cur.attr('generation');
  let generation: number | undefined;
  if (genRaw !== undefined) {
    if (/^\d{1,15}$/.test(genRaw)) generation = Number(genRaw);
    else diagnostics.push(error(GniCode.BadNumber, P.root('@generation'), `generation must be a non-negative integer, found "${genRaw}"`));
  }
  let configuration: GniConfiguration | undefined;
  const configurationDiagnostics: Diagnostic[] = [];
  const vpcContent = new Set<string>();
  let instances: GniInstance[] | undefined;
  const instanceDiagnostics: Diagnostic[] = [];
  let securityGroups: GniSecurityGroup[] | undefined;
  const groupDiagnostics: Diagnostic[] = [];
  while (cur.next()) {
    const tag = cur.tag;
    if (tag === 'configuration' && configuration === undefined) configuration = readConfiguration(cur, configurationDiagnostics);
    else if (tag === 'instances' && instances === undefined) instances = readInstances(cur, instanceDiagnostics);
    else if (tag === 'securityGroups' && securityGroups === undefined) securityGroups = readGroups(cur, groupDiagnostics);
    else if ((VPC_WRAPPERS as readonly string[]).includes(tag)) {
      if (cur.hasContent()) vpcContent.add(tag);
    } else cur.skip();
  }
  if (configuration === undefined) {
    diagnostics.push(error(GniCode.Missing, P.root('configuration'), 'missing <configuration>'));
    configuration = readConfiguration(undefined, configurationDiagnostics);
  }
  diagnostics.push(...configurationDiagnostics);
  for (const tag of VPC_WRAPPERS) {
    if (vpcContent.has(tag)) diagnostics.push(warning(GniCode.Ignored, P.root(tag), `<${tag}> content is VPC-only and ignored in EDGE mode`));
  }
  diagnostics.push(...instanceDiagnostics, ...groupDiagnostics);
  return {
    version,
    ...(sequence === undefined ? {} : { sequence }),
    ...(generation === undefined ? {} : { generation }),
    configuration,
    instances: instances ?? [],
    securityGroups: securityGroups ?? [],
  };
}

/** The configuration from the cursor's current element (consumed), or an empty one. */
function readConfiguration(cur: ElementCursor | undefined, diagnostics: Diagnostic[]): GniConfiguration {
  let mode: string | undefined;
  let enabledClcIp: string | undefined;
  let instanceDnsDomain: string | undefined;
  let publicGateway: string | undefined;
  let publicIps: string[] = [];
  let instanceDnsServers: string[] = [];
  let subnets: GniSubnet[] = [];
  let clusters: GniCluster[] = [];
  let extensions: GniExtension[] | undefined;
  // The configuration's own extensions report after its clusters', whatever their order in the text.
  const extensionDiagnostics: Diagnostic[] = [];
  if (cur !== undefined) {
    eachProperty(cur, (name) => {
      switch (name) {
        case 'mode': mode = firstValue(cur); break;
        case 'enabledCLCIp': enabledClcIp = firstValue(cur); break;
        case 'instanceDNSDomain': instanceDnsDomain = firstValue(cur); break;
        case 'publicGateway': publicGateway = firstValue(cur); break;
        case 'publicIps': publicIps = values(cur); break;
        case 'instanceDNSServers': instanceDnsServers = values(cur); break;
        case 'subnets': subnets = each(cur, 'subnet', readSubnet); break;
        case 'clusters': clusters = each(cur, 'cluster', (c, index) => readCluster(c, { index, diagnostics })); break;
        default: cur.skip();
      }
    }, (tag) => {
      if (tag === EXTENSION_TAG) extensions = addExtension(extensions, cur, P.root('configuration'), extensionDiagnostics);
      else cur.skip();
    });
  }
  diagnostics.push(...extensionDiagnostics);
  return {
    ...(mode === undefined ? {} : { mode }),
    publicIps,
    ...(enabledClcIp === undefined ? {} : { enabledClcIp }),
    ...(instanceDnsDomain === undefined ? {} : { instanceDnsDomain }),
    instanceDnsServers,
    ...(publicGateway === undefined ? {} : { publicGateway }),
    subnets,
    clusters,
    ...(extensions === undefined ? {} : { extensions }),
  };
}

function readSubnet(cur: ElementCursor): GniSubnet {
  const name = cur.attr('name') ?? '';
  let subnet = '';
  let netmask = '';
  let gateway = '';
  eachProperty(cur, (prop) => {
    switch (prop) {
      case 'subnet': subnet = firstValue(cur); break;
      case 'netmask': netmask = firstValue(cur); break;
      case 'gateway': gateway = firstValue(cur); break;
      default: cur.skip();
    }
  });
  return { name, subnet, netmask, gateway };
}

function readCluster(cur: ElementCursor, at: { readonly index: number; readonly diagnostics: Diagnostic[] }): GniCluster {
  const name = cur.attr('name') ?? '';
  const path = P.cluster(name, at.index);
  let extensions: GniExtension[] | undefined;
  // The cluster's own extensions report after its nodes', whatever their order in the text.
  const extensionDiagnostics: Diagnostic[] = [];
  let subnet: GniSubnet | undefined;
  let enabledCcIp: string | undefined;
  let macPrefix = '';
  let privateIps: string[] = [];
  let nodes: GniNode[] = [];
  eachProperty(cur, (prop) => {
    switch (prop) {
      case 'enabledCCIp': enabledCcIp = firstValue(cur); break;
      case 'macPrefix': macPrefix = firstValue(cur); break;
      case 'privateIps': privateIps = values(cur); break;
      case 'nodes': nodes = each(cur, 'node', (c, index) => readNode(c, { nodes: `${path}/property[@name='nodes']`, index, diagnostics: at.diagnostics })); break;
      default: cur.skip();
    }
  }, (tag) => {
    if (tag === 'subnet' && subnet === undefined) subnet = readSubnet(cur);
    else if (tag === EXTENSION_TAG) extensions = addExtension(extensions, cur, path, extensionDiagnostics);
    else cur.skip();
  });
  at.diagnostics.push(...extensionDiagnostics);
  return {
    name,
    subnet: subnet ?? { name: '', subnet: '', netmask: '', gateway: '' },
    ...(enabledCcIp === undefined ? {} : { enabledCcIp }),
    macPrefix,
    privateIps,
    nodes,
    ...(extensions === undefined ? {} : { extensions }),
  };
}

/** A node of the `nodes` property at path `at.nodes`. */
function readNode(cur: ElementCursor, at: { readonly nodes: string; readonly index: number; readonly diagnostics: Diagnostic[] }): GniNode {
  const name = cur.attr('name') ?? '';
  let instanceIds: string[] | undefined;
  let extensions: GniExtension[] | undefined;
  while (cur.next()) {
    if (cur.tag === 'instanceIds' && instanceIds === undefined) instanceIds = values(cur);
    else if (cur.tag === EXTENSION_TAG) extensions = addExtension(extensions, cur, `${at.nodes}/${P.named('node', name, at.index)}`, at.diagnostics);
    else cur.skip();
  }
  return extensions === undefined ? { name, instanceIds: instanceIds ?? [] } : { name, instanceIds: instanceIds ?? [], extensions };
}

// The three readers below run once per instance, group and rule (10,000s per
// document): one pass over the children, a switch on the tag, the first child
// of each tag kept. Every child is consumed (text() reads it whether or not
// it is the first).

function readInstances(cur: ElementCursor, diagnostics: Diagnostic[]): GniInstance[] {
  const list: GniInstance[] = [];
  while (cur.next()) {
    if (cur.tag === 'instance') list.push(readInstance(cur, list.length, diagnostics));
    else cur.skip();
  }
  return list;
}

function readGroups(cur: ElementCursor, diagnostics: Diagnostic[]): GniSecurityGroup[] {
  const list: GniSecurityGroup[] = [];
  while (cur.next()) {
    if (cur.tag === 'securityGroup') list.push(readGroup(cur, list.length, diagnostics));
    else cur.skip();
  }
  return list;
}

function readInstance(cur: ElementCursor, index: number, diagnostics: Diagnostic[]): GniInstance {
  const name = cur.attr('name') ?? '';
  let ownerId: string | undefined;
  let macAddress: string | undefined;
  let publicIp: string | undefined;
  let privateIp: string | undefined;
  let groups: string[] | undefined;
  let extensions: GniExtension[] | undefined;
  let vpcOnly = false;
  while (cur.next()) {
    switch (cur.tag) {
      case 'ownerId': { const t = cur.text(); ownerId ??= t; break; }
      case 'macAddress': { const t = cur.text(); macAddress ??= t; break; }
      case 'publicIp': { const t = cur.text(); publicIp ??= t; break; }
      case 'privateIp': { const t = cur.text(); privateIp ??= t; break; }
      case 'securityGroups': if (groups === undefined) groups = values(cur); else cur.skip(); break;
      case 'networkInterfaces': if (cur.hasContent()) vpcOnly = true; break;
      case 'vpc': cur.skip(); vpcOnly = true; break;
      case EXTENSION_TAG: extensions = addExtension(extensions, cur, P.instance(name, index), diagnostics); break;
      default: cur.skip();
    }
  }
  if (vpcOnly) diagnostics.push(warning(GniCode.Ignored, P.instance(name, index, 'networkInterfaces'), 'VPC network interfaces are ignored in EDGE mode'));
  const owner = ownerId ?? '';
  const securityGroups = groups ?? [];
  const mac = macAddress !== undefined && macAddress !== '';
  // Eucalyptus omitted 0.0.0.0 ("no address"); treat an empty one the same way.
  const pub = publicIp !== undefined && publicIp !== '' && publicIp !== '0.0.0.0';
  // No <privateIp> element: an instance without IPv4 (IPv6-only ROUTED, issue 17);
  // the validator refuses that in EDGE. An empty element stays '' (refused in every mode).
  if (extensions !== undefined || privateIp === undefined) {
    return {
      name, ownerId: owner, ...(mac ? { macAddress } : {}), ...(pub ? { publicIp } : {}),
      ...(privateIp === undefined ? {} : { privateIp }), securityGroups, ...(extensions === undefined ? {} : { extensions }),
    };
  }
  const priv = privateIp;
  // One literal per shape (not spreads: no temporary objects; not assignments: all
  // fields in-object), keys in the model's order.
  if (mac && pub) return { name, ownerId: owner, macAddress, publicIp, privateIp: priv, securityGroups };
  if (mac) return { name, ownerId: owner, macAddress, privateIp: priv, securityGroups };
  if (pub) return { name, ownerId: owner, publicIp, privateIp: priv, securityGroups };
  return { name, ownerId: owner, privateIp: priv, securityGroups };
}

function readGroup(cur: ElementCursor, index: number, diagnostics: Diagnostic[]): GniSecurityGroup {
  const name = cur.attr('name') ?? '';
  let ownerId: string | undefined;
  let ingress: GniRule[] | undefined;
  const ruleDiagnostics: Diagnostic[] = [];
  let rules40: string[] | undefined;
  let extensions: GniExtension[] | undefined;
  let egress = false;
  while (cur.next()) {
    switch (cur.tag) {
      case 'ownerId': { const t = cur.text(); ownerId ??= t; break; }
      case 'ingressRules':
        if (ingress === undefined) ingress = readRules(cur, name, index, ruleDiagnostics);
        else cur.skip();
        break;
      case 'rules': if (rules40 === undefined) rules40 = values(cur); else cur.skip(); break;
      case 'egressRules': if (cur.hasContent()) egress = true; break;
      case EXTENSION_TAG: extensions = addExtension(extensions, cur, P.group(name, index), diagnostics); break;
      default: cur.skip();
    }
  }
  if (egress) diagnostics.push(warning(GniCode.Ignored, P.group(name, index, 'egressRules'), 'egress rules are VPC-only and ignored in EDGE mode'));
  let ingressRules: GniRule[];
  if ((ingress !== undefined && ingress.length > 0) || rules40 === undefined) {
    ingressRules = ingress ?? [];
    diagnostics.push(...ruleDiagnostics);
  } else {
    ingressRules = [];
    rules40.forEach((s, i) => {
      const rule = parseRuleString(s);
      if (rule === undefined) diagnostics.push(error(GniCode.BadRuleString, P.group(name, index, `rules/value[${i + 1}]`), `cannot read 4.0 rule "${s}"`));
      else ingressRules.push(rule);
    });
  }
  return extensions === undefined ? { name, ownerId: ownerId ?? '', ingressRules } : { name, ownerId: ownerId ?? '', ingressRules, extensions };
}

/** The `rule` children of the current element (consumed), of group `group` at `index`. */
function readRules(cur: ElementCursor, group: string, index: number, diagnostics: Diagnostic[]): GniRule[] {
  const rules: GniRule[] = [];
  while (cur.next()) {
    if (cur.tag === 'rule') rules.push(readRule(cur, { group, index, rule: rules.length }, diagnostics));
    else cur.skip();
  }
  return rules;
}

function readRule(cur: ElementCursor, at: RuleAt, diagnostics: Diagnostic[]): GniRule {
  let protocolRaw: string | undefined;
  let fromRaw: string | undefined;
  let toRaw: string | undefined;
  let typeRaw: string | undefined;
  let codeRaw: string | undefined;
  let cidr: string | undefined;
  let groupId: string | undefined;
  let groupOwnerId: string | undefined;
  while (cur.next()) {
    switch (cur.tag) {
      case 'protocol': { const t = cur.text(); protocolRaw ??= t; break; }
      case 'fromPort': { const t = cur.text(); fromRaw ??= t; break; }
      case 'toPort': { const t = cur.text(); toRaw ??= t; break; }
      case 'icmpType': { const t = cur.text(); typeRaw ??= t; break; }
      case 'icmpCode': { const t = cur.text(); codeRaw ??= t; break; }
      case 'cidr': { const t = cur.text(); cidr ??= t; break; }
      case 'groupId': { const t = cur.text(); groupId ??= t; break; }
      case 'groupOwnerId': { const t = cur.text(); groupOwnerId ??= t; break; }
      default: cur.skip();
    }
  }
  const where = { at, diagnostics };
  const protocol = readInt(protocolRaw, PROTOCOL_FIELD, where);
  if (protocolRaw === undefined || protocolRaw === '') diagnostics.push(error(GniCode.Missing, rulePath(at, 'protocol'), 'rule without <protocol>'));
  const fromPort = readInt(fromRaw, FROM_PORT_FIELD, where);
  const toPort = readInt(toRaw, TO_PORT_FIELD, where);
  const icmpType = readInt(typeRaw, ICMP_TYPE_FIELD, where);
  const icmpCode = readInt(codeRaw, ICMP_CODE_FIELD, where);
  const rule: Mutable<GniRule> = { protocol: protocol ?? -1 };
  if (fromPort !== undefined) rule.fromPort = fromPort;
  if (toPort !== undefined) rule.toPort = toPort;
  if (icmpType !== undefined) rule.icmpType = icmpType;
  if (icmpCode !== undefined) rule.icmpCode = icmpCode;
  if (cidr !== undefined && cidr !== '') rule.cidr = cidr;
  if (groupId !== undefined && groupId !== '') rule.groupId = groupId;
  if (groupOwnerId !== undefined && groupOwnerId !== '') rule.groupOwnerId = groupOwnerId;
  return rule as GniRule;
}
