/**
 * One address family's view of the security groups (issue 14): which sets,
 * addresses and rules the filter of that family uses. The group chains, the
 * per-port broadcast/multicast guard and the control-plane guard are written
 * once (filter.ts, instance-guard.ts) and built twice from these views:
 *
 *   ipv4: sets <P>-LOCAL, <P>-HOSTS, <P>-<group>; the group's `ingressRules`
 *         (rulesForFamily('ipv4')); metadata at 169.254.169.254
 *   ipv6: sets <P>-LOCAL-6, <P>-HOSTS-6, <P>-<group>-6 (family inet6); the
 *         group's `ipv6` extension rules plus its source-group rules that are
 *         not ICMP (rulesForFamily('ipv6')); metadata at fd00:ec2::254
 *
 * Chain names are the same in both families (iptables and ip6tables are
 * separate namespaces); set names differ (ipsets are one namespace).
 */
import { IPV6_METADATA_ADDRESS, groupIpv6Rules, rulesForFamily } from '../../shared/gni/ipv6.ts';
import type { GniRule, GniSecurityGroup } from '../../shared/gni/model.ts';
import { formatCidr6, formatIpv6, parseCidr6, parseIpv6 } from '../../shared/ip.ts';
import type { IpFamily } from '../netfilter/rule.ts';
import type { RenderContext } from './context.ts';
import { canonicalCidr } from './context.ts';
import { METADATA_ADDRESS } from './nat.ts';

/** A rule of a group with the words that name it in a warning (`rule 2`, `ipv6 rule 0`). */
export interface LabelledRule {
  readonly rule: GniRule;
  readonly label: string;
}

export interface FamilyView {
  readonly family: IpFamily;
  /** The set of this node's instances' addresses. */
  readonly localSet: string;
  /** The set of the cloud's hosts (no control-plane port for instances). */
  readonly hostsSet: string;
  /** The address instances reach the metadata service at (DNATed by nat / nat6). */
  readonly metadataAddress: string;
  /** The set of a group's members' addresses. */
  groupSet(groupId: string): string;
  /** The group's rules in this family, in document order. */
  rules(group: GniSecurityGroup | undefined): LabelledRule[];
  /** A rule's CIDR as the save tool prints it (host bits cleared, with its length), or undefined when it is not of this family. */
  canonicalCidr(text: string): string | undefined;
  /** The CIDR that means "every address" (no address match is written for it). */
  readonly everyAddress: string;
}

/** An IPv6 address or CIDR as ip6tables-save prints it (always with the length); undefined for anything else. */
function canonicalCidr6(text: string): string | undefined {
  const ip = parseIpv6(text);
  if (ip !== undefined) return `${formatIpv6(ip)}/128`;
  const c = parseCidr6(text);
  return c === undefined ? undefined : formatCidr6(c);
}

const v4Rules = (g: GniSecurityGroup | undefined): LabelledRule[] =>
  rulesForFamily('ipv4', g?.ingressRules ?? [], []).map((rule) => ({ rule, label: `rule ${(g?.ingressRules ?? []).indexOf(rule)}` }));

/** IPv6: the extension's rules (`ipv6 rule i`), then the source-group rules of ingressRules (`rule i`). */
function v6Rules(g: GniSecurityGroup | undefined): LabelledRule[] {
  if (g === undefined) return [];
  const ext = groupIpv6Rules(g).rules;
  return rulesForFamily('ipv6', g.ingressRules, ext).map((rule) => {
    const e = ext.indexOf(rule);
    return { rule, label: e >= 0 ? `ipv6 rule ${e}` : `rule ${g.ingressRules.indexOf(rule)}` };
  });
}

export function familyView(ctx: RenderContext, family: IpFamily): FamilyView {
  const { names } = ctx;
  if (family === 'ipv4') {
    return {
      family, localSet: names.localSet, hostsSet: names.hostsSet, metadataAddress: METADATA_ADDRESS,
      groupSet: names.groupSet, rules: v4Rules,
      canonicalCidr: (t) => (t.includes(':') ? undefined : canonicalCidr(t)), everyAddress: '0.0.0.0/0',
    };
  }
  return {
    family, localSet: names.localSet6, hostsSet: names.hostsSet6, metadataAddress: IPV6_METADATA_ADDRESS,
    groupSet: names.groupSet6, rules: v6Rules, canonicalCidr: canonicalCidr6, everyAddress: '::/0',
  };
}
