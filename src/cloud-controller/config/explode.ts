/**
 * Defaults ("explode", eucalyptus-edge.md §3.4): a valid property document plus
 * the related cloud properties → the fully specified configuration the IPAM
 * and the GNI builder work from.
 *
 * Rules:
 * - Mode ← document, else the default mode (EDGE). Top-level MacPrefix ← document, else `cloud.vmstate.mac_prefix`;
 *   a cluster's MacPrefix ← its own, else the top-level one. MAC prefixes are
 *   lower-cased (MACs are compared as text downstream).
 * - A cluster's Subnet ← inline, or the top-level subnet it names, or the
 *   single top-level subnet. A subnet's Name defaults to its Subnet address.
 *   Its Ipv6Prefix and Ipv6DnsServers come with it (so a cluster naming a
 *   top-level subnet inherits them), in RFC 5952 text; a subnet without
 *   Ipv6Prefix has neither key (an IPv4-only property explodes exactly as
 *   before).
 * - A cluster's PrivateIps ← its own non-empty list; without a list of its own,
 *   the top-level non-empty list; otherwise — including an explicit `[]`,
 *   which does not inherit (eucalyptus-edge.md §6.2) — the whole subnet minus
 *   network, broadcast and gateway (as ranges: 10.111.0.0/16 gw 10.111.0.1 →
 *   10.111.0.2-10.111.255.254).
 * - PublicGateway ← document, else none (4.1.1+; broadcast as the GNI's
 *   `publicGateway` when set, as Eucalyptus 4.4 does).
 * - InstanceDnsDomain ← document, else `cloud.vmstate.instance_subdomain`
 *   (leading dots trimmed) + ".internal".
 * - InstanceDnsServers ← document, else `system.dns.nameserveraddress`, where a
 *   lone 127.0.0.1 means "not configured".
 * - Registered clusters (inputs.registeredClusters) missing from the document
 *   get an entry from the top-level defaults when a single top-level subnet
 *   exists (Eucalyptus skipped clusters without a subnet; so do we).
 * IP list entries are rewritten canonically ("10.0.0.1 - 10.0.0.9" →
 * "10.0.0.1-10.0.0.9"), order kept. The rules above are EDGE's; a ROUTED
 * document shares MacPrefix, InstanceDnsDomain and InstanceDnsServers'
 * defaults and is otherwise exploded by routed.ts. Pure; only called on valid documents
 * (it throws INVALID_CONFIGURATION otherwise rather than guess).
 */
import { EdgenetError } from '../../shared/errors.ts';
import { DEFAULT_NETWORK_MODE } from '../../shared/gni/mode.ts';
import { explodeRouted } from './routed.ts';
import { cidrRange, formatCidr6, formatIpv6, formatRange, hostRange, maskToPrefix, parseCidr6, parseIp, parseIpv6, parseRangeEntry, subtractAddresses } from '../../shared/ip.ts';
import type {
  ClusterConfig,
  ExplodeInputs,
  ExplodedCluster,
  ExplodedNetworkConfiguration,
  ExplodedSubnet,
  NetworkConfiguration,
  SubnetConfig,
} from './types.ts';

export const DEFAULT_EXPLODE_INPUTS: ExplodeInputs = Object.freeze({
  macPrefix: 'd0:0d',
  instanceSubdomain: '.eucalyptus',
  nameservers: Object.freeze([]) as readonly string[],
});

export function explode(cfg: NetworkConfiguration, inputs: ExplodeInputs): ExplodedNetworkConfiguration {
  const macPrefix = (cfg.MacPrefix ?? inputs.macPrefix).toLowerCase();
  if (cfg.Mode === 'ROUTED') {
    return explodeRouted(cfg, {
      macPrefix,
      dnsDomain: cfg.InstanceDnsDomain ?? defaultDnsDomain(inputs.instanceSubdomain),
      dnsServers: cfg.InstanceDnsServers ?? defaultNameservers(inputs.nameservers),
    });
  }
  const subnets = (cfg.Subnets ?? []).map((s) => explodeSubnet(s, 'Subnets'));
  const topPrivate = canonicalList(cfg.PrivateIps ?? []);
  const configured = cfg.Clusters ?? [];
  const clusters: ExplodedCluster[] = configured.map((c, i) => explodeCluster(c, i, { macPrefix, subnets, topPrivate }));
  const single = subnets.length === 1 ? subnets[0] : undefined;
  if (single) {
    const names = new Set(configured.map((c) => c.Name));
    for (const name of inputs.registeredClusters ?? []) {
      if (names.has(name)) continue;
      names.add(name);
      clusters.push({ Name: name, MacPrefix: macPrefix, Subnet: single, PrivateIps: topPrivate.length > 0 ? topPrivate : derivedPool(single) });
    }
  }
  return {
    Mode: cfg.Mode ?? DEFAULT_NETWORK_MODE,
    InstanceDnsDomain: cfg.InstanceDnsDomain ?? defaultDnsDomain(inputs.instanceSubdomain),
    InstanceDnsServers: [...(cfg.InstanceDnsServers ?? defaultNameservers(inputs.nameservers))],
    MacPrefix: macPrefix,
    PublicIps: canonicalList(cfg.PublicIps ?? []),
    ...(cfg.PublicGateway === undefined ? {} : { PublicGateway: cfg.PublicGateway }),
    Subnets: subnets,
    Clusters: clusters,
  };
}

/**
 * Reads the related cloud properties through `get` (a property store lookup):
 * `cloud.vmstate.mac_prefix`, `cloud.vmstate.instance_subdomain`,
 * `system.dns.nameserveraddress` (comma list). Unset or non-string values fall
 * back to DEFAULT_EXPLODE_INPUTS.
 */
export function explodeInputsFromProperties(get: (name: string) => unknown): ExplodeInputs {
  const str = (name: string): string | undefined => {
    const v = get(name);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const ns = get('system.dns.nameserveraddress');
  const nameservers = Array.isArray(ns) ? ns.filter((x): x is string => typeof x === 'string') : typeof ns === 'string' ? splitList(ns) : [];
  return {
    macPrefix: str('cloud.vmstate.mac_prefix') ?? DEFAULT_EXPLODE_INPUTS.macPrefix,
    instanceSubdomain: str('cloud.vmstate.instance_subdomain') ?? DEFAULT_EXPLODE_INPUTS.instanceSubdomain,
    nameservers,
  };
}

/** "a, b,,c" → ["a", "b", "c"]. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

interface ClusterDefaults {
  readonly macPrefix: string;
  readonly subnets: readonly ExplodedSubnet[];
  readonly topPrivate: readonly string[];
}

function explodeCluster(c: ClusterConfig, index: number, d: ClusterDefaults): ExplodedCluster {
  const subnet = clusterSubnet(c, index, d.subnets);
  const listed = c.PrivateIps === undefined ? d.topPrivate : canonicalList(c.PrivateIps);
  return {
    Name: c.Name,
    MacPrefix: (c.MacPrefix ?? d.macPrefix).toLowerCase(),
    Subnet: subnet,
    PrivateIps: listed.length > 0 ? listed : derivedPool(subnet),
  };
}

function clusterSubnet(c: ClusterConfig, index: number, top: readonly ExplodedSubnet[]): ExplodedSubnet {
  const s = c.Subnet;
  if (s === undefined) {
    if (top.length === 1 && top[0]) return top[0];
    throw invalid(`Clusters[${index}] has no Subnet and there is not exactly one top-level subnet`);
  }
  if (s.Subnet === undefined && s.Netmask === undefined && s.Gateway === undefined) {
    const named = top.find((t) => t.Name === s.Name);
    if (!named) throw invalid(`Clusters[${index}].Subnet.Name "${s.Name ?? ''}" names no top-level subnet`);
    return named;
  }
  return explodeSubnet(s, `Clusters[${index}].Subnet`);
}

function explodeSubnet(s: SubnetConfig, where: string): ExplodedSubnet {
  if (s.Subnet === undefined || s.Netmask === undefined || s.Gateway === undefined) throw invalid(`${where} needs Subnet, Netmask and Gateway`);
  return { Name: s.Name ?? s.Subnet, Subnet: s.Subnet, Netmask: s.Netmask, Gateway: s.Gateway, ...explodeIpv6(s, where) };
}

/** The subnet's IPv6 keys in canonical (RFC 5952) text; nothing at all for an IPv4-only subnet. */
function explodeIpv6(s: SubnetConfig, where: string): Pick<ExplodedSubnet, 'Ipv6Prefix' | 'Ipv6DnsServers'> {
  if (s.Ipv6Prefix === undefined) return {};
  const prefix = parseCidr6(s.Ipv6Prefix);
  if (prefix === undefined) throw invalid(`${where}.Ipv6Prefix does not parse`);
  const servers = (s.Ipv6DnsServers ?? []).map((text) => {
    const v = parseIpv6(text);
    if (v === undefined) throw invalid(`${where}.Ipv6DnsServers entry "${text}" does not parse`);
    return formatIpv6(v);
  });
  return { Ipv6Prefix: formatCidr6(prefix), Ipv6DnsServers: servers };
}

/** The whole subnet minus network, broadcast and gateway addresses, as canonical ranges. */
function derivedPool(s: ExplodedSubnet): string[] {
  const network = parseIp(s.Subnet);
  const mask = parseIp(s.Netmask);
  const gateway = parseIp(s.Gateway);
  const prefix = mask === undefined ? undefined : maskToPrefix(mask);
  if (network === undefined || prefix === undefined || gateway === undefined) throw invalid(`subnet ${s.Name} does not parse`);
  const cidr = { network, prefix };
  const hosts = hostRange(cidr);
  if (!hosts) return [];
  const { lo, hi } = cidrRange(cidr);
  return subtractAddresses([hosts], [lo, hi, gateway]).map(formatRange);
}

function canonicalList(entries: readonly string[]): string[] {
  return entries.map((e) => {
    const r = parseRangeEntry(e);
    if (!r) throw invalid(`IP list entry "${e}" does not parse`);
    return formatRange(r);
  });
}

function defaultDnsDomain(subdomain: string): string {
  return `${subdomain.replace(/^\.+/, '')}.internal`;
}

function defaultNameservers(nameservers: readonly string[]): readonly string[] {
  // Eucalyptus's default for system.dns.nameserveraddress is the loopback: it means "not configured".
  if (nameservers.length === 1 && nameservers[0] === '127.0.0.1') return [];
  return nameservers;
}

function invalid(message: string): EdgenetError {
  return new EdgenetError('INVALID_CONFIGURATION', `explode needs a valid document: ${message}`);
}
