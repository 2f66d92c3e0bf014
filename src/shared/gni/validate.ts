/**
 * Semantic validation of a GniDocument (eucalyptus-edge.md §2.4, plus the
 * cross-references edgenet's consumers rely on). Returns every problem, in
 * document order (configuration, instances, security groups), so the first
 * error names the first element at fault; each path is XPath-like
 * (`paths.ts`), each code from `codes.ts`.
 *
 * Rules (errors unless noted):
 * - `mode` absent (4.0) or `EDGE`;
 * - `enabledCLCIp` present and an address; when the document has clusters,
 *   `instanceDNSDomain` non-empty and ≥1 `instanceDNSServers`, all non-zero
 *   (a document with no clusters configures no node, and is what the CLC
 *   broadcasts before the property is set);
 * - IP lists: single addresses or `lo-hi`, not reversed, not 0.0.0.0 or
 *   127.0.0.1 at either end;
 * - subnets: subnet/netmask/gateway addresses, contiguous netmask, the subnet
 *   its own network address, the gateway inside it;
 * - clusters: unique name, full subnet, MAC prefix `hh:hh`, ≥1 private IP,
 *   `enabledCCIp` an address (warning when absent); nodes: unique non-empty
 *   names, every listed instance present in `instances` and under one node
 *   only;
 * - instances: unique name, ownerId, privateIp an address, publicIp an
 *   address when present, MAC `hh:hh:hh:hh:hh:hh` (warning when absent),
 *   ≥1 security group, each present in `securityGroups`;
 * - security groups: unique name, ownerId; rules with exactly one source (a
 *   CIDR or a group), ports/type/code in range, fromPort ≤ toPort, tcp/udp
 *   with ports; a peer group absent from the document is a warning (4.0
 *   documents did not carry referenced groups; the rule then admits nobody).
 */
import type { Diagnostic } from '../diagnostics.ts';
import { isAligned, isReversed, parseCidr, parseIp, parseNetmask, parseRangeEntry, cidrContains } from '../ip.ts';
import { GniCode, error, warning } from './codes.ts';
import type { GniCluster, GniDocument, GniInstance, GniRule, GniSecurityGroup, GniSubnet } from './model.ts';
import { gniPaths as P } from './paths.ts';

const LOOPBACK = 0x7f000001;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const MAC_PREFIX = /^[0-9a-f]{2}:[0-9a-f]{2}$/i;

export function validateGni(doc: Omit<GniDocument, 'version'>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const c = doc.configuration;
  const instanceNames = new Set(doc.instances.map((i) => i.name));
  const groupNames = new Set(doc.securityGroups.map((g) => g.name));

  if (c.mode !== undefined && c.mode !== 'EDGE') {
    out.push(error(GniCode.ModeUnsupported, P.value('mode', 0), `mode "${c.mode}" is not supported (EDGE only)`));
  }
  ipList(out, c.publicIps, (i) => P.value('publicIps', i), false);
  if (c.enabledClcIp === undefined || c.enabledClcIp === '') out.push(error(GniCode.Missing, P.property('enabledCLCIp'), 'enabledCLCIp is required'));
  else address(out, c.enabledClcIp, P.value('enabledCLCIp', 0));
  const needDns = c.clusters.length > 0;
  if (needDns && (c.instanceDnsDomain === undefined || c.instanceDnsDomain === '')) {
    out.push(error(GniCode.Missing, P.property('instanceDNSDomain'), 'instanceDNSDomain is required'));
  }
  if (needDns && c.instanceDnsServers.length === 0) out.push(error(GniCode.Missing, P.property('instanceDNSServers'), 'at least one instanceDNSServers value is required'));
  c.instanceDnsServers.forEach((s, i) => address(out, s, P.value('instanceDNSServers', i), { nonZero: true }));
  if (c.publicGateway !== undefined) address(out, c.publicGateway, P.value('publicGateway', 0));
  c.subnets.forEach((s, i) => subnet(out, s, P.subnet(s.name, i)));

  const clusterNames = new Set<string>();
  const nodeNames = new Set<string>();
  const placed = new Set<string>();
  c.clusters.forEach((cl, i) => cluster(out, cl, i, { clusterNames, nodeNames, placed, instanceNames }));

  const seenInstances = new Set<string>();
  doc.instances.forEach((inst, i) => instance(out, inst, i, seenInstances, groupNames));
  const seenGroups = new Set<string>();
  doc.securityGroups.forEach((g, i) => group(out, g, i, seenGroups, groupNames));
  return out;
}

function address(out: Diagnostic[], text: string, path: string, options: { nonZero?: boolean } = {}): void {
  if (text === '') {
    out.push(error(GniCode.Missing, path, 'address is empty'));
    return;
  }
  const ip = parseIp(text);
  if (ip === undefined) out.push(error(GniCode.BadIp, path, `"${text}" is not an IPv4 address`));
  else if (options.nonZero === true && ip === 0) out.push(error(GniCode.BadIp, path, '0.0.0.0 is not allowed here'));
}

function ipList(out: Diagnostic[], list: readonly string[], pathOf: (i: number) => string, required: boolean, requiredPath?: string): void {
  if (required && list.length === 0) out.push(error(GniCode.Missing, requiredPath ?? pathOf(0), 'at least one address or range is required'));
  list.forEach((entry, i) => {
    const range = parseRangeEntry(entry);
    if (range === undefined) out.push(error(GniCode.BadRange, pathOf(i), `"${entry}" is not an address or a lo-hi range`));
    else if (isReversed(range)) out.push(error(GniCode.RangeReversed, pathOf(i), `range "${entry}" starts above its end`));
    else if (range.lo === 0 || range.lo === LOOPBACK || range.hi === LOOPBACK) out.push(error(GniCode.BadIp, pathOf(i), `"${entry}" uses 0.0.0.0 or 127.0.0.1`));
  });
}

function subnet(out: Diagnostic[], s: GniSubnet, path: string): void {
  if (s.name === '') out.push(error(GniCode.Missing, `${path}/@name`, 'subnet without a name'));
  const sub = `${path}/property[@name='subnet']/value[1]`;
  const mask = `${path}/property[@name='netmask']/value[1]`;
  const gw = `${path}/property[@name='gateway']/value[1]`;
  const before = out.length;
  address(out, s.subnet, sub);
  if (s.netmask === '') out.push(error(GniCode.Missing, mask, 'netmask is empty'));
  const prefix = s.netmask === '' ? undefined : parseNetmask(s.netmask);
  if (s.netmask !== '' && prefix === undefined) out.push(error(GniCode.BadNetmask, mask, `"${s.netmask}" is not a contiguous netmask`));
  address(out, s.gateway, gw);
  if (out.length > before || prefix === undefined) return;
  const cidr = parseCidr(`${s.subnet}/${prefix}`);
  const gateway = parseIp(s.gateway);
  if (cidr === undefined || gateway === undefined) return;
  if (!isAligned(cidr)) {
    out.push(error(GniCode.BadIp, sub, `${s.subnet} is not the network address of a /${prefix}`));
  } else if (!cidrContains(cidr, gateway)) {
    out.push(error(GniCode.BadIp, gw, `gateway ${s.gateway} is outside ${s.subnet}/${prefix}`));
  }
}

interface ClusterSeen {
  readonly clusterNames: Set<string>;
  readonly nodeNames: Set<string>;
  readonly placed: Set<string>;
  readonly instanceNames: ReadonlySet<string>;
}

function cluster(out: Diagnostic[], cl: GniCluster, index: number, seen: ClusterSeen): void {
  const path = P.cluster(cl.name, index);
  if (cl.name === '') out.push(error(GniCode.Missing, `${path}/@name`, 'cluster without a name'));
  else if (seen.clusterNames.has(cl.name)) out.push(error(GniCode.Duplicate, path, `cluster "${cl.name}" appears twice`));
  seen.clusterNames.add(cl.name);
  subnet(out, cl.subnet, `${path}/${P.named('subnet', cl.subnet.name, 0)}`);
  if (cl.enabledCcIp === undefined) out.push(warning(GniCode.CcIpMissing, `${path}/property[@name='enabledCCIp']`, 'cluster without enabledCCIp'));
  else address(out, cl.enabledCcIp, `${path}/property[@name='enabledCCIp']/value[1]`);
  if (!MAC_PREFIX.test(cl.macPrefix)) {
    const p = `${path}/property[@name='macPrefix']`;
    if (cl.macPrefix === '') out.push(error(GniCode.Missing, p, 'macPrefix is required'));
    else out.push(error(GniCode.BadMacPrefix, `${p}/value[1]`, `"${cl.macPrefix}" is not hh:hh`));
  }
  const pips = `${path}/property[@name='privateIps']`;
  ipList(out, cl.privateIps, (i) => `${pips}/value[${i + 1}]`, true, pips);
  cl.nodes.forEach((node, ni) => {
    const npath = `${path}/property[@name='nodes']/${P.named('node', node.name, ni)}`;
    if (node.name === '') out.push(error(GniCode.Missing, `${npath}/@name`, 'node without a name'));
    else if (seen.nodeNames.has(node.name)) out.push(error(GniCode.Duplicate, npath, `node "${node.name}" appears twice`));
    seen.nodeNames.add(node.name);
    node.instanceIds.forEach((id, ii) => {
      const vpath = `${npath}/instanceIds/value[${ii + 1}]`;
      if (!seen.instanceNames.has(id)) out.push(error(GniCode.UnknownInstance, vpath, `instance "${id}" is listed under node "${node.name}" but missing from <instances>`));
      else if (seen.placed.has(id)) out.push(error(GniCode.InstanceOnTwoNodes, vpath, `instance "${id}" is listed under more than one node`));
      seen.placed.add(id);
    });
  });
}

function instance(out: Diagnostic[], inst: GniInstance, index: number, seen: Set<string>, groups: ReadonlySet<string>): void {
  const path = P.instance(inst.name, index);
  if (inst.name === '') out.push(error(GniCode.Missing, `${path}/@name`, 'instance without a name'));
  else if (seen.has(inst.name)) out.push(error(GniCode.Duplicate, path, `instance "${inst.name}" appears twice`));
  seen.add(inst.name);
  if (inst.ownerId === '') out.push(error(GniCode.Missing, `${path}/ownerId`, 'ownerId is required'));
  if (inst.macAddress === undefined) out.push(warning(GniCode.MacMissing, `${path}/macAddress`, 'instance without a MAC address'));
  else if (!MAC.test(inst.macAddress)) out.push(error(GniCode.BadMac, `${path}/macAddress`, `"${inst.macAddress}" is not a MAC address`));
  if (inst.publicIp !== undefined) address(out, inst.publicIp, `${path}/publicIp`, { nonZero: true });
  if (inst.privateIp === '') out.push(error(GniCode.Missing, `${path}/privateIp`, 'privateIp is required'));
  else address(out, inst.privateIp, `${path}/privateIp`, { nonZero: true });
  if (inst.securityGroups.length === 0) out.push(error(GniCode.Missing, `${path}/securityGroups`, 'an instance needs at least one security group'));
  inst.securityGroups.forEach((g, i) => {
    if (!groups.has(g)) out.push(error(GniCode.UnknownGroup, `${path}/securityGroups/value[${i + 1}]`, `security group "${g}" is not in <securityGroups>`));
  });
}

function group(out: Diagnostic[], g: GniSecurityGroup, index: number, seen: Set<string>, groups: ReadonlySet<string>): void {
  const path = P.group(g.name, index);
  if (g.name === '') out.push(error(GniCode.Missing, `${path}/@name`, 'security group without a name'));
  else if (seen.has(g.name)) out.push(error(GniCode.Duplicate, path, `security group "${g.name}" appears twice`));
  seen.add(g.name);
  if (g.ownerId === '') out.push(error(GniCode.Missing, `${path}/ownerId`, 'ownerId is required'));
  g.ingressRules.forEach((r, i) => rule(out, r, `${path}/ingressRules/rule[${i + 1}]`, groups));
}

function rule(out: Diagnostic[], r: GniRule, path: string, groups: ReadonlySet<string>): void {
  if (!Number.isInteger(r.protocol) || r.protocol < -1 || r.protocol > 255) out.push(error(GniCode.BadNumber, `${path}/protocol`, `protocol ${r.protocol} out of range`));
  const hasCidr = r.cidr !== undefined;
  const hasGroup = r.groupId !== undefined;
  if (hasCidr === hasGroup) out.push(error(GniCode.RuleSource, path, hasCidr ? 'rule has both a cidr and a groupId' : 'rule has neither a cidr nor a groupId'));
  if (r.cidr !== undefined && parseCidr(r.cidr) === undefined) out.push(error(GniCode.BadCidr, `${path}/cidr`, `"${r.cidr}" is not a CIDR`));
  if (r.groupId !== undefined && !groups.has(r.groupId)) {
    out.push(warning(GniCode.UnknownPeerGroup, `${path}/groupId`, `peer group "${r.groupId}" is not in the document; the rule admits nobody`));
  }
  if (r.protocol === 6 || r.protocol === 17) {
    if (r.fromPort === undefined) out.push(error(GniCode.Missing, `${path}/fromPort`, 'tcp/udp rule without fromPort'));
    if (r.toPort === undefined) out.push(error(GniCode.Missing, `${path}/toPort`, 'tcp/udp rule without toPort'));
  }
  if (r.fromPort !== undefined && r.toPort !== undefined && r.fromPort >= 0 && r.toPort >= 0 && r.fromPort > r.toPort) {
    out.push(error(GniCode.RangeReversed, `${path}/fromPort`, `port range ${r.fromPort}-${r.toPort} is reversed`));
  }
}
