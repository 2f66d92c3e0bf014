/**
 * Which ingress rules netd can render EXACTLY (issue 11, class 1): a rule that
 * fails here would reach the kernel as something wider than it says, so it is
 * refused (by netd: left out with a warning; the CLC's API refuses the same
 * values with an EC2 error in services/permission.ts). Both families: a rule
 * with an IPv6 CIDR is rendered by ip6tables, a source-group rule in both
 * (shared/gni/ipv6.ts `rulesForFamily`).
 *
 * Facts about the kernel/iptables behind each refusal (checked on a real
 * kernel by test/integration/netd-hardening-exactness.test.ts and, for
 * IPv6, netd-hardening-exactness-ipv6.test.ts):
 * - `-p 0` is "any protocol" (0 is both HOPOPT and iptables' "all"); -1 is
 *   EC2's "all protocols", which EC2-Classic groups never accept;
 * - `--icmp-type 255` (with or without a code) is iptables' "any ICMP type";
 *   ip6tables' `--icmpv6-type 255` is NOT a wildcard (the kernel's icmp6
 *   match has no "any" type: 255 matches type 255 only, `255/c` type 255
 *   code c), so ICMPv6 takes types -1..255;
 * - an ICMP or ICMPv6 code needs a type (-1 = every type and code, so `-1/c`
 *   is wider than it says);
 * - ports only mean something for tcp/udp (the renderer writes no port match
 *   for other protocols, so ports on them would widen into every port), ICMP
 *   type/code only for icmp (1) and icmpv6 (58);
 * - a CIDR with host bits set is silently widened to its network by the
 *   kernel (both families);
 * - the families do not mix: icmp (1) with an IPv6 CIDR, or an ICMPv6 type or
 *   code with an IPv4 CIDR, names a packet that is never there (an ICMPv6
 *   type cannot even be matched by iptables). A protocol-58 rule with an IPv4
 *   CIDR and no type/code stays what it was before IPv6 (a plain IPv4
 *   protocol-number rule, exact); the API no longer accepts new ones.
 * Pure; one code per reason.
 */
import { isIpCidrAligned, parseAddress, parseIpCidr } from '../ip.ts';
import { icmpProtocol, protocolHasPorts } from '../protocols.ts';
import type { GniRule } from './model.ts';

export type RuleRefusalCode =
  /** Protocol not an integer in 1..255 (0 and -1 mean "all protocols" to iptables / EC2). */
  | 'RULE_PROTOCOL'
  /** tcp/udp without ports, with ports outside 0..65535, or from > to. */
  | 'RULE_PORTS'
  /** Ports on a protocol other than tcp/udp, or ICMP type/code on a protocol other than icmp/icmpv6. */
  | 'RULE_FIELD_NOT_APPLICABLE'
  /** ICMP type outside -1..254 (255 is "any" to iptables), ICMPv6 type outside -1..255, code outside -1..255, or a code without a type. */
  | 'RULE_ICMP'
  /** icmp (1) with an IPv6 CIDR, or an ICMPv6 type/code with an IPv4 CIDR. */
  | 'RULE_FAMILY'
  /** Neither or both of a CIDR and a source group. */
  | 'RULE_SOURCE'
  /** The CIDR does not parse or has host bits set. */
  | 'RULE_CIDR'
  /** The source group id is not in the exact Eucalyptus form (sg- and 8 or 17 hex digits). */
  | 'RULE_PEER_GROUP_ID';

export interface RuleRefusal {
  readonly code: RuleRefusalCode;
  readonly message: string;
}

/** Eucalyptus/EC2 group ids: `sg-` and 8 or 17 lower-case hex digits. */
export const GROUP_ID_FORM = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** Eucalyptus/EC2 instance ids: `i-` and 8 or 17 lower-case hex digits. */
export const INSTANCE_ID_FORM = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function refuse(code: RuleRefusalCode, message: string): RuleRefusal {
  return { code, message };
}

/** A source CIDR the kernel holds exactly as written: `a.b.c.d/n` or `v6/n` with no host bits, or a bare address (/32, /128). */
function exactCidr(text: string): boolean {
  if (parseAddress(text) !== undefined) return true;
  const c = parseIpCidr(text);
  return c !== undefined && isIpCidrAligned(c);
}

const ICMP = icmpProtocol('ipv4');
const ICMPV6 = icmpProtocol('ipv6');

/** Undefined when the rule renders to exactly what it admits; else why not. */
export function checkRule(r: GniRule): RuleRefusal | undefined {
  const p = r.protocol;
  if (!isInt(p) || p < 1 || p > 255) {
    return refuse('RULE_PROTOCOL', `protocol ${String(p)} cannot be matched exactly (0 and -1 mean every protocol)`);
  }
  const hasPorts = r.fromPort !== undefined || r.toPort !== undefined;
  const hasIcmp = r.icmpType !== undefined || r.icmpCode !== undefined;
  if (protocolHasPorts(p)) {
    if (hasIcmp) return refuse('RULE_FIELD_NOT_APPLICABLE', `icmp type/code on protocol ${p}`);
    const { fromPort: lo, toPort: hi } = r;
    if (!isInt(lo) || !isInt(hi)) return refuse('RULE_PORTS', `protocol ${p} needs integer fromPort and toPort (got ${String(lo)}-${String(hi)})`);
    if (lo < 0 || hi > 65535 || lo > hi) return refuse('RULE_PORTS', `port range ${lo}-${hi} is not within 0-65535 in order`);
  } else if (p === ICMP || p === ICMPV6) {
    const name = p === ICMP ? 'icmp' : 'icmpv6';
    if (hasPorts) return refuse('RULE_FIELD_NOT_APPLICABLE', `ports on an ${name} rule`);
    const type = r.icmpType ?? -1;
    const code = r.icmpCode ?? -1;
    // IPv4's type 255 is iptables' "any type"; ip6tables' icmp6 match has no wildcard.
    const maxType = p === ICMP ? 254 : 255;
    if (!isInt(type) || type < -1 || type > maxType) {
      return refuse('RULE_ICMP', `${name} type ${String(type)} is outside -1..${maxType}${p === ICMP ? ' (255 means any type to iptables)' : ''}`);
    }
    if (!isInt(code) || code < -1 || code > 255) return refuse('RULE_ICMP', `${name} code ${String(code)} is outside -1..255`);
    if (type === -1 && code !== -1) return refuse('RULE_ICMP', `${name} code ${code} without a type would admit every type`);
  } else if (hasPorts || hasIcmp) {
    return refuse('RULE_FIELD_NOT_APPLICABLE', `protocol ${p} carries ports or icmp type/code, which its rule cannot match`);
  }
  const hasCidr = r.cidr !== undefined && r.cidr !== '';
  const hasGroup = r.groupId !== undefined && r.groupId !== '';
  if (hasCidr === hasGroup) return refuse('RULE_SOURCE', hasCidr ? 'both a cidr and a source group' : 'neither a cidr nor a source group');
  if (hasCidr && !exactCidr(r.cidr as string)) return refuse('RULE_CIDR', `cidr ${JSON.stringify(r.cidr)} is malformed or has host bits set`);
  if (hasGroup && !GROUP_ID_FORM.test(r.groupId as string)) return refuse('RULE_PEER_GROUP_ID', `source group ${JSON.stringify(r.groupId)} is not sg- and 8 or 17 hex digits`);
  if (hasCidr) {
    const v6 = (r.cidr as string).includes(':');
    if (p === ICMP && v6) return refuse('RULE_FAMILY', `icmp is IPv4's ICMP; the IPv6 cidr ${r.cidr as string} needs icmpv6 (58)`);
    if (p === ICMPV6 && !v6 && hasIcmp) return refuse('RULE_FAMILY', `an icmpv6 type/code cannot apply to the IPv4 cidr ${r.cidr as string}`);
  }
  return undefined;
}
