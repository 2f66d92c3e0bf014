/**
 * GniDocument → XML text, in the Eucalyptus 4.4 JAXB element order
 * (eucalyptus-edge.md §2.2): root `network-data` (attributes `version`, then
 * edgenet's `sequence` and `generation`); `configuration`, `vpcs`, `instances`,
 * `dhcpOptionSets`, `internetGateways`, `securityGroups`.
 *
 * Invariants:
 * - deterministic: equal documents give byte-identical text (no maps iterated
 *   in insertion-dependent ways, no dates, fixed indentation of two spaces);
 * - the body (everything inside the root element) does not depend on
 *   `version`/`sequence`, so the content hash (`version.ts`) is computed over
 *   it once and the same body is reused for the final text;
 * - lists that Eucalyptus omits when empty (`publicIps`, `subnets`,
 *   `instanceDNSServers`) are omitted; list wrappers that JAXB always writes
 *   (`vpcs`, `instanceIds`, `networkInterfaces`, `egressRules`, …) are written
 *   empty; absent optional scalars are omitted;
 * - extensions (extension.ts) are the last children of their element, one per
 *   line (inline in a `<node>` line); an element without them is written
 *   exactly as before they existed.
 *
 * Written with plain string concatenation into an array: a generic XML builder
 * is several times slower at 10,000 instances (bench/gni.bench.ts).
 */
import type { GniCluster, GniConfiguration, GniDocument, GniInstance, GniNode, GniRule, GniSecurityGroup, GniSubnet } from './model.ts';
import { extensionLines, extensionXml } from './extension.ts';
import { escapeAttr, escapeText } from './xml-text.ts';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

/**
 * Bodies already serialized, keyed by the content objects (the builder
 * serializes the body once to hash it; the broadcaster then serializes the
 * same content, often as `{...doc, sequence}`, which shares the three content
 * objects). Documents are immutable values (readonly types), so an entry
 * cannot go stale; a WeakMap lets them be collected.
 */
interface CachedBody {
  readonly configuration: object;
  readonly securityGroups: object;
  /** The text, or how to produce it on first use (the incremental builder keeps bytes, not text). */
  body: string | (() => string);
}
const bodies = new WeakMap<object, CachedBody>();

/** Records that `body` is (or returns) `serializeGniBody(doc)`, so `serializeGni` of the same content objects can reuse it. */
export function rememberGniBody(doc: Omit<GniDocument, 'version' | 'sequence' | 'generation'>, body: string | (() => string)): void {
  bodies.set(doc.instances, { configuration: doc.configuration, securityGroups: doc.securityGroups, body });
}

function cachedBody(doc: Omit<GniDocument, 'version' | 'sequence' | 'generation'>): string | undefined {
  const hit = bodies.get(doc.instances);
  if (hit === undefined || hit.configuration !== doc.configuration || hit.securityGroups !== doc.securityGroups) return undefined;
  if (typeof hit.body === 'function') hit.body = hit.body();
  return hit.body;
}

/** The full document text, ending with a newline. */
export function serializeGni(doc: GniDocument): string {
  return serializeWithBody(doc, cachedBody(doc) ?? serializeGniBody(doc));
}

/** Assembles the document from a body produced by `serializeGniBody` for the same content. */
export function serializeWithBody(doc: Pick<GniDocument, 'version' | 'sequence' | 'generation'>, body: string): string {
  return `${gniHeadXml(doc)}${body}${GNI_TAIL_XML}`;
}

/** What precedes the body: the XML declaration and the root start tag with `version` (and `sequence`, `generation`). */
export function gniHeadXml(doc: Pick<GniDocument, 'version' | 'sequence' | 'generation'>): string {
  let attrs = ` version="${escapeAttr(doc.version)}"`;
  if (doc.sequence !== undefined) attrs += ` sequence="${doc.sequence}"`;
  if (doc.generation !== undefined) attrs += ` generation="${doc.generation}"`;
  return `${XML_DECLARATION}\n<network-data${attrs}>\n`;
}

/** What follows the body. */
export const GNI_TAIL_XML = '</network-data>\n';

/** Everything between `<network-data …>` and `</network-data>`: the content that `version` hashes. */
export function serializeGniBody(doc: Omit<GniDocument, 'version' | 'sequence' | 'generation'>): string {
  return assembleGniBody({
    configuration: configurationXml(doc.configuration),
    instances: instancesSectionXml(doc.instances.map(instanceXml)),
    securityGroups: groupsSectionXml(doc.securityGroups.map(groupXml)),
  });
}

/*
 * Fragments. `serializeGniBody` is exactly `assembleGniBody` of the three
 * sections below, so a builder that memoizes fragments per element (the CLC's
 * incremental build) and joins them produces byte-identical text.
 */

/** The body from its three serialized sections (see `configurationXml`, `instancesSectionXml`, `groupsSectionXml`). */
export function assembleGniBody(sections: { readonly configuration: string; readonly instances: string; readonly securityGroups: string }): string {
  return `${sections.configuration}${AFTER_CONFIGURATION_XML}${sections.instances}${AFTER_INSTANCES_XML}${sections.securityGroups}`;
}

/** The fixed text between the configuration and instances sections. */
export const AFTER_CONFIGURATION_XML = '  <vpcs/>\n';
/** The fixed text between the instances and security groups sections. */
export const AFTER_INSTANCES_XML = '  <dhcpOptionSets/>\n  <internetGateways/>\n';

/** The `<configuration>` element with its trailing newline. */
export function configurationXml(c: GniConfiguration): string {
  const out: string[] = [];
  writeConfiguration(out, c);
  return out.join('');
}

/** Start and end tags of a non-empty `<instances>` section, and the empty one (see `instancesSectionXml`). */
export const INSTANCES_OPEN_XML = '  <instances>\n';
export const INSTANCES_CLOSE_XML = '  </instances>\n';
export const INSTANCES_EMPTY_XML = '  <instances/>\n';

/** The `<instances>` element around instance fragments (`instanceXml`, in document order). */
export function instancesSectionXml(fragments: readonly string[]): string {
  return fragments.length === 0 ? INSTANCES_EMPTY_XML : `${INSTANCES_OPEN_XML}${fragments.join('')}${INSTANCES_CLOSE_XML}`;
}

/** The `<securityGroups>` element around group fragments (`groupXml`, in document order). */
export function groupsSectionXml(fragments: readonly string[]): string {
  return fragments.length === 0 ? '  <securityGroups/>\n' : `  <securityGroups>\n${fragments.join('')}  </securityGroups>\n`;
}

function values(list: readonly string[]): string {
  let s = '';
  for (const v of list) s += `<value>${escapeText(v)}</value>`;
  return s;
}

function property(out: string[], indent: string, name: string, list: readonly string[]): void {
  out.push(`${indent}<property name="${name}">${values(list)}</property>\n`);
}

function writeConfiguration(out: string[], c: GniConfiguration): void {
  out.push('  <configuration>\n');
  const i = '    ';
  if (c.mode !== undefined) property(out, i, 'mode', [c.mode]);
  if (c.publicIps.length > 0) property(out, i, 'publicIps', c.publicIps);
  if (c.enabledClcIp !== undefined) property(out, i, 'enabledCLCIp', [c.enabledClcIp]);
  if (c.instanceDnsDomain !== undefined) property(out, i, 'instanceDNSDomain', [c.instanceDnsDomain]);
  if (c.instanceDnsServers.length > 0) property(out, i, 'instanceDNSServers', c.instanceDnsServers);
  if (c.publicGateway !== undefined) property(out, i, 'publicGateway', [c.publicGateway]);
  if (c.subnets.length > 0) {
    out.push(`${i}<property name="subnets">\n`);
    for (const s of c.subnets) writeSubnet(out, '      ', s);
    out.push(`${i}</property>\n`);
  }
  if (c.clusters.length === 0) out.push(`${i}<property name="clusters"/>\n`);
  else {
    out.push(`${i}<property name="clusters">\n`);
    for (const cluster of c.clusters) writeCluster(out, cluster);
    out.push(`${i}</property>\n`);
  }
  if (c.extensions !== undefined) out.push(extensionLines(c.extensions, i));
  out.push('  </configuration>\n');
}

function writeSubnet(out: string[], indent: string, s: GniSubnet): void {
  out.push(
    `${indent}<subnet name="${escapeAttr(s.name)}">\n` +
      `${indent}  <property name="subnet">${values([s.subnet])}</property>\n` +
      `${indent}  <property name="netmask">${values([s.netmask])}</property>\n` +
      `${indent}  <property name="gateway">${values([s.gateway])}</property>\n` +
      `${indent}</subnet>\n`,
  );
}

function writeCluster(out: string[], c: GniCluster): void {
  const i = '        ';
  out.push(`      <cluster name="${escapeAttr(c.name)}">\n`);
  writeSubnet(out, i, c.subnet);
  if (c.enabledCcIp !== undefined) property(out, i, 'enabledCCIp', [c.enabledCcIp]);
  property(out, i, 'macPrefix', [c.macPrefix]);
  property(out, i, 'privateIps', c.privateIps);
  if (c.nodes.length === 0) out.push(`${i}<property name="nodes"/>\n`);
  else {
    out.push(`${i}<property name="nodes">\n`);
    for (const node of c.nodes) out.push(nodeXml(node));
    out.push(`${i}</property>\n`);
  }
  if (c.extensions !== undefined) out.push(extensionLines(c.extensions, i));
  out.push('      </cluster>\n');
}

/**
 * Node lines already written, by node object: a node carries every instance
 * id it hosts (100 ids each at 10,000 instances / 100 nodes), and the
 * incremental builder hands over the same GniNode while its ids are unchanged.
 * Model objects are immutable (readonly types), so an entry cannot go stale.
 */
const nodeLines = new WeakMap<GniNode, string>();

/** One `<node>` line of a cluster's `nodes` property. */
function nodeXml(node: GniNode): string {
  let line = nodeLines.get(node);
  if (line === undefined) {
    const ids = node.instanceIds.length === 0 ? '<instanceIds/>' : `<instanceIds>${values(node.instanceIds)}</instanceIds>`;
    const extensions = node.extensions === undefined ? '' : node.extensions.map(extensionXml).join('');
    line = `          <node name="${escapeAttr(node.name)}">${ids}${extensions}</node>\n`;
    nodeLines.set(node, line);
  }
  return line;
}

/** One `<instance>` element with its trailing newline. */
export function instanceXml(inst: GniInstance): string {
  let s = `    <instance name="${escapeAttr(inst.name)}">\n      <ownerId>${escapeText(inst.ownerId)}</ownerId>\n`;
  if (inst.macAddress !== undefined) s += `      <macAddress>${escapeText(inst.macAddress)}</macAddress>\n`;
  if (inst.publicIp !== undefined) s += `      <publicIp>${escapeText(inst.publicIp)}</publicIp>\n`;
  // No <privateIp> for an instance without IPv4 (IPv6-only ROUTED): the parser reads its absence back as absent.
  if (inst.privateIp !== undefined) s += `      <privateIp>${escapeText(inst.privateIp)}</privateIp>\n`;
  s += '      <networkInterfaces/>\n';
  s += inst.securityGroups.length === 0 ? '      <securityGroups/>\n' : `      <securityGroups>${values(inst.securityGroups)}</securityGroups>\n`;
  if (inst.extensions !== undefined) s += extensionLines(inst.extensions, '      ');
  s += '    </instance>\n';
  return s;
}

/** One `<securityGroup>` element with its trailing newline. */
export function groupXml(g: GniSecurityGroup): string {
  const out: string[] = [];
  out.push(`    <securityGroup name="${escapeAttr(g.name)}">\n      <ownerId>${escapeText(g.ownerId)}</ownerId>\n`);
  if (g.ingressRules.length === 0) out.push('      <ingressRules/>\n');
  else {
    out.push('      <ingressRules>\n');
    for (const r of g.ingressRules) out.push(`        ${ruleXml(r)}\n`);
    out.push('      </ingressRules>\n');
  }
  out.push('      <egressRules/>\n');
  if (g.extensions !== undefined) out.push(extensionLines(g.extensions, '      '));
  out.push('    </securityGroup>\n');
  return out.join('');
}

/** One rule on one line, fields in the 4.4 JAXB order (§2.2/§2.3a). */
function ruleXml(r: GniRule): string {
  let s = `<rule><protocol>${r.protocol}</protocol>`;
  if (r.fromPort !== undefined) s += `<fromPort>${r.fromPort}</fromPort>`;
  if (r.toPort !== undefined) s += `<toPort>${r.toPort}</toPort>`;
  if (r.icmpType !== undefined) s += `<icmpType>${r.icmpType}</icmpType>`;
  if (r.icmpCode !== undefined) s += `<icmpCode>${r.icmpCode}</icmpCode>`;
  if (r.groupId !== undefined) s += `<groupId>${escapeText(r.groupId)}</groupId>`;
  if (r.groupOwnerId !== undefined) s += `<groupOwnerId>${escapeText(r.groupOwnerId)}</groupOwnerId>`;
  if (r.cidr !== undefined) s += `<cidr>${escapeText(r.cidr)}</cidr>`;
  return `${s}</rule>`;
}
