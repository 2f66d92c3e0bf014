/**
 * Semantic validation of a GniDocument (eucalyptus-edge.md §2.4, plus the
 * cross-references edgenet's consumers rely on). Returns every problem, in
 * document order (configuration, instances, security groups), so the first
 * error names the first element at fault; each path is XPath-like
 * (`paths.ts`), each code from `codes.ts`.
 *
 * Rules (errors unless noted):
 * - `mode` absent (4.0, EDGE) or one of `NETWORK_MODES` (`mode.ts`);
 * - `enabledCLCIp` present and an address; when the document has clusters,
 *   `instanceDNSDomain` non-empty and ≥1 `instanceDNSServers`, all non-zero
 *   (a document with no clusters configures no node, and is what the CLC
 *   broadcasts before the property is set);
 * - IP lists: single addresses or `lo-hi`, not reversed, not 0.0.0.0 or
 *   127.0.0.1 at either end;
 * - subnets: subnet/netmask/gateway addresses, contiguous netmask, the subnet
 *   its own network address, the gateway inside it;
 * - clusters: unique name, full subnet, MAC prefix `hh:hh`, ≥1 private IP
 *   (none is allowed in ROUTED: an IPv6-only cluster has no IPv4 pool),
 *   `enabledCCIp` an address (warning when absent); nodes: unique non-empty
 *   names, every listed instance present in `instances` and under one node
 *   only;
 * - instances: unique name, ownerId, privateIp an address (absent is
 *   allowed only in ROUTED: an IPv6-only instance has none), publicIp an
 *   address when present, MAC `hh:hh:hh:hh:hh:hh` (warning when absent),
 *   ≥1 security group, each present in `securityGroups`;
 * - security groups: unique name, ownerId; rules with exactly one source (a
 *   CIDR or a group), ports/type/code in range, fromPort ≤ toPort, tcp/udp
 *   with ports; a peer group absent from the document is a warning (4.0
 *   documents did not carry referenced groups; the rule then admits nobody);
 * - extensions, where present (configuration, clusters, nodes, instances,
 *   groups): names, uniqueness and limits (`checkExtensions`, extension.ts);
 *   their meaning is the business of the mode that reads them.
 */
import type { Diagnostic } from '../diagnostics.ts';
import { isAligned, isReversed, parseCidr, parseIp, parseNetmask, parseRangeEntry, cidrContains } from '../ip.ts';
import { GniCode, error, warning } from './codes.ts';
import { checkExtensions } from './extension.ts';
import type { GniCluster, GniDocument, GniInstance, GniRule, GniSecurityGroup, GniSubnet } from './model.ts';
import { NETWORK_MODES, isNetworkMode } from './mode.ts';
import { gniPaths as P } from './paths.ts';

const LOOPBACK = 0x7f000001;
const MAC_PREFIX = /^[0-9a-f]{2}:[0-9a-f]{2}$/i;

export function validateGni(doc: Omit<GniDocument, 'version'>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const c = doc.configuration;
  // Name → index of its first holder: membership, and "appears twice" for any later one.
  const instanceFirst = firstIndexByName(doc.instances);
  const groupFirst = firstIndexByName(doc.securityGroups);

  if (c.mode !== undefined && !isNetworkMode(c.mode)) {
    out.push(error(GniCode.ModeUnsupported, P.value('mode', 0), `mode "${c.mode}" is not supported (known: ${NETWORK_MODES.join(', ')})`));
  }
  ipList(out, c.publicIps, { pathOf: (i) => P.value('publicIps', i), required: false });
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
  // ROUTED (issue 17) is the one mode with IPv4-less clusters and instances.
  const ipv4Optional = c.mode === 'ROUTED';
  c.clusters.forEach((cl, i) => cluster(out, cl, i, { clusterNames, nodeNames, instances: instanceFirst, ipv4Optional }));
  if (c.extensions !== undefined) checkExtensions(out, c.extensions, P.root('configuration'));

  const firsts: FirstIndexes = { instances: instanceFirst, groups: groupFirst, ipv4Optional };
  for (let i = 0; i < doc.instances.length; i++) instance(out, doc.instances[i] as GniInstance, i, firsts);
  for (let i = 0; i < doc.securityGroups.length; i++) group(out, doc.securityGroups[i] as GniSecurityGroup, i, groupFirst);
  return out;
}

/** The first index of `name` in a `firstIndexByName` map, placed (negative) or not. */
function firstIndex(map: ReadonlyMap<string, number>, name: string): number | undefined {
  const v = map.get(name);
  return v === undefined || v >= 0 ? v : -1 - v;
}

function firstIndexByName(list: readonly { readonly name: string }[]): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i < list.length; i++) {
    const name = (list[i] as { readonly name: string }).name;
    if (!map.has(name)) map.set(name, i);
  }
  return map;
}

/** `hh:hh:hh:hh:hh:hh`, any case (a hand-written /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i: it runs per instance). */
function isMac(text: string): boolean {
  if (text.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = text.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 0x3a) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) return false;
  }
  return true;
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

/** True when `address` would report nothing (the common case, checked without building a path). */
function isAddress(text: string, nonZero: boolean): boolean {
  const ip = text === '' ? undefined : parseIp(text);
  return ip !== undefined && !(nonZero && ip === 0);
}

/** `required`: an empty list is reported, at `requiredPath` (default: the first entry's path). */
function ipList(out: Diagnostic[], list: readonly string[], { pathOf, required, requiredPath }: { readonly pathOf: (i: number) => string; readonly required: boolean; readonly requiredPath?: string }): void {
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
  /**
   * Instance name → index of its first record, flipped to `-1 - index` once a
   * node lists it (placed): one map of the 10,000s of names serves both checks.
   */
  readonly instances: Map<string, number>;
  /** A cluster may have no privateIps (ROUTED). */
  readonly ipv4Optional: boolean;
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
  ipList(out, cl.privateIps, { pathOf: (i) => `${pips}/value[${i + 1}]`, required: !seen.ipv4Optional, requiredPath: pips });
  cl.nodes.forEach((node, ni) => {
    const npath = `${path}/property[@name='nodes']/${P.named('node', node.name, ni)}`;
    if (node.name === '') out.push(error(GniCode.Missing, `${npath}/@name`, 'node without a name'));
    else if (seen.nodeNames.has(node.name)) out.push(error(GniCode.Duplicate, npath, `node "${node.name}" appears twice`));
    seen.nodeNames.add(node.name);
    if (node.extensions !== undefined) checkExtensions(out, node.extensions, npath);
    for (let ii = 0; ii < node.instanceIds.length; ii++) {
      const id = node.instanceIds[ii] as string;
      const first = seen.instances.get(id);
      if (first === undefined) out.push(error(GniCode.UnknownInstance, `${npath}/instanceIds/value[${ii + 1}]`, `instance "${id}" is listed under node "${node.name}" but missing from <instances>`));
      else if (first < 0) out.push(error(GniCode.InstanceOnTwoNodes, `${npath}/instanceIds/value[${ii + 1}]`, `instance "${id}" is listed under more than one node`));
      else seen.instances.set(id, -1 - first);
    }
  });
  if (cl.extensions !== undefined) checkExtensions(out, cl.extensions, path);
}

// instance, group and rule run 10,000s of times per document: their paths are
// built only when a diagnostic needs one, and they create no closures (under
// tsx every closure creation also names the function, which costs more than
// the checks).

/** Where each instance and group name first appears (duplicates are the later ones). */
interface FirstIndexes {
  readonly instances: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
  /** An instance may have no privateIp (ROUTED). */
  readonly ipv4Optional: boolean;
}

function instance(out: Diagnostic[], inst: GniInstance, index: number, { instances: instanceFirst, groups, ipv4Optional }: FirstIndexes): void {
  if (inst.name === '') out.push(error(GniCode.Missing, P.instance(inst.name, index, '@name'), 'instance without a name'));
  else if (firstIndex(instanceFirst, inst.name) !== index) out.push(error(GniCode.Duplicate, P.instance(inst.name, index), `instance "${inst.name}" appears twice`));
  if (inst.ownerId === '') out.push(error(GniCode.Missing, P.instance(inst.name, index, 'ownerId'), 'ownerId is required'));
  if (inst.macAddress === undefined) out.push(warning(GniCode.MacMissing, P.instance(inst.name, index, 'macAddress'), 'instance without a MAC address'));
  else if (!isMac(inst.macAddress)) out.push(error(GniCode.BadMac, P.instance(inst.name, index, 'macAddress'), `"${inst.macAddress}" is not a MAC address`));
  if (inst.publicIp !== undefined && !isAddress(inst.publicIp, true)) address(out, inst.publicIp, P.instance(inst.name, index, 'publicIp'), { nonZero: true });
  if (inst.privateIp === undefined) {
    if (!ipv4Optional) out.push(error(GniCode.Missing, P.instance(inst.name, index, 'privateIp'), 'privateIp is required'));
  } else if (inst.privateIp === '') out.push(error(GniCode.Missing, P.instance(inst.name, index, 'privateIp'), 'privateIp is required'));
  else if (!isAddress(inst.privateIp, true)) address(out, inst.privateIp, P.instance(inst.name, index, 'privateIp'), { nonZero: true });
  if (inst.securityGroups.length === 0) out.push(error(GniCode.Missing, P.instance(inst.name, index, 'securityGroups'), 'an instance needs at least one security group'));
  if (inst.extensions !== undefined) checkExtensions(out, inst.extensions, P.instance(inst.name, index));
  for (let i = 0; i < inst.securityGroups.length; i++) {
    const g = inst.securityGroups[i] as string;
    if (!groups.has(g)) out.push(error(GniCode.UnknownGroup, P.instance(inst.name, index, `securityGroups/value[${i + 1}]`), `security group "${g}" is not in <securityGroups>`));
  }
}

function group(out: Diagnostic[], g: GniSecurityGroup, index: number, groups: ReadonlyMap<string, number>): void {
  if (g.name === '') out.push(error(GniCode.Missing, P.group(g.name, index, '@name'), 'security group without a name'));
  else if (groups.get(g.name) !== index) out.push(error(GniCode.Duplicate, P.group(g.name, index), `security group "${g.name}" appears twice`));
  if (g.ownerId === '') out.push(error(GniCode.Missing, P.group(g.name, index, 'ownerId'), 'ownerId is required'));
  if (g.extensions !== undefined) checkExtensions(out, g.extensions, P.group(g.name, index));
  for (let i = 0; i < g.ingressRules.length; i++) rule(out, g.ingressRules[i] as GniRule, { group: g.name, index, rule: i }, groups);
}

interface RuleAt {
  readonly group: string;
  readonly index: number;
  readonly rule: number;
}

function rulePath(at: RuleAt, rest?: string): string {
  return P.group(at.group, at.index, `ingressRules/rule[${at.rule + 1}]${rest === undefined ? '' : `/${rest}`}`);
}

function rule(out: Diagnostic[], r: GniRule, at: RuleAt, groups: ReadonlyMap<string, number>): void {
  if (!Number.isInteger(r.protocol) || r.protocol < -1 || r.protocol > 255) out.push(error(GniCode.BadNumber, rulePath(at, 'protocol'), `protocol ${r.protocol} out of range`));
  const hasCidr = r.cidr !== undefined;
  const hasGroup = r.groupId !== undefined;
  if (hasCidr === hasGroup) out.push(error(GniCode.RuleSource, rulePath(at), hasCidr ? 'rule has both a cidr and a groupId' : 'rule has neither a cidr nor a groupId'));
  if (r.cidr !== undefined && parseCidr(r.cidr) === undefined) out.push(error(GniCode.BadCidr, rulePath(at, 'cidr'), `"${r.cidr}" is not a CIDR`));
  if (r.groupId !== undefined && !groups.has(r.groupId)) {
    out.push(warning(GniCode.UnknownPeerGroup, rulePath(at, 'groupId'), `peer group "${r.groupId}" is not in the document; the rule admits nobody`));
  }
  if (r.protocol === 6 || r.protocol === 17) {
    if (r.fromPort === undefined) out.push(error(GniCode.Missing, rulePath(at, 'fromPort'), 'tcp/udp rule without fromPort'));
    if (r.toPort === undefined) out.push(error(GniCode.Missing, rulePath(at, 'toPort'), 'tcp/udp rule without toPort'));
  }
  if (r.fromPort !== undefined && r.toPort !== undefined && r.fromPort >= 0 && r.toPort >= 0 && r.fromPort > r.toPort) {
    out.push(error(GniCode.RangeReversed, rulePath(at, 'fromPort'), `port range ${r.fromPort}-${r.toPort} is reversed`));
  }
}
