/**
 * GniDocument → XML text, in the Eucalyptus 4.4 JAXB element order
 * (eucalyptus-edge.md §2.2): root `network-data` (attributes `version`, then
 * edgenet's `sequence`); `configuration`, `vpcs`, `instances`,
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
 *   empty; absent optional scalars are omitted.
 *
 * Written with plain string concatenation into an array: a generic XML builder
 * is several times slower at 10,000 instances (bench/gni.bench.ts).
 */
import type { GniCluster, GniConfiguration, GniDocument, GniInstance, GniRule, GniSecurityGroup, GniSubnet } from './model.ts';
import { escapeAttr, escapeText } from './xml-text.ts';

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

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
  readonly body: string;
}
const bodies = new WeakMap<object, CachedBody>();

/** Records that `body` is `serializeGniBody(doc)`, so `serializeGni` of the same content objects can reuse it. */
export function rememberGniBody(doc: Omit<GniDocument, 'version' | 'sequence'>, body: string): void {
  bodies.set(doc.instances, { configuration: doc.configuration, securityGroups: doc.securityGroups, body });
}

function cachedBody(doc: Omit<GniDocument, 'version' | 'sequence'>): string | undefined {
  const hit = bodies.get(doc.instances);
  return hit !== undefined && hit.configuration === doc.configuration && hit.securityGroups === doc.securityGroups ? hit.body : undefined;
}

/** The full document text, ending with a newline. */
export function serializeGni(doc: GniDocument): string {
  return serializeWithBody(doc, cachedBody(doc) ?? serializeGniBody(doc));
}

/** Assembles the document from a body produced by `serializeGniBody` for the same content. */
export function serializeWithBody(doc: Pick<GniDocument, 'version' | 'sequence'>, body: string): string {
  let attrs = ` version="${escapeAttr(doc.version)}"`;
  if (doc.sequence !== undefined) attrs += ` sequence="${doc.sequence}"`;
  return `${XML_DECLARATION}\n<network-data${attrs}>\n${body}</network-data>\n`;
}

/** Everything between `<network-data …>` and `</network-data>`: the content that `version` hashes. */
export function serializeGniBody(doc: Omit<GniDocument, 'version' | 'sequence'>): string {
  const out: string[] = [];
  writeConfiguration(out, doc.configuration);
  out.push('  <vpcs/>\n');
  if (doc.instances.length === 0) out.push('  <instances/>\n');
  else {
    out.push('  <instances>\n');
    for (const instance of doc.instances) writeInstance(out, instance);
    out.push('  </instances>\n');
  }
  out.push('  <dhcpOptionSets/>\n  <internetGateways/>\n');
  if (doc.securityGroups.length === 0) out.push('  <securityGroups/>\n');
  else {
    out.push('  <securityGroups>\n');
    for (const group of doc.securityGroups) writeGroup(out, group);
    out.push('  </securityGroups>\n');
  }
  return out.join('');
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
    for (const node of c.nodes) {
      const ids = node.instanceIds.length === 0 ? '<instanceIds/>' : `<instanceIds>${values(node.instanceIds)}</instanceIds>`;
      out.push(`${i}  <node name="${escapeAttr(node.name)}">${ids}</node>\n`);
    }
    out.push(`${i}</property>\n`);
  }
  out.push('      </cluster>\n');
}

function writeInstance(out: string[], inst: GniInstance): void {
  let s = `    <instance name="${escapeAttr(inst.name)}">\n      <ownerId>${escapeText(inst.ownerId)}</ownerId>\n`;
  if (inst.macAddress !== undefined) s += `      <macAddress>${escapeText(inst.macAddress)}</macAddress>\n`;
  if (inst.publicIp !== undefined) s += `      <publicIp>${escapeText(inst.publicIp)}</publicIp>\n`;
  s += `      <privateIp>${escapeText(inst.privateIp)}</privateIp>\n      <networkInterfaces/>\n`;
  s += inst.securityGroups.length === 0 ? '      <securityGroups/>\n' : `      <securityGroups>${values(inst.securityGroups)}</securityGroups>\n`;
  s += '    </instance>\n';
  out.push(s);
}

function writeGroup(out: string[], g: GniSecurityGroup): void {
  out.push(`    <securityGroup name="${escapeAttr(g.name)}">\n      <ownerId>${escapeText(g.ownerId)}</ownerId>\n`);
  if (g.ingressRules.length === 0) out.push('      <ingressRules/>\n');
  else {
    out.push('      <ingressRules>\n');
    for (const r of g.ingressRules) out.push(`        ${ruleXml(r)}\n`);
    out.push('      </ingressRules>\n');
  }
  out.push('      <egressRules/>\n    </securityGroup>\n');
}

/** One rule on one line, fields in the 4.4 JAXB order (§2.2/§2.3a). */
export function ruleXml(r: GniRule): string {
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
