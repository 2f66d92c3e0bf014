/**
 * The connectivity matrix: for a (source, destination instance, service)
 * what the security groups say should happen and why, computed from the
 * groups alone (pure), so the demo and the e2e tests can compare it with
 * what packets actually do.
 *
 * Semantics (EC2-Classic / Eucalyptus EDGE, architecture.md §4): ingress only;
 * a destination instance admits traffic when it shares a group with the
 * source instance, or when one rule of one of its groups matches the protocol
 * and port/icmp type and the source (a CIDR containing the source address as
 * the destination sees it, or a source group the source instance belongs to).
 * Anything else is dropped. Egress is not filtered.
 *
 * Families (issue 14): a verdict is for one family, told by the source
 * address. A CIDR rule admits only sources of its own family (0.0.0.0/0 no
 * IPv6, ::/0 no IPv4); a source-group rule admits the members in both
 * families, except ICMP (IPv4 only) and ICMPv6 (IPv6 only), as netd renders
 * them (shared/gni/ipv6.ts `rulesForFamily`); the `icmp` service is an echo
 * request of the family's ICMP (type 8, or 128 for ICMPv6); members of one
 * group admit each other in both families.
 */
import { ipCidrContains, parseAddress, parseIpCidr } from '../shared/ip.ts';
import type { IpFamily } from '../shared/ip.ts';
import type { SnapshotRule } from '../cloud-controller/contracts.ts';

export type Service = { readonly proto: 'tcp' | 'udp'; readonly port: number } | { readonly proto: 'icmp' };

export interface MatrixGroup {
  readonly id: string;
  readonly name: string;
  readonly rules: readonly SnapshotRule[];
}

export interface MatrixEndpoint {
  /** Display name (web1, client, ...). */
  readonly name: string;
  /** Group ids; empty for something that is not an instance (the client). */
  readonly groups: readonly string[];
}

export interface Verdict {
  readonly allow: boolean;
  readonly reason: string;
}

export function serviceLabel(s: Service): string {
  return s.proto === 'icmp' ? 'icmp' : `${s.proto}/${s.port}`;
}

const PORT_PROTO = { tcp: 6, udp: 17 } as const;
/** The family's ICMP protocol and its echo request type. */
const ICMP: Record<IpFamily, { protocol: number; echo: number }> = { ipv4: { protocol: 1, echo: 8 }, ipv6: { protocol: 58, echo: 128 } };

function ruleMatchesService(rule: SnapshotRule, s: Service, family: IpFamily): boolean {
  if (s.proto === 'icmp') {
    if (rule.protocol !== ICMP[family].protocol) return false;
    const typeOk = rule.icmpType === undefined || rule.icmpType === -1 || rule.icmpType === ICMP[family].echo;
    const codeOk = rule.icmpCode === undefined || rule.icmpCode === -1 || rule.icmpCode === 0;
    return typeOk && codeOk;
  }
  if (rule.protocol !== PORT_PROTO[s.proto]) return false;
  // No ports stored = every port (EC2 "-1").
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return (from === -1 && to === -1) || (s.port >= from && s.port <= to);
}

export function describeRule(rule: SnapshotRule, groupName: (id: string) => string): string {
  const proto = rule.protocol === 6 ? 'tcp' : rule.protocol === 17 ? 'udp' : rule.protocol === 1 ? 'icmp' : rule.protocol === 58 ? 'icmpv6' : `proto ${rule.protocol}`;
  let what = proto;
  if (rule.protocol === 6 || rule.protocol === 17) {
    what += rule.fromPort === undefined || (rule.fromPort === 0 && rule.toPort === 65535) ? ' (all ports)' : rule.fromPort === rule.toPort ? ` ${rule.fromPort}` : ` ${rule.fromPort}-${rule.toPort}`;
  } else if (rule.protocol === 1 || rule.protocol === 58) {
    what += rule.icmpType === undefined || rule.icmpType === -1 ? ' (any type)' : ` type ${rule.icmpType}${rule.icmpCode !== undefined && rule.icmpCode !== -1 ? `:${rule.icmpCode}` : ''}`;
  }
  const from = rule.sourceGroupId ? `group ${groupName(rule.sourceGroupId)}` : (rule.cidr ?? '0.0.0.0/0');
  return `${what} from ${from}`;
}

/**
 * @param seenSourceIp the source address as it arrives at the destination (a
 *   private address between instances, the client's own address from outside;
 *   an instance's or the client's global IPv6 address for an IPv6 verdict).
 */
export function expectVerdict(input: {
  readonly groups: readonly MatrixGroup[];
  readonly src: MatrixEndpoint;
  readonly dst: MatrixEndpoint;
  readonly seenSourceIp: string;
  readonly service: Service;
}): Verdict {
  const { src, dst, service } = input;
  const byId = new Map(input.groups.map((g) => [g.id, g]));
  const name = (id: string) => byId.get(id)?.name ?? id;
  const shared = dst.groups.find((g) => src.groups.includes(g));
  if (shared) return { allow: true, reason: `same group ${name(shared)} (members admit each other)` };
  const ip = parseAddress(input.seenSourceIp);
  const family: IpFamily = ip?.family ?? 'ipv4';
  for (const gid of dst.groups) {
    const group = byId.get(gid);
    if (!group) continue;
    for (const rule of group.rules) {
      if (!ruleMatchesService(rule, service, family)) continue;
      if (rule.sourceGroupId !== undefined) {
        if (src.groups.includes(rule.sourceGroupId) && byId.has(rule.sourceGroupId)) {
          return { allow: true, reason: `${group.name} admits ${describeRule(rule, name)}` };
        }
        continue;
      }
      const cidr = parseIpCidr(rule.cidr ?? '0.0.0.0/0');
      if (cidr && ip !== undefined && ipCidrContains(cidr, ip)) return { allow: true, reason: `${group.name} admits ${describeRule(rule, name)}` };
    }
  }
  const groupNames = dst.groups.map(name).join(', ') || '(none)';
  const label = service.proto === 'icmp' && family === 'ipv6' ? 'icmpv6' : serviceLabel(service);
  return { allow: false, reason: `no rule of ${groupNames} admits ${label} from ${src.name} (${input.seenSourceIp})` };
}
