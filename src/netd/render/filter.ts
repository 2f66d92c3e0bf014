/**
 * The filter table: security groups for the instances on this node
 * (eucalyptus-edge.md §1.4 d, in the 4.4 shape), once per address family
 * (family.ts: which sets and rules each family uses).
 *
 *   FORWARD ─► <P>-FWD: 0 instance-guard.ts: control-plane drop; broadcast/multicast
 *                         per destination instance port through its groups' chains
 *                       1 established/related → ACCEPT
 *                       2 from a local VM (physdev vn_+) to a non-local destination → ACCEPT
 *                         (it is filtered by the destination node, as in 4.4)
 *                       3 per local group G: dst ∈ set G → jump chain G
 *                       4 dst ∈ <P>-LOCAL → DROP (nothing admitted it)
 *   chain G: same-group source → ACCEPT, then one ACCEPT per ingress rule;
 *            falls through (RETURN) so another group of the destination may admit.
 *
 * IPv6 (ip6tables, a dual-stack cluster only; docs/netd-rules.md "IPv6") is
 * the same structure over the inet6 sets, plus neighbour discovery first in
 * <P>-FWD: a neighbour advertisement from an instance port goes through <P>-ND
 * (only for that instance's own global and link-local addresses, also on the
 * INPUT path), then neighbour solicitations and advertisements are accepted
 * before anything can drop them. The per-port guard covers multicast and
 * link-local destinations (no local address in <P>-LOCAL-6). No NAT, so no
 * EUCA-11083 extras.
 *
 * ROUTED (routed-filter.ts) builds the same chains from these functions, the
 * port matched by `-i`/`-o` instead of physdev (ports.ts), with its
 * anti-spoofing chain jumped first from <P>-FWD and <P>-IN.
 *
 * Egress is not filtered (EDGE never did). Invariant: every group chain is
 * jumped from <P>-FWD; every set a rule names is in the rendered ipsets.
 */
import { ICMPV6_PROTOCOL } from '../../shared/gni/ipv6.ts';
import type { GniRule } from '../../shared/gni/model.ts';
import { protocolName } from '../../shared/gni/model.ts';
import { checkRule } from '../../shared/gni/rule-check.ts';
import { cidrContains, parseCidr, parseIp } from '../../shared/ip.ts';
import { INSTANCE_INTERFACE_WILDCARD, NO_SNAT_MARK } from '../names.ts';
import type { RenderContext } from './context.ts';
import type { FamilyView } from './family.ts';
import { familyView } from './family.ts';
import { portMatch } from './ports.ts';
import { guardForwardRules, guardInputChain, neighbourDiscoveryRules, ndGuardChain } from './instance-guard.ts';
import type { Chain, IpFamily, IpMatch, IpRule, NetfilterTable } from '../netfilter/rule.ts';
import { ACCEPT, DROP, ipRule, jump } from '../netfilter/rule.ts';

/** Groups used by local instances, sorted. */
export function localGroups(ctx: RenderContext): string[] {
  return [...new Set(ctx.locals.flatMap((i) => i.securityGroups))].sort();
}

/** Groups whose rules (of the family: ingressRules for ipv4) name them as a source, for the given groups, sorted. */
export function referencedGroups(ctx: RenderContext, groups: readonly string[], family: IpFamily = 'ipv4'): string[] {
  const view = familyView(ctx, family);
  const out = new Set<string>();
  for (const g of groups) {
    for (const { rule: r } of view.rules(ctx.groupsById.get(g))) if (r.groupId !== undefined && r.groupId !== '' && checkRule(r) === undefined) out.add(r.groupId);
  }
  return [...out].sort();
}

interface ProtoPart {
  /** The protocol match and its port or ICMP type match, if any. */
  readonly matches: readonly IpMatch[];
  readonly text: string;
}

/**
 * Protocol and port/type matches of an ingress rule, or 'invalid' when no
 * iptables rule admits exactly what it says (shared/gni/rule-check.ts names
 * why; sanitize reports it, this is the renderer's own guard). Ports 0-65535
 * are every port, so they need no port match; everything else is matched as
 * written.
 */
function protocolPart(rule: GniRule, family: IpFamily): ProtoPart | 'invalid' {
  if (checkRule(rule) !== undefined) return 'invalid';
  const p = rule.protocol;
  if (p === 6 || p === 17) {
    const name = p === 6 ? 'tcp' : 'udp';
    const lo = rule.fromPort as number;
    const hi = rule.toPort as number;
    const proto: IpMatch = { kind: 'proto', proto: name };
    if (lo === 0 && hi === 65535) return { matches: [proto], text: `${name} all ports` };
    const ports = lo === hi ? String(lo) : `${lo}:${hi}`;
    return { matches: [proto, { kind: 'dport', proto: name, ports: { lo, hi } }], text: `${name} ${ports}` };
  }
  // The family's ICMP (`proto: 'icmp'` is icmpv6 in an ipv6 rule); the other family's is never rendered there.
  const icmp = family === 'ipv4' ? 1 : ICMPV6_PROTOCOL;
  if (family === 'ipv6' && p === 1) return 'invalid';
  if (p === icmp) {
    const name = family === 'ipv4' ? 'icmp' : 'icmpv6';
    const type = rule.icmpType ?? -1;
    const code = rule.icmpCode ?? -1;
    const proto: IpMatch = { kind: 'proto', proto: 'icmp' };
    if (type < 0) return { matches: [proto], text: `${name} any` };
    const t = code < 0 ? String(type) : `${type}/${code}`;
    return { matches: [proto, code < 0 ? { kind: 'icmp', type } : { kind: 'icmp', type, code }], text: `${name} ${t}` };
  }
  return { matches: [{ kind: 'proto', proto: p }], text: `protocol ${protocolName(p)}` };
}

/** Local instances with a public IP, addresses parsed once (EUCA-11083 checks run per CIDR rule). */
interface PublicLocal { readonly id: string; readonly privateIp: string; readonly publicIp: string; readonly pub: number; readonly priv: number }

function publicLocals(ctx: RenderContext): PublicLocal[] {
  const out: PublicLocal[] = [];
  for (const i of ctx.locals) {
    if (i.publicIp === undefined) continue;
    const pub = parseIp(i.publicIp);
    const priv = parseIp(i.privateIp);
    if (pub !== undefined && priv !== undefined) out.push({ id: i.id, privateIp: i.privateIp, publicIp: i.publicIp, pub, priv });
  }
  return out;
}

/** A group's chain in one family: same-group members, then one ACCEPT per rule of the family (`publics`: IPv4's EUCA-11083 extras; none in ROUTED, which has no SNAT). */
export function groupChain(ctx: RenderContext, view: FamilyView, groupId: string, publics: readonly PublicLocal[]): Chain<IpRule> {
  const { names } = ctx;
  const { family } = view;
  const rules: IpRule[] = [
    ipRule(family, { matches: [{ kind: 'set', set: view.groupSet(groupId), dir: 'src' }], target: ACCEPT, comment: `${groupId}: members of the same group reach each other` }),
  ];
  for (const { rule: r, label } of view.rules(ctx.groupsById.get(groupId))) {
    const refused = checkRule(r);
    const proto = protocolPart(r, family);
    if (refused !== undefined || proto === 'invalid') {
      ctx.warnings.push(`${refused?.code ?? 'RULE_INVALID'}: ${groupId} ${label}: ${refused?.message ?? 'cannot be rendered exactly'}: skipped`);
      continue;
    }
    if (r.groupId !== undefined && r.groupId !== '') {
      rules.push(ipRule(family, {
        matches: [{ kind: 'set', set: view.groupSet(r.groupId), dir: 'src' }, ...proto.matches], target: ACCEPT,
        comment: `${groupId}: ${proto.text} from group ${r.groupId}`,
      }));
      continue;
    }
    const cidr = view.canonicalCidr(r.cidr as string);
    if (cidr === undefined) {
      // checkRule admitted only exact CIDRs: this one is of the other family (sanitize reports RULE_MISPLACED).
      ctx.warnings.push(`RULE_MISPLACED: ${groupId} ${label}: cidr ${r.cidr as string} is not ${family}: skipped`);
      continue;
    }
    rules.push(ipRule(family, {
      matches: [...(cidr === view.everyAddress ? [] : [{ kind: 'addr', dir: 'src', cidr } as const]), ...proto.matches], target: ACCEPT,
      comment: `${groupId}: ${proto.text} from ${cidr}`,
    }));
    if (publics.length > 0) rules.push(...publicIpExtras(publics, { groupId, cidr, proto }));
  }
  return { name: names.groupChain(groupId), rules };
}

/**
 * EUCA-11083: a local instance reaching a local instance through its public IP
 * is seen by the filter with its private source (SNAT happens after FORWARD).
 * If a CIDR rule covers the sender's public IP but not its private one, admit
 * the private source too, for traffic that will be SNATed (not marked).
 */
function publicIpExtras(publics: readonly PublicLocal[], args: { groupId: string; cidr: string; proto: ProtoPart }): IpRule[] {
  const c = parseCidr(args.cidr);
  if (c === undefined || c.prefix === 0) return [];
  const out: IpRule[] = [];
  for (const inst of publics) {
    if (!cidrContains(c, inst.pub) || cidrContains(c, inst.priv)) continue;
    out.push(ipRule('ipv4', {
      matches: [{ kind: 'addr', dir: 'src', cidr: `${inst.privateIp}/32` }, { kind: 'mark', mark: NO_SNAT_MARK, negate: true }, ...args.proto.matches],
      target: ACCEPT,
      comment: `${args.groupId}: ${args.proto.text} from ${args.cidr} covers public IP ${inst.publicIp} of local ${inst.id} (EUCA-11083)`,
    }));
  }
  return out;
}

/** <P>-FWD after the guards: established, egress, per group dispatch, the local drop (ROUTED's too: render/routed-filter.ts). */
export function dispatchRules(ctx: RenderContext, view: FamilyView, groups: readonly string[]): IpRule[] {
  const { names } = ctx;
  const { family } = view;
  return [
    ipRule(family, { matches: [{ kind: 'ctstate', states: ['RELATED', 'ESTABLISHED'] }], target: ACCEPT, comment: 'replies and related traffic of admitted connections' }),
    ipRule(family, {
      matches: [portMatch(ctx.ports, 'in', INSTANCE_INTERFACE_WILDCARD), { kind: 'set', set: view.localSet, dir: 'dst', negate: true }], target: ACCEPT,
      comment: 'from a local instance to a non-local destination: filtered where it arrives (egress is not filtered)',
    }),
    ...groups.map((g) => ipRule(family, {
      matches: [{ kind: 'set', set: view.groupSet(g), dir: 'dst' }], target: jump(names.groupChain(g)), comment: `to a member of ${g}: its ingress rules decide`,
    })),
    ipRule(family, { matches: [{ kind: 'set', set: view.localSet, dir: 'dst' }], target: DROP, comment: 'to a local instance and no security group rule admitted it' }),
  ];
}

export function renderFilter(ctx: RenderContext): NetfilterTable<IpRule> {
  const { names } = ctx;
  const view = familyView(ctx, 'ipv4');
  const groups = localGroups(ctx);
  const publics = publicLocals(ctx);
  const fwd: IpRule[] = [...guardForwardRules(ctx, view), ...dispatchRules(ctx, view, groups)];
  return {
    chains: [{ name: names.filterForward, rules: fwd }, guardInputChain(ctx, view), ...groups.map((g) => groupChain(ctx, view, g, publics))],
    hooks: [
      { family: 'ipv4', builtin: 'FORWARD', matches: [], target: names.filterForward, comment: 'edgenet security groups' },
      { family: 'ipv4', builtin: 'INPUT', matches: [], target: names.filterInput, comment: 'edgenet: instances and this node control plane' },
    ],
  };
}

/** The ip6tables filter table: empty (no chains, no hooks) unless the cluster is dual-stack. */
export function renderFilter6(ctx: RenderContext): NetfilterTable<IpRule> {
  if (ctx.ipv6 === undefined) return { chains: [], hooks: [] };
  const { names } = ctx;
  const view = familyView(ctx, 'ipv6');
  const groups = localGroups(ctx);
  const fwd: IpRule[] = [...neighbourDiscoveryRules(ctx), ...guardForwardRules(ctx, view), ...dispatchRules(ctx, view, groups)];
  return {
    chains: [
      { name: names.filterForward, rules: fwd }, guardInputChain(ctx, view), ndGuardChain(ctx),
      ...groups.map((g) => groupChain(ctx, view, g, [])),
    ],
    hooks: [
      { family: 'ipv6', builtin: 'FORWARD', matches: [], target: names.filterForward, comment: 'edgenet security groups (IPv6)' },
      { family: 'ipv6', builtin: 'INPUT', matches: [], target: names.filterInput, comment: 'edgenet: instances and this node control plane (IPv6)' },
    ],
  };
}
