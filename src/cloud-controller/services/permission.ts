/**
 * Parses one ingress permission in euca-authorize / EC2-Classic terms into the
 * stored shape, or throws an EC2-style error code:
 * - `InvalidPermission.Malformed`: a permission whose parts do not fit together
 *   (no port for tcp/udp, ports on icmp, both a CIDR and a source group, text
 *   where a number belongs, the families mixed: icmp with an IPv6 CIDR or
 *   icmpv6 with an IPv4 one);
 * - `InvalidParameterValue`: a well-formed value out of range or not allowed
 *   (protocol not in tcp/udp/icmp/icmpv6/the additional list, port > 65535,
 *   reversed range, malformed or unaligned CIDR of either family).
 * Source groups are resolved later by the group service (they need the database).
 *
 * IPv6 (issue 14): a CIDR source may be IPv6 (`::/0`, `2001:db8::/32`), kept
 * in RFC 5952 text so equal prefixes have equal keys (`2001:DB8:0::/32` is
 * `2001:db8::/32`); icmpv6 (58) takes `-t type:code` like icmp, types and
 * codes -1..255 (ip6tables has no "any" type value, so 255 is exact there,
 * unlike icmp's); its default source is `::/0` (icmp's and every other
 * protocol's stays `0.0.0.0/0`); a source-group permission covers both
 * families (shared/gni/ipv6.ts). Before IPv6, 58 was a plain protocol number
 * (through the additional-protocols list) stored without type/code; a revoke
 * still names such a rule (`-P 58 -s <IPv4 CIDR>`, no -t).
 */
import { UserError } from '../../shared/errors.ts';
import { formatCidr, formatIpCidr, ipCidrNetwork, isAligned, isIpCidrAligned, networkAddress, parseCidr, parseIpCidr } from '../../shared/ip.ts';
import { API_PROTOCOL_NUMBERS, apiProtocolName, icmpProtocol, protocolHasPorts } from '../../shared/protocols.ts';

/** What API callers send; the CLI passes the euca-authorize flags through as strings. */
export interface PermissionInput {
  /** -P: tcp, udp, icmp, icmpv6 or an IANA number (default tcp). */
  readonly protocol?: string | number;
  /** -p: "22", "1000-2000" or "-1" (all ports). */
  readonly port?: string | number;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** -t: "type:code", -1 = any. */
  readonly icmp?: string;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** -s: an IPv4 or IPv6 CIDR (default when no source group is given: ::/0 for icmpv6, else 0.0.0.0/0). */
  readonly cidr?: string;
  /** -o: source group id or name. */
  readonly sourceGroup?: string;
  /** -u: owner account of the source group (default: the target group's owner). */
  readonly sourceAccount?: string;
}

export interface ParsedPermission {
  readonly protocol: number;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly cidr?: string;
  readonly sourceGroup?: string;
  readonly sourceAccount?: string;
}

/** EC2's IpProtocol text: tcp, udp, icmp, icmpv6 by name, every other protocol by number. */
export const protocolName = apiProtocolName;

const malformed = (message: string) => new UserError('InvalidPermission.Malformed', message);
const invalid = (message: string) => new UserError('InvalidParameterValue', message);

function intText(value: string | number, what: string): number {
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw malformed(`${what} must be an integer, got ${JSON.stringify(value)}`);
  return Number(text);
}

const ICMP = icmpProtocol('ipv4');
const ICMPV6 = icmpProtocol('ipv6');

export interface PermissionOptions {
  /** Parsing a revoke: also the pre-IPv6 shape of a protocol-58 rule (no type/code, an IPv4 CIDR). */
  readonly revoke?: boolean;
}

export function parsePermission(input: PermissionInput, additionalProtocols: readonly number[], options: PermissionOptions = {}): ParsedPermission {
  if (input === null || typeof input !== 'object') throw malformed('a permission must be an object');
  const protocol = parseProtocol(input.protocol, additionalProtocols);
  const hasPort = input.port !== undefined || input.fromPort !== undefined || input.toPort !== undefined;
  const hasIcmp = input.icmp !== undefined || input.icmpType !== undefined || input.icmpCode !== undefined;
  if (options.revoke === true && protocol === ICMPV6 && !hasPort && !hasIcmp && input.sourceGroup === undefined && input.sourceAccount === undefined) {
    const legacy = input.cidr === undefined || (typeof input.cidr === 'string' && !input.cidr.includes(':'));
    if (legacy) return { protocol, cidr: parseSourceCidr(input.cidr ?? '0.0.0.0/0') };
  }
  let ports: { fromPort?: number; toPort?: number; icmpType?: number; icmpCode?: number } = {};
  // EC2-Classic: a source-group permission without ports covers every port / icmp type.
  const everything = input.sourceGroup !== undefined;
  if (protocolHasPorts(protocol)) {
    if (hasIcmp) throw malformed(`an icmp type:code (-t) makes no sense for ${protocolName(protocol)}`);
    ports = !hasPort && everything ? { fromPort: 0, toPort: 65535 } : parsePorts(input, protocol);
  } else if (protocol === ICMP || protocol === ICMPV6) {
    if (hasPort) throw malformed(`${protocolName(protocol)} permissions take -t type:code, not a port (-p)`);
    ports = !hasIcmp && everything ? { icmpType: -1, icmpCode: -1 } : parseIcmp(input, protocol);
  } else if (hasPort || hasIcmp) {
    throw malformed(`protocol ${protocol} has no ports or icmp types`);
  }
  const cidrText = input.cidr;
  const group = input.sourceGroup;
  if (cidrText !== undefined && group !== undefined) throw malformed('give either a CIDR source (-s) or a source group (-o), not both');
  if (input.sourceAccount !== undefined && group === undefined) throw malformed('a source account (-u) needs a source group (-o)');
  if (group !== undefined) {
    if (typeof group !== 'string' || group.trim() === '') throw malformed('the source group (-o) must be a group id or name');
    if (input.sourceAccount !== undefined && (typeof input.sourceAccount !== 'string' || !/^\d{12}$/.test(input.sourceAccount))) {
      throw invalid(`the source account (-u) must be a 12-digit account number, got ${JSON.stringify(input.sourceAccount)}`);
    }
    return { protocol, ...ports, sourceGroup: group.trim(), ...(input.sourceAccount !== undefined ? { sourceAccount: input.sourceAccount } : {}) };
  }
  const cidr = parseSourceCidr(cidrText ?? (protocol === ICMPV6 ? '::/0' : '0.0.0.0/0'));
  const v6 = cidr.includes(':');
  if (protocol === ICMP && v6) throw malformed(`icmp is IPv4's ICMP and never matches the IPv6 source ${cidr}: use -P icmpv6 (58) for ICMPv6`);
  if (protocol === ICMPV6 && !v6) throw malformed(`icmpv6 (58) is IPv6's ICMP and never matches the IPv4 source ${cidr}: use -P icmp for IPv4, or an IPv6 source such as ::/0`);
  return { protocol, ...ports, cidr };
}

function parseProtocol(value: string | number | undefined, additional: readonly number[]): number {
  if (value === undefined || value === '') return 6;
  const text = String(value).trim().toLowerCase();
  let n: number | undefined = API_PROTOCOL_NUMBERS[text];
  if (n === undefined) {
    if (text === '-1' || text === 'all') throw invalid('EC2-Classic security groups do not accept "all protocols" (-1); name tcp, udp, icmp or an allowed protocol number');
    if (!/^\d+$/.test(text)) throw invalid(`unknown protocol ${JSON.stringify(value)}: use tcp, udp, icmp, icmpv6 or an IANA protocol number`);
    n = Number(text);
    if (n > 255) throw invalid(`protocol number ${n} is out of range 0-255`);
    // iptables reads protocol 0 as "every protocol" (issue 11): it cannot be admitted exactly.
    if (n === 0) throw invalid('protocol 0 cannot be matched exactly (iptables reads it as every protocol)');
  }
  if (n === 6 || n === 17 || n === ICMP || n === ICMPV6 || additional.includes(n)) return n;
  throw invalid(`protocol ${n} is not allowed: only tcp, udp, icmp, icmpv6 and cloud.network.ec2_classic_additional_protocols_allowed (${additional.join(',') || 'empty'})`);
}

function parsePorts(input: PermissionInput, protocol: number): { fromPort: number; toPort: number } {
  let from: number;
  let to: number;
  if (input.port !== undefined) {
    if (input.fromPort !== undefined || input.toPort !== undefined) throw malformed('give either a port range (-p) or fromPort/toPort, not both');
    const text = String(input.port).trim();
    const range = /^(-?\d+)\s*-\s*(-?\d+)$/.exec(text);
    if (text === '-1') {
      from = 0;
      to = 65535;
    } else if (range) {
      from = intText(range[1]!, 'from port');
      to = intText(range[2]!, 'to port');
    } else {
      from = to = intText(text, 'port');
    }
  } else if (input.fromPort !== undefined || input.toPort !== undefined) {
    if (input.fromPort === undefined || input.toPort === undefined) throw malformed('fromPort and toPort go together');
    from = intText(input.fromPort, 'fromPort');
    to = intText(input.toPort, 'toPort');
    if (from === -1 && to === -1) {
      from = 0;
      to = 65535;
    }
  } else {
    throw malformed(`${protocolName(protocol)} permissions need a port or port range (-p PORT, -p FROM-TO or -p -1 for all)`);
  }
  for (const p of [from, to]) if (p < 0 || p > 65535) throw invalid(`port ${p} is out of range 0-65535`);
  if (from > to) throw invalid(`port range ${from}-${to} is reversed`);
  return { fromPort: from, toPort: to };
}

function parseIcmp(input: PermissionInput, protocol: number): { icmpType: number; icmpCode: number } {
  const name = protocolName(protocol);
  let type: number;
  let code: number;
  if (input.icmp !== undefined) {
    if (input.icmpType !== undefined || input.icmpCode !== undefined) throw malformed('give either -t type:code or icmpType/icmpCode, not both');
    const m = /^\s*(-?\d+)\s*:\s*(-?\d+)\s*$/.exec(String(input.icmp));
    if (!m) throw malformed(`${name} type and code must look like TYPE:CODE (-1 = any), got ${JSON.stringify(input.icmp)}`);
    type = Number(m[1]);
    code = Number(m[2]);
  } else if (input.icmpType !== undefined) {
    type = intText(input.icmpType, 'icmpType');
    code = input.icmpCode === undefined ? -1 : intText(input.icmpCode, 'icmpCode');
  } else {
    throw malformed(`${name} permissions need a type and code (-t TYPE:CODE, -1:-1 for all)`);
  }
  for (const v of [type, code]) if (v < -1 || v > 255) throw invalid(`${name} type/code ${v} is out of range -1..255`);
  // iptables reads icmp type 255 as "any type" (issue 11): refused rather than widened.
  // ip6tables' icmpv6 type 255 is type 255 only (shared/gni/rule-check.ts), so icmpv6 keeps it.
  if (type === 255 && protocol === ICMP) throw invalid('icmp type 255 cannot be matched exactly (iptables reads it as any type); use -1 for all types');
  if (type === -1 && code !== -1) throw invalid(`an ${name} code needs a specific ${name} type (type -1 means all types and codes)`);
  return { icmpType: type, icmpCode: code };
}

function parseSourceCidr(text: string): string {
  if (typeof text !== 'string') throw invalid('the CIDR source (-s) must be a string');
  if (text.includes(':')) {
    const v6 = parseIpCidr(text.trim(), 'ipv6');
    if (!v6) throw invalid(`${JSON.stringify(text)} is not a valid IPv6 CIDR block (an IPv6 prefix such as 2001:db8::/32 or ::/0)`);
    if (!isIpCidrAligned(v6)) throw invalid(`${text} is not a network address: did you mean ${formatIpCidr(ipCidrNetwork(v6))}?`);
    // RFC 5952 text: one spelling per prefix, so duplicates and revokes match (ruleKey).
    return formatIpCidr(v6);
  }
  const cidr = parseCidr(text.trim());
  if (!cidr) throw invalid(`${JSON.stringify(text)} is not a valid CIDR block (a.b.c.d/n)`);
  if (!isAligned(cidr)) throw invalid(`${text} is not a network address: did you mean ${formatCidr({ network: networkAddress(cidr), prefix: cidr.prefix })}?`);
  return formatCidr(cidr);
}

/** Canonical text of a stored permission: equal permissions have equal keys. */
export function ruleKey(rule: { protocol: number; fromPort?: number; toPort?: number; icmpType?: number; icmpCode?: number; cidr?: string; sourceGroupId?: string }): string {
  const part = (v: number | string | undefined) => (v === undefined ? '' : String(v));
  return [rule.protocol, part(rule.fromPort), part(rule.toPort), part(rule.icmpType), part(rule.icmpCode), part(rule.cidr), part(rule.sourceGroupId)].join('|');
}
