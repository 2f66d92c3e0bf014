/**
 * What a Eucalyptus 4.4 eucanetd refuses in a network-info document, as a
 * test oracle: the mandatory-field rules of its reader, encoded from
 * Eucalyptus 4.4.2 net/euca_gni.c (`gni_populate` ends with `gni_validate`;
 * a non-zero result makes eucanetd skip the document and keep its old state)
 * and summarised in eucalyptus-edge.md §2.4 and §6.3. eucanetd stops at the
 * first failure; this returns every one, so a test names them all.
 *
 * Encoded rules (function names from euca_gni.c 4.4.2):
 * - gni_netmode_validate: `mode` is EDGE or VPCMIDO (util/euca_network.c
 *   asNetModes); absent or empty is refused;
 * - gni_validate: `enabledCLCIp` non-zero; `instanceDNSDomain` non-empty;
 *   ≥1 `instanceDNSServers`, each non-zero; in EDGE every top-level subnet
 *   valid and no VPC elements (vpc, dhcpOptionSet, internetGateway:
 *   EUCA-13321);
 * - gni_subnet_validate: subnet, netmask and gateway non-zero;
 * - gni_cluster_validate: a name, `enabledCCIp` non-zero, `macPrefix`
 *   non-empty; in EDGE a valid cluster subnet and ≥1 `privateIps` value;
 * - gni_node_validate: a name; every listed instance id non-empty;
 * - gni_instance_validate: a name, `ownerId`, `privateIp` non-zero, ≥1
 *   security group, none empty (a missing MAC or public IP is only logged);
 * - gni_secgroup_validate: a name and `ownerId` (no rules or no member
 *   instance is only logged: 4.4 itself sends groups named only as peers).
 * "Non-zero" is euca_dot2hex's view: text that is not a dotted quad reads as 0.
 *
 * Not refusals in 4.4, so not here: IP ranges (4.4 expands them only when it
 * uses them, ignoring the result), a `version` longer than 8 characters
 * (GNI_VERSION_LEN 9 keeps the first 8; see docs/gni.md), unknown elements and
 * attributes (XPath never looks at them).
 *
 * Independent of edgenet's GNI reader: the document is read with
 * fast-xml-parser, the way eucanetd reads it with XPath.
 */
import { XMLParser } from 'fast-xml-parser';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Every element is an array (repeated and single children look the same); attributes stay strings.
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  ignoreDeclaration: true,
});

function kids(node: Node | undefined, name: string): Node[] {
  const v = node?.[name];
  return Array.isArray(v) ? (v as unknown[]).map((x) => (typeof x === 'object' && x !== null ? (x as Node) : { '#text': String(x) })) : [];
}

function text(node: Node | undefined): string {
  if (node === undefined) return '';
  const t = node['#text'];
  return Array.isArray(t) ? t.join('') : typeof t === 'string' || typeof t === 'number' ? String(t) : '';
}

function attr(node: Node, name: string): string {
  const v = node[`@${name}`];
  return typeof v === 'string' ? v : '';
}

/** `./property[@name=NAME]/value` texts, as euca_gni.c's XPath expressions read them. */
function values(node: Node | undefined, name: string): string[] {
  return kids(node, 'property')
    .filter((p) => attr(p, 'name') === name)
    .flatMap((p) => kids(p, 'value').map(text));
}

function childText(node: Node, name: string): string {
  return text(kids(node, name)[0]);
}

/** euca_dot2hex: a dotted quad's value, 0 for anything else. */
function dot2hex(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return 0;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return 0;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function subnetProblems(subnet: Node | undefined, where: string): string[] {
  if (subnet === undefined) return [`${where}: no subnet (gni_subnet_validate)`];
  const bad = ['subnet', 'netmask', 'gateway'].filter((k) => dot2hex(values(subnet, k)[0] ?? '') === 0);
  return bad.length === 0 ? [] : [`${where}: ${bad.join(', ')} zero or missing (gni_subnet_validate)`];
}

/** Every reason a 4.4 eucanetd would refuse `xml`; [] when it accepts it. */
export function eucanetd44Refusals(xml: string): string[] {
  const out: string[] = [];
  const root = kids(parser.parse(xml) as Node, 'network-data')[0];
  if (root === undefined) return ['network-data node not found'];
  const conf = kids(root, 'configuration')[0];
  const mode = values(conf, 'mode')[0] ?? '';
  if (mode !== 'EDGE' && mode !== 'VPCMIDO') out.push(`mode "${mode}" is not EDGE or VPCMIDO (gni_netmode_validate)`);
  if (dot2hex(values(conf, 'enabledCLCIp')[0] ?? '') === 0) out.push('no enabledCLCIp');
  if ((values(conf, 'instanceDNSDomain')[0] ?? '') === '') out.push('no instanceDNSDomain');
  const dns = values(conf, 'instanceDNSServers');
  if (dns.length === 0) out.push('no instanceDNSServers');
  dns.forEach((s, i) => {
    if (dot2hex(s) === 0) out.push(`instanceDNSServers[${i}] "${s}" is zero`);
  });
  const edge = mode === 'EDGE';
  if (edge) {
    const subnets = kids(conf, 'property').filter((p) => attr(p, 'name') === 'subnets').flatMap((p) => kids(p, 'subnet'));
    subnets.forEach((s, i) => out.push(...subnetProblems(s, `subnets[${i}]`)));
    const vpc = kids(kids(root, 'vpcs')[0], 'vpc').length + kids(kids(root, 'dhcpOptionSets')[0], 'dhcpOptionSet').length + kids(kids(root, 'internetGateways')[0], 'internetGateway').length;
    if (vpc > 0) out.push('VPC elements found in EDGE mode gni');
  }
  const clusters = kids(conf, 'property').filter((p) => attr(p, 'name') === 'clusters').flatMap((p) => kids(p, 'cluster'));
  for (const c of clusters) {
    const name = attr(c, 'name');
    const where = `cluster ${name || '?'}`;
    if (name === '') out.push('no cluster name');
    if (dot2hex(values(c, 'enabledCCIp')[0] ?? '') === 0) out.push(`${where}: no enabledCCIp`);
    if ((values(c, 'macPrefix')[0] ?? '') === '') out.push(`${where}: no macPrefix`);
    if (edge) {
      out.push(...subnetProblems(kids(c, 'subnet')[0], `${where}: private_subnet`));
      if (values(c, 'privateIps').length === 0) out.push(`${where}: no private_ips`);
    }
    const nodes = kids(c, 'property').filter((p) => attr(p, 'name') === 'nodes').flatMap((p) => kids(p, 'node'));
    for (const n of nodes) {
      if (attr(n, 'name') === '') out.push(`${where}: no node name`);
      kids(kids(n, 'instanceIds')[0], 'value').forEach((v, i) => {
        if (text(v) === '') out.push(`${where}: node ${attr(n, 'name')}: empty instance_names set at idx ${i}`);
      });
    }
  }
  for (const inst of kids(kids(root, 'instances')[0], 'instance')) {
    const where = `instance ${attr(inst, 'name') || '?'}`;
    if (attr(inst, 'name') === '') out.push('no instance name');
    if (childText(inst, 'ownerId') === '') out.push(`${where}: no accountId`);
    if (dot2hex(childText(inst, 'privateIp')) === 0) out.push(`${where}: no privateIp`);
    const groups = kids(kids(inst, 'securityGroups')[0], 'value').map(text);
    if (groups.length === 0) out.push(`${where}: no secgroups`);
    if (groups.some((g) => g === '')) out.push(`${where}: empty secgroup name`);
  }
  for (const g of kids(kids(root, 'securityGroups')[0], 'securityGroup')) {
    if (attr(g, 'name') === '') out.push('no secgroup name');
    if (childText(g, 'ownerId') === '') out.push(`secgroup ${attr(g, 'name') || '?'}: no accountId`);
  }
  return out;
}
