/**
 * XML text → GniDocument, without the cross-checks (those are `validate.ts`).
 *
 * Order of defences: (size limit in codec.ts), then a textual scan for
 * `<!DOCTYPE`/`<!ENTITY` (rejected before any parser sees the input: GNI never
 * needs a DTD, and entity expansion is the classic way to make an XML reader
 * eat a node), then a well-formedness check that reports line/column, then the
 * tree walk. The tree comes from fast-xml-parser (default: its validator, then
 * its parser) or from `scan.ts` (engine `scan`); both give the same shape.
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
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Diagnostic } from '../diagnostics.ts';
import { GniCode, error, warning } from './codes.ts';
import type { GniCluster, GniConfiguration, GniDocument, GniInstance, GniNode, GniRule, GniSecurityGroup, GniSubnet } from './model.ts';
import { gniPaths as P } from './paths.ts';
import { parseRuleString } from './rule-string.ts';
import { ScanError, scanXml } from './scan.ts';

/** A parsed element: attributes under `@`, text under `#text`; leaf elements are plain strings. */
type XNode = string | { readonly [tag: string]: unknown };

export interface RawParse {
  /** The document, `version` possibly '' (then the caller computes it). */
  readonly doc: GniDocument | undefined;
  readonly diagnostics: Diagnostic[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Every element is an array: repeated and single children look the same.
  isArray: () => true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  htmlEntities: true,
});

const FORBIDDEN = /<!\s*(DOCTYPE|ENTITY)/i;

/**
 * Which XML reader builds the tree: `fast-xml-parser` (its validator for
 * well-formedness, then its parser) or `scan` (`scan.ts`, strict, and 3–4× faster on
 * a 10,000-instance document). Both produce the same tree.
 */
export type GniXmlEngine = 'fast-xml-parser' | 'scan';

export function parseGniXml(text: string, engine: GniXmlEngine = 'scan'): RawParse {
  const diagnostics: Diagnostic[] = [];
  const forbidden = FORBIDDEN.exec(text);
  if (forbidden !== null) {
    return { doc: undefined, diagnostics: [error(GniCode.DoctypeForbidden, '', `<!${forbidden[1]?.toUpperCase()} is not allowed in a GNI document (offset ${forbidden.index})`)] };
  }
  const read = engine === 'scan' ? readWithScanner(text) : readWithFastXmlParser(text);
  if (!read.ok) return { doc: undefined, diagnostics: [read.diagnostic] };
  const tree = read.tree;
  const roots = Object.keys(tree).filter((k) => k !== '#text');
  const rootList = tree['network-data'];
  if (roots.length !== 1 || !Array.isArray(rootList) || rootList.length !== 1) {
    return { doc: undefined, diagnostics: [error(GniCode.WrongRoot, '', `root element must be <network-data>, found ${roots.map((r) => `<${r}>`).join(', ') || 'none'}`)] };
  }
  const root = rootList[0] as XNode;
  const doc = readDocument(root, diagnostics);
  return { doc, diagnostics };
}

type TreeResult = { ok: true; tree: Record<string, unknown> } | { ok: false; diagnostic: Diagnostic };

function readWithFastXmlParser(text: string): TreeResult {
  // The parser is lenient (a truncated document parses); its validator is not.
  const wellFormed = XMLValidator.validate(text);
  if (wellFormed !== true) {
    const e = wellFormed.err;
    return { ok: false, diagnostic: error(GniCode.Malformed, '', `line ${e.line}, column ${e.col}: ${e.msg}`) };
  }
  try {
    return { ok: true, tree: parser.parse(text) as Record<string, unknown> };
  } catch (err) {
    return { ok: false, diagnostic: error(GniCode.Malformed, '', err instanceof Error ? err.message : String(err)) };
  }
}

function readWithScanner(text: string): TreeResult {
  try {
    return { ok: true, tree: scanXml(text) };
  } catch (err) {
    if (err instanceof ScanError) return { ok: false, diagnostic: error(GniCode.Malformed, '', `line ${err.line}, column ${err.col}: ${err.message}`) };
    throw err;
  }
}

// ---- tree helpers -----------------------------------------------------------

function kids(node: XNode | undefined, tag: string): XNode[] {
  if (node === undefined || typeof node === 'string') return [];
  const v = node[tag];
  return Array.isArray(v) ? (v as XNode[]) : [];
}

function first(node: XNode | undefined, tag: string): XNode | undefined {
  return kids(node, tag)[0];
}

function attr(node: XNode | undefined, name: string): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const group = node['@'];
  const attrs = Array.isArray(group) ? (group[0] as Record<string, string> | undefined) : undefined;
  return attrs?.[name];
}

function text(node: XNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (typeof node === 'string') return node;
  const t = node['#text'];
  if (Array.isArray(t)) return String(t[0] ?? '');
  return typeof t === 'string' ? t : '';
}

function childText(node: XNode | undefined, tag: string): string | undefined {
  return text(first(node, tag));
}

/** True when an element has element children (i.e. is not an empty wrapper). */
function hasContent(node: XNode | undefined): boolean {
  if (node === undefined || typeof node === 'string') return node !== undefined && node !== '';
  return Object.keys(node).some((k) => k !== '@');
}

function valueList(node: XNode | undefined): string[] {
  return kids(node, 'value').map((v) => text(v) ?? '');
}

/** `property[@name]` children of a node, by name (first one wins). */
function properties(node: XNode | undefined): Map<string, XNode> {
  const map = new Map<string, XNode>();
  for (const p of kids(node, 'property')) {
    const name = attr(p, 'name');
    if (name !== undefined && !map.has(name)) map.set(name, p);
  }
  return map;
}

const INT = /^-?\d{1,10}$/;

function readInt(raw: string | undefined, path: string, min: number, max: number, diagnostics: Diagnostic[]): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!INT.test(raw) || Number(raw) < min || Number(raw) > max) {
    diagnostics.push(error(GniCode.BadNumber, path, `expected an integer in ${min}..${max}, found "${raw}"`));
    return undefined;
  }
  return Number(raw);
}

// ---- document ---------------------------------------------------------------

function readDocument(root: XNode, diagnostics: Diagnostic[]): GniDocument {
  const version = attr(root, 'version') ?? '';
  const seqRaw = attr(root, 'sequence');
  let sequence: number | undefined;
  if (seqRaw !== undefined) {
    if (/^\d{1,15}$/.test(seqRaw)) sequence = Number(seqRaw);
    else diagnostics.push(error(GniCode.BadNumber, P.root('@sequence'), `sequence must be a non-negative integer, found "${seqRaw}"`));
  }
  const configuration = readConfiguration(first(root, 'configuration'), diagnostics);
  for (const tag of ['vpcs', 'dhcpOptionSets', 'internetGateways'] as const) {
    if (kids(root, tag).some(hasContent)) diagnostics.push(warning(GniCode.Ignored, P.root(tag), `<${tag}> content is VPC-only and ignored in EDGE mode`));
  }
  const instances = kids(first(root, 'instances'), 'instance').map((n, i) => readInstance(n, i, diagnostics));
  const securityGroups = kids(first(root, 'securityGroups'), 'securityGroup').map((n, i) => readGroup(n, i, diagnostics));
  return {
    version,
    ...(sequence === undefined ? {} : { sequence }),
    configuration,
    instances,
    securityGroups,
  };
}

function readConfiguration(node: XNode | undefined, diagnostics: Diagnostic[]): GniConfiguration {
  if (node === undefined) diagnostics.push(error(GniCode.Missing, P.root('configuration'), 'missing <configuration>'));
  const props = properties(node);
  const scalar = (name: string): string | undefined => {
    const p = props.get(name);
    return p === undefined ? undefined : (valueList(p)[0] ?? '');
  };
  const mode = scalar('mode');
  const enabledClcIp = scalar('enabledCLCIp');
  const instanceDnsDomain = scalar('instanceDNSDomain');
  const publicGateway = scalar('publicGateway');
  const clustersNode = props.get('clusters');
  const clusterNodes = kids(clustersNode, 'cluster');
  return {
    ...(mode === undefined ? {} : { mode }),
    publicIps: valueList(props.get('publicIps')),
    ...(enabledClcIp === undefined ? {} : { enabledClcIp }),
    ...(instanceDnsDomain === undefined ? {} : { instanceDnsDomain }),
    instanceDnsServers: valueList(props.get('instanceDNSServers')),
    ...(publicGateway === undefined ? {} : { publicGateway }),
    subnets: kids(props.get('subnets'), 'subnet').map(readSubnet),
    clusters: clusterNodes.map((c) => readCluster(c)),
  };
}

function readSubnet(node: XNode | undefined): GniSubnet {
  const props = properties(node);
  const v = (name: string) => valueList(props.get(name))[0] ?? '';
  return { name: attr(node, 'name') ?? '', subnet: v('subnet'), netmask: v('netmask'), gateway: v('gateway') };
}

function readCluster(node: XNode): GniCluster {
  const props = properties(node);
  const enabledCcIp = props.has('enabledCCIp') ? (valueList(props.get('enabledCCIp'))[0] ?? '') : undefined;
  const subnetNode = first(node, 'subnet');
  return {
    name: attr(node, 'name') ?? '',
    subnet: subnetNode === undefined ? { name: '', subnet: '', netmask: '', gateway: '' } : readSubnet(subnetNode),
    ...(enabledCcIp === undefined ? {} : { enabledCcIp }),
    macPrefix: valueList(props.get('macPrefix'))[0] ?? '',
    privateIps: valueList(props.get('privateIps')),
    nodes: kids(props.get('nodes'), 'node').map(readNode),
  };
}

function readNode(node: XNode): GniNode {
  return { name: attr(node, 'name') ?? '', instanceIds: valueList(first(node, 'instanceIds')) };
}

function readInstance(node: XNode, index: number, diagnostics: Diagnostic[]): GniInstance {
  const name = attr(node, 'name') ?? '';
  const macAddress = childText(node, 'macAddress');
  const publicIp = childText(node, 'publicIp');
  if (kids(node, 'networkInterfaces').some(hasContent) || first(node, 'vpc') !== undefined) {
    diagnostics.push(warning(GniCode.Ignored, P.instance(name, index, 'networkInterfaces'), 'VPC network interfaces are ignored in EDGE mode'));
  }
  return {
    name,
    ownerId: childText(node, 'ownerId') ?? '',
    ...(macAddress === undefined || macAddress === '' ? {} : { macAddress }),
    // Eucalyptus omitted 0.0.0.0 ("no address"); treat an empty one the same way.
    ...(publicIp === undefined || publicIp === '' || publicIp === '0.0.0.0' ? {} : { publicIp }),
    privateIp: childText(node, 'privateIp') ?? '',
    securityGroups: valueList(first(node, 'securityGroups')),
  };
}

function readGroup(node: XNode, index: number, diagnostics: Diagnostic[]): GniSecurityGroup {
  const name = attr(node, 'name') ?? '';
  const ruleNodes = kids(first(node, 'ingressRules'), 'rule');
  if (kids(node, 'egressRules').some(hasContent)) {
    diagnostics.push(warning(GniCode.Ignored, P.group(name, index, 'egressRules'), 'egress rules are VPC-only and ignored in EDGE mode'));
  }
  let ingressRules: GniRule[];
  if (ruleNodes.length > 0 || first(node, 'rules') === undefined) {
    ingressRules = ruleNodes.map((r, i) => readRule(r, P.group(name, index, `ingressRules/rule[${i + 1}]`), diagnostics));
  } else {
    const strings = valueList(first(node, 'rules'));
    ingressRules = [];
    strings.forEach((s, i) => {
      const rule = parseRuleString(s);
      if (rule === undefined) diagnostics.push(error(GniCode.BadRuleString, P.group(name, index, `rules/value[${i + 1}]`), `cannot read 4.0 rule "${s}"`));
      else ingressRules.push(rule);
    });
  }
  return { name, ownerId: childText(node, 'ownerId') ?? '', ingressRules };
}

function readRule(node: XNode, path: string, diagnostics: Diagnostic[]): GniRule {
  const num = (tag: string, min: number, max: number) => readInt(childText(node, tag), `${path}/${tag}`, min, max, diagnostics);
  const protocolRaw = childText(node, 'protocol');
  const protocol = num('protocol', -1, 255);
  if (protocolRaw === undefined || protocolRaw === '') diagnostics.push(error(GniCode.Missing, `${path}/protocol`, 'rule without <protocol>'));
  const fromPort = num('fromPort', -1, 65535);
  const toPort = num('toPort', -1, 65535);
  const icmpType = num('icmpType', -1, 255);
  const icmpCode = num('icmpCode', -1, 255);
  const cidr = childText(node, 'cidr');
  const groupId = childText(node, 'groupId');
  const groupOwnerId = childText(node, 'groupOwnerId');
  return {
    protocol: protocol ?? -1,
    ...(fromPort === undefined ? {} : { fromPort }),
    ...(toPort === undefined ? {} : { toPort }),
    ...(icmpType === undefined ? {} : { icmpType }),
    ...(icmpCode === undefined ? {} : { icmpCode }),
    ...(cidr === undefined || cidr === '' ? {} : { cidr }),
    ...(groupId === undefined || groupId === '' ? {} : { groupId }),
    ...(groupOwnerId === undefined || groupOwnerId === '' ? {} : { groupOwnerId }),
  };
}
