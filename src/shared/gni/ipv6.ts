/**
 * IPv6 dual stack in the GNI document (issue 14): the `ipv6` extension, the
 * one place that knows its property names. A Eucalyptus 4.4 reader ignores
 * every extension (extension.ts), so a dual-stack document is still a valid
 * IPv4 EDGE document for it; a document without IPv6 has no `ipv6` extension
 * and is byte for byte what it was before.
 *
 *   configuration  ipv6 { clc-address: the CLC's IPv6 address (metadata DNAT target), optional }
 *   cluster        ipv6 { prefix: the cluster's /64; dns-servers: 0..n IPv6 name servers }
 *   instance       ipv6 { address: its global address (the EUI-64 of its MAC in the cluster's /64) }
 *   securityGroup  ipv6 { ingress-rules: the group's IPv6-only rules as 4.0 rule strings }
 *
 * Which rule goes where: `ingressRules` (the 4.4 field) keeps every rule a
 * 4.4 reader can render as IPv4 — an IPv4 CIDR, or a source group with any
 * protocol but ICMPv6. The extension holds the rules only IPv6 can apply — an
 * IPv6 CIDR, or a source group with protocol 58 (ICMPv6). edgenet's netd
 * renders a source-group rule in both families (the group's members' IPv4
 * and IPv6 addresses), except ICMP (IPv4 only) and ICMPv6 (IPv6 only);
 * `rulesForFamily` is that rule, written once.
 *
 * Readers here return what the document says (strings, parsed rule values);
 * whether the values mean anything (a /64, an address inside it, an exact
 * rule) is checked by the CLC before it writes them and by netd's sanitize
 * before it renders them.
 */
import type { GniExtension } from './extension.ts';
import { extensionValues } from './extension.ts';
import type { GniCluster, GniConfiguration, GniInstance, GniRule, GniSecurityGroup } from './model.ts';
import { parseRuleString } from './rule-string.ts';

export const IPV6_EXTENSION = 'ipv6';

/** The address instances reach the metadata service at over IPv6 (EC2's, `fd00:ec2::254`). */
export const IPV6_METADATA_ADDRESS = 'fd00:ec2::254';

/** The /64 of the metadata address: no cluster prefix may be it. */
export const IPV6_METADATA_PREFIX = 'fd00:ec2::/64';

/** IANA protocol number of ICMPv6. */
export const ICMPV6_PROTOCOL = 58;

const P = {
  clcAddress: 'clc-address',
  prefix: 'prefix',
  dnsServers: 'dns-servers',
  address: 'address',
  ingressRules: 'ingress-rules',
} as const;

export interface ClusterIpv6 {
  /** The cluster's IPv6 prefix as the document writes it (`2001:db8:10::/64`). */
  readonly prefix: string;
  readonly dnsServers: readonly string[];
}

function extension(properties: readonly { name: string; values: readonly string[] }[]): GniExtension {
  return { name: IPV6_EXTENSION, properties: properties.filter((p) => p.values.length > 0).map((p) => ({ name: p.name, values: [...p.values] })) };
}

// ---- writers (the CLC) ----

export function configurationIpv6Extension(clcAddress: string): GniExtension {
  return extension([{ name: P.clcAddress, values: [clcAddress] }]);
}

export function clusterIpv6Extension(v6: ClusterIpv6): GniExtension {
  return extension([{ name: P.prefix, values: [v6.prefix] }, { name: P.dnsServers, values: v6.dnsServers }]);
}

export function instanceIpv6Extension(address: string): GniExtension {
  return extension([{ name: P.address, values: [address] }]);
}

/** Undefined when the group has no IPv6-only rule (no extension is written). */
export function groupIpv6Extension(rules: readonly GniRule[]): GniExtension | undefined {
  if (rules.length === 0) return undefined;
  return extension([{ name: P.ingressRules, values: rules.map(formatRuleString) }]);
}

// ---- readers (netd, import, tests) ----

/** The CLC's IPv6 address when the document carries one. */
export function configurationIpv6(conf: GniConfiguration): string | undefined {
  return extensionValues(conf, IPV6_EXTENSION, P.clcAddress)?.[0];
}

/** The cluster's IPv6 settings, or undefined for an IPv4-only cluster. */
export function clusterIpv6(cluster: GniCluster): ClusterIpv6 | undefined {
  const prefix = extensionValues(cluster, IPV6_EXTENSION, P.prefix)?.[0];
  if (prefix === undefined) return undefined;
  return { prefix, dnsServers: extensionValues(cluster, IPV6_EXTENSION, P.dnsServers) ?? [] };
}

export function instanceIpv6(instance: GniInstance): string | undefined {
  return extensionValues(instance, IPV6_EXTENSION, P.address)?.[0];
}

/**
 * The group's IPv6-only rules. `unreadable` lists rule strings that do not
 * parse (netd reports and skips them; the CLC never writes one).
 */
export function groupIpv6Rules(group: GniSecurityGroup): { readonly rules: readonly GniRule[]; readonly unreadable: readonly string[] } {
  const rules: GniRule[] = [];
  const unreadable: string[] = [];
  for (const text of extensionValues(group, IPV6_EXTENSION, P.ingressRules) ?? []) {
    const rule = parseRuleString(text);
    if (rule === undefined) unreadable.push(text);
    else rules.push(rule);
  }
  return { rules, unreadable };
}

// ---- the family rule ----

const isV6Cidr = (cidr: string | undefined): boolean => cidr !== undefined && cidr.includes(':');
const hasGroup = (r: GniRule): boolean => r.groupId !== undefined && r.groupId !== '';

/** Where the CLC puts a rule: `ingressRules` (the 4.4 field) or the `ipv6` extension. */
export function ruleDocumentPlace(r: GniRule): 'ingressRules' | 'ipv6' {
  if (hasGroup(r)) return r.protocol === ICMPV6_PROTOCOL ? 'ipv6' : 'ingressRules';
  return isV6Cidr(r.cidr) ? 'ipv6' : 'ingressRules';
}

/**
 * The rules netd renders in one family from a group's two lists: IPv4 gets
 * `ingressRules` minus ICMPv6 source-group rules; IPv6 gets the extension's
 * rules plus `ingressRules`' source-group rules that are not ICMP (v4).
 */
export function rulesForFamily(family: 'ipv4' | 'ipv6', ingressRules: readonly GniRule[], ipv6Rules: readonly GniRule[]): GniRule[] {
  if (family === 'ipv4') return ingressRules.filter((r) => !(hasGroup(r) && r.protocol === ICMPV6_PROTOCOL));
  return [...ipv6Rules, ...ingressRules.filter((r) => hasGroup(r) && r.protocol !== 1 && r.protocol !== ICMPV6_PROTOCOL)];
}

/**
 * A rule as a 4.0 rule string (rule-string.ts reads it back):
 * `-P 6 -p 22-22 -s 2001:db8::/32`, `-P 58 -t 128:-1 -o sg-… -u owner`.
 */
export function formatRuleString(r: GniRule): string {
  const parts = [`-P ${r.protocol}`];
  if (r.fromPort !== undefined || r.toPort !== undefined) parts.push(`-p ${r.fromPort ?? -1}-${r.toPort ?? -1}`);
  else if (r.icmpType !== undefined || r.icmpCode !== undefined) parts.push(`-t ${r.icmpType ?? -1}:${r.icmpCode ?? -1}`);
  if (hasGroup(r)) parts.push(`-o ${r.groupId as string} -u ${r.groupOwnerId === undefined || r.groupOwnerId === '' ? '-' : r.groupOwnerId}`);
  else parts.push(`-s ${r.cidr ?? ''}`);
  return parts.join(' ');
}
