/**
 * Which ingress rules netd can render EXACTLY (issue 11, class 1): a rule that
 * fails here would reach the kernel as something wider than it says, so it is
 * refused (by netd: left out with a warning; the CLC's API refuses the same
 * values with an EC2 error in services/permission.ts).
 *
 * Facts about the kernel/iptables behind each refusal (checked on a real
 * kernel by test/integration/netd-hardening-exactness.test.ts):
 * - `-p 0` is "any protocol" (0 is both HOPOPT and iptables' "all"); -1 is
 *   EC2's "all protocols", which EC2-Classic groups never accept;
 * - `--icmp-type 255` (with or without a code) is iptables' "any ICMP type";
 * - an ICMP code needs a type (-1 = every type and code, so `-1/c` is wider
 *   than it says);
 * - ports only mean something for tcp/udp (the renderer writes no port match
 *   for other protocols, so ports on them would widen into every port), ICMP
 *   type/code only for icmp;
 * - a CIDR with host bits set is silently widened to its network by the kernel.
 * Pure; one code per reason.
 */
import { isAligned, parseCidr, parseIp } from '../ip.ts';
import { protocolHasPorts } from '../protocols.ts';
import type { GniRule } from './model.ts';

export type RuleRefusalCode =
  /** Protocol not an integer in 1..255 (0 and -1 mean "all protocols" to iptables / EC2). */
  | 'RULE_PROTOCOL'
  /** tcp/udp without ports, with ports outside 0..65535, or from > to. */
  | 'RULE_PORTS'
  /** Ports on a protocol other than tcp/udp, or ICMP type/code on a protocol other than icmp. */
  | 'RULE_FIELD_NOT_APPLICABLE'
  /** ICMP type outside -1..254 (255 is "any" to iptables), code outside -1..255, or a code without a type. */
  | 'RULE_ICMP'
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

/** A source CIDR the kernel holds exactly as written: `a.b.c.d/n` with no host bits, or a bare address (/32). */
function exactCidr(text: string): boolean {
  if (parseIp(text) !== undefined) return true;
  const c = parseCidr(text);
  return c !== undefined && isAligned(c);
}

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
  } else if (p === 1) {
    if (hasPorts) return refuse('RULE_FIELD_NOT_APPLICABLE', 'ports on an icmp rule');
    const type = r.icmpType ?? -1;
    const code = r.icmpCode ?? -1;
    if (!isInt(type) || type < -1 || type > 254) return refuse('RULE_ICMP', `icmp type ${String(type)} is outside -1..254 (255 means any type to iptables)`);
    if (!isInt(code) || code < -1 || code > 255) return refuse('RULE_ICMP', `icmp code ${String(code)} is outside -1..255`);
    if (type === -1 && code !== -1) return refuse('RULE_ICMP', `icmp code ${code} without a type would admit every type`);
  } else if (hasPorts || hasIcmp) {
    return refuse('RULE_FIELD_NOT_APPLICABLE', `protocol ${p} carries ports or icmp type/code, which its rule cannot match`);
  }
  const hasCidr = r.cidr !== undefined && r.cidr !== '';
  const hasGroup = r.groupId !== undefined && r.groupId !== '';
  if (hasCidr === hasGroup) return refuse('RULE_SOURCE', hasCidr ? 'both a cidr and a source group' : 'neither a cidr nor a source group');
  if (hasCidr && !exactCidr(r.cidr as string)) return refuse('RULE_CIDR', `cidr ${JSON.stringify(r.cidr)} is malformed or has host bits set`);
  if (hasGroup && !GROUP_ID_FORM.test(r.groupId as string)) return refuse('RULE_PEER_GROUP_ID', `source group ${JSON.stringify(r.groupId)} is not sg- and 8 or 17 hex digits`);
  return undefined;
}
