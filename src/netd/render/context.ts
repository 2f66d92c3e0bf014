/**
 * The facts every part of the renderer needs, resolved once from (document,
 * node, config, host facts): this node's cluster and subnet, its local
 * instances, the VM gateway and whether the node plays "fake router".
 * Building it is where render can fail (node not in the document, gateway
 * unresolvable); the table builders after it cannot.
 *
 * IPv6 (issue 14): `ipv6` is the cluster's prefix and name servers when the
 * cluster is dual-stack, and each local instance's `ipv6` its global address.
 * Both are re-checked here with sanitize's rules (ipv6-checks.ts), so render
 * on its own never lays down a value sanitize would refuse: a bad prefix makes
 * the cluster IPv4-only, a bad instance address leaves that instance IPv4-only
 * (each with a warning).
 */
import type { GniCluster, GniDocument, GniInstance, GniSecurityGroup } from '../../shared/gni/model.ts';
import { clusterIpv6, configurationIpv6, instanceIpv6 } from '../../shared/gni/ipv6.ts';
import type { Cidr, Cidr6 } from '../../shared/ip.ts';
import { cidrContains, compareIps, formatCidr, networkAddress, parseCidr, parseIp, parseNetmask } from '../../shared/ip.ts';
import type { NetdConfig } from '../config.ts';
import type { NetdNames } from '../names.ts';
import { INTERFACE_NAME_MAX, instanceInterface, netdNames } from '../names.ts';
import { checkClusterPrefix, checkInstanceAddress, unicastIpv6 } from './ipv6-checks.ts';
import type { InstancePorts } from './ports.ts';
import type { HostFacts, LocalInstance, RenderErrorCode } from './types.ts';

/** A dual-stack cluster's IPv6 settings, checked and in canonical text. */
export interface ClusterIpv6Context {
  readonly prefix: Cidr6;
  /** `2001:db8:10::/64` as ip6tables-save and `ip -6 route` print it. */
  readonly prefixText: string;
  /** Unicast name servers, canonical, document order. */
  readonly dnsServers: readonly string[];
}

export interface RenderContext {
  readonly doc: GniDocument;
  readonly node: string;
  readonly cluster: GniCluster;
  readonly config: NetdConfig;
  readonly names: NetdNames;
  /** This cluster's private subnet. */
  readonly subnet: Cidr;
  readonly netmask: string;
  /** Local instances with a MAC and a private IP, sorted by id. */
  readonly locals: readonly LocalInstance[];
  /** Gateway handed to VMs ('' if none). */
  readonly gateway: string;
  /** NC_ROUTER=Y with empty NC_ROUTER_IP: ebtables answers ARP for the gateway with the bridge MAC. */
  readonly fakeRouter: boolean;
  /** Bridge MAC (lower case) or '' when unknown. */
  readonly bridgeMac: string;
  /** Addresses of the bridge as `a.b.c.d/n` (host facts; empty when unknown). */
  readonly bridgeAddresses: readonly string[];
  readonly groupsById: ReadonlyMap<string, GniSecurityGroup>;
  /** This cluster's IPv6 settings; undefined for an IPv4-only cluster. */
  readonly ipv6?: ClusterIpv6Context;
  /** The document's IPv6 `clc-address` when it is a unicast address (canonical). */
  readonly clcIpv6?: string;
  /** How filter rules name an instance's port (ports.ts): EDGE's are bridge ports, ROUTED's routed interfaces. */
  readonly ports: InstancePorts;
  readonly warnings: string[];
}

export class RenderFailure extends Error {
  constructor(readonly code: RenderErrorCode, message: string) {
    super(message);
    this.name = 'RenderFailure';
  }
}

/** The public IP of an instance if it has one distinct from its private IP. */
export function publicIpOf(inst: { publicIp?: string; privateIp?: string }): string | undefined {
  const p = inst.publicIp;
  if (p === undefined || p === '' || p === '0.0.0.0' || p === inst.privateIp || parseIp(p) === undefined) return undefined;
  return p;
}

function findCluster(doc: GniDocument, node: string): GniCluster | undefined {
  return doc.configuration.clusters.find((c) => c.nodes.some((n) => n.name === node));
}

function resolveSubnet(cluster: GniCluster): { subnet: Cidr; netmask: string } {
  const net = parseIp(cluster.subnet.subnet);
  const prefix = parseNetmask(cluster.subnet.netmask);
  if (net === undefined || prefix === undefined) {
    throw new RenderFailure('BAD_CLUSTER_SUBNET', `cluster ${cluster.name}: subnet ${cluster.subnet.subnet} netmask ${cluster.subnet.netmask} does not parse`);
  }
  const subnet = { network: networkAddress({ network: net, prefix }), prefix };
  return { subnet, netmask: cluster.subnet.netmask };
}

function resolveGateway(ctx: { cluster: GniCluster; subnet: Cidr; config: NetdConfig; host: HostFacts }): { gateway: string; fakeRouter: boolean } {
  const { config, cluster, subnet, host } = ctx;
  const subnetGateway = parseIp(cluster.subnet.gateway) === undefined ? '' : cluster.subnet.gateway;
  if (!config.ncRouter) return { gateway: subnetGateway, fakeRouter: false };
  if (config.ncRouterIp === '') return { gateway: subnetGateway, fakeRouter: subnetGateway !== '' };
  if (config.ncRouterIp !== 'AUTO') return { gateway: config.ncRouterIp, fakeRouter: false };
  for (const a of host.bridgeAddresses ?? []) {
    const ip = parseIp(a.split('/')[0] ?? '');
    if (ip !== undefined && cidrContains(subnet, ip)) return { gateway: a.split('/')[0] as string, fakeRouter: false };
  }
  throw new RenderFailure('NO_BRIDGE_ADDRESS_IN_SUBNET',
    `NC_ROUTER_IP=AUTO: no address of ${config.bridge} (${(host.bridgeAddresses ?? []).join(', ') || 'none known'}) lies in ${formatCidr(subnet)}`);
}

/** The document's records of `ids`, by id (the last record of an id wins): one pass, no map of the whole cloud. */
function recordsOf(doc: GniDocument, ids: readonly string[]): Map<string, GniInstance> {
  const wanted = new Set(ids);
  const byId = new Map<string, GniInstance>();
  if (wanted.size === 0) return byId;
  for (const inst of doc.instances) if (wanted.has(inst.name)) byId.set(inst.name, inst);
  return byId;
}

/** The cluster's IPv6 settings if it has a valid prefix (a bad one: warning, IPv4-only). */
function resolveIpv6(cluster: GniCluster, warnings: string[]): ClusterIpv6Context | undefined {
  const v6 = clusterIpv6(cluster);
  if (v6 === undefined) return undefined;
  const p = checkClusterPrefix(v6.prefix);
  if (!p.ok) { warnings.push(`cluster ${cluster.name}: ${p.message}: the cluster is rendered IPv4-only`); return undefined; }
  const dnsServers: string[] = [];
  for (const d of v6.dnsServers) {
    const a = unicastIpv6(d);
    if (a === undefined) warnings.push(`cluster ${cluster.name}: IPv6 name server ${JSON.stringify(d)} is not a unicast address: left out`);
    else if (!dnsServers.includes(a)) dnsServers.push(a);
  }
  return { prefix: p.prefix, prefixText: p.text, dnsServers };
}

/** An instance's checked IPv6 address on a dual-stack cluster (else undefined, with a warning when it had a bad one). */
function instanceAddress6(inst: GniInstance, mac: string, v6: ClusterIpv6Context | undefined, warnings: string[]): string | undefined {
  const text = instanceIpv6(inst);
  if (text === undefined || v6 === undefined) return undefined;
  const c = checkInstanceAddress(text, v6.prefix, mac);
  if (c.ok) return c.address;
  warnings.push(`instance ${inst.name}: ${c.message}: its IPv6 is left out`);
  return undefined;
}

function localInstances(doc: GniDocument, node: string, cluster: GniCluster, v6: ClusterIpv6Context | undefined, warnings: string[]): LocalInstance[] {
  const ids = cluster.nodes.find((n) => n.name === node)?.instanceIds ?? [];
  const byId = recordsOf(doc, ids);
  const out: LocalInstance[] = [];
  const seenIp = new Map<string, string>();
  const seenMac = new Map<string, string>();
  for (const id of [...new Set(ids)].sort()) {
    const inst = byId.get(id);
    if (inst === undefined) { warnings.push(`instance ${id} is listed under node ${node} but has no record: skipped`); continue; }
    if (instanceInterface(id).length > INTERFACE_NAME_MAX) { warnings.push(`instance ${id}: interface name ${instanceInterface(id)} exceeds ${INTERFACE_NAME_MAX} characters: skipped`); continue; }
    const mac = inst.macAddress?.toLowerCase() ?? '';
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) { warnings.push(`instance ${id} has no valid MAC: skipped (its interface stays blocked)`); continue; }
    // EDGE renders an instance from its IPv4 (sanitize refuses one without, INSTANCE_NO_PRIVATE_IP; this is the renderer's own guard).
    const privateIp = inst.privateIp;
    if (privateIp === undefined || parseIp(privateIp) === undefined || privateIp === '0.0.0.0') { warnings.push(`instance ${id} has no private IP: skipped`); continue; }
    const other = seenIp.get(privateIp) ?? seenMac.get(mac);
    if (other !== undefined) throw new RenderFailure('CONFLICTING_INSTANCES', `instances ${other} and ${id} share private IP ${privateIp} or MAC ${mac}`);
    seenIp.set(privateIp, id);
    seenMac.set(mac, id);
    const pub = publicIpOf(inst);
    const ipv6 = instanceAddress6(inst, mac, v6, warnings);
    out.push({
      id,
      interface: instanceInterface(id),
      mac,
      privateIp,
      ...(pub === undefined ? {} : { publicIp: pub }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
      securityGroups: [...new Set(inst.securityGroups)],
    });
  }
  return out;
}

export function buildContext(args: { doc: GniDocument; node: string; config: NetdConfig; host: HostFacts }): RenderContext {
  const { doc, node, config, host } = args;
  const cluster = findCluster(doc, node);
  if (cluster === undefined) throw new RenderFailure('NOT_IN_DOCUMENT', `node ${node} is not listed under any cluster of document ${doc.version}`);
  const warnings: string[] = [];
  const { subnet, netmask } = resolveSubnet(cluster);
  const { gateway, fakeRouter } = resolveGateway({ cluster, subnet, config, host });
  const ipv6 = resolveIpv6(cluster, warnings);
  const locals = localInstances(doc, node, cluster, ipv6, warnings);
  const clcText = configurationIpv6(doc.configuration);
  const clcIpv6 = clcText === undefined ? undefined : unicastIpv6(clcText);
  if (clcText !== undefined && clcIpv6 === undefined) warnings.push(`the document's IPv6 clc-address ${JSON.stringify(clcText)} is not a unicast address: not used`);
  const bridgeMac = (host.bridgeMac ?? config.bridgeMac).toLowerCase();
  if (fakeRouter && bridgeMac === '' && locals.length > 0) {
    throw new RenderFailure('BRIDGE_MAC_UNKNOWN', `NC_ROUTER=Y with empty NC_ROUTER_IP answers ARP for ${gateway} with the MAC of ${config.bridge}, which is unknown (set EDGENET_BRIDGE_MAC or let netd read it from the host)`);
  }
  if (config.ncProxy && bridgeMac === '' && locals.length > 0) {
    throw new RenderFailure('BRIDGE_MAC_UNKNOWN', `NC_PROXY=Y answers ARP for the instances with the MAC of ${config.bridge}, which is unknown (set EDGENET_BRIDGE_MAC or let netd read it from the host)`);
  }
  return {
    doc, node, cluster, config, names: netdNames(config.prefix), subnet, netmask, locals, gateway, fakeRouter, bridgeMac,
    bridgeAddresses: host.bridgeAddresses ?? [],
    groupsById: new Map(doc.securityGroups.map((g) => [g.name, g])),
    ...(ipv6 === undefined ? {} : { ipv6 }),
    ...(clcIpv6 === undefined ? {} : { clcIpv6 }),
    ports: 'bridged',
    warnings,
  };
}

/** Sorts IPs (and `ip/len` entries) numerically; stable for equal addresses. */
export function sortIps(list: Iterable<string>): string[] {
  return [...list].sort((a, b) => compareIps(a.split('/')[0] ?? a, b.split('/')[0] ?? b) || a.length - b.length);
}

/** Formats a CIDR as iptables-save prints it (host bits cleared, always with the length); bare IPs get /32. */
export function canonicalCidr(text: string): string | undefined {
  if (parseIp(text) !== undefined) return `${text}/32`;
  const c = parseCidr(text);
  if (c === undefined) return undefined;
  return formatCidr({ network: networkAddress(c), prefix: c.prefix });
}
