/**
 * The filter table: security groups for the instances on this node
 * (eucalyptus-edge.md §1.4 d, in the 4.4 shape).
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
 * Egress is not filtered (EDGE never did). Invariant: every group chain is
 * jumped from <P>-FWD; every set a rule names is in the rendered ipsets.
 */
import type { GniRule } from '../../shared/gni/model.ts';
import { protocolName } from '../../shared/gni/model.ts';
import { checkRule } from '../../shared/gni/rule-check.ts';
import { cidrContains, parseCidr, parseIp } from '../../shared/ip.ts';
import { INSTANCE_INTERFACE_WILDCARD, NO_SNAT_MARK } from '../names.ts';
import type { RenderContext } from './context.ts';
import { canonicalCidr } from './context.ts';
import { guardForwardRules, guardInputChain } from './instance-guard.ts';
import type { Chain, IpMatch, IpRule, NetfilterTable } from '../netfilter/rule.ts';
import { ACCEPT, DROP, ipRule, jump } from '../netfilter/rule.ts';

/** Groups used by local instances, sorted. */
export function localGroups(ctx: RenderContext): string[] {
  return [...new Set(ctx.locals.flatMap((i) => i.securityGroups))].sort();
}

/** Groups whose rules name them as a source, for the given groups, sorted. */
export function referencedGroups(ctx: RenderContext, groups: readonly string[]): string[] {
  const out = new Set<string>();
  for (const g of groups) {
    for (const r of ctx.groupsById.get(g)?.ingressRules ?? []) if (r.groupId !== undefined && r.groupId !== '' && checkRule(r) === undefined) out.add(r.groupId);
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
function protocolPart(rule: GniRule): ProtoPart | 'invalid' {
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
  if (p === 1) {
    const type = rule.icmpType ?? -1;
    const code = rule.icmpCode ?? -1;
    const proto: IpMatch = { kind: 'proto', proto: 'icmp' };
    if (type < 0) return { matches: [proto], text: 'icmp any' };
    const t = code < 0 ? String(type) : `${type}/${code}`;
    return { matches: [proto, code < 0 ? { kind: 'icmp', type } : { kind: 'icmp', type, code }], text: `icmp ${t}` };
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

function groupChain(ctx: RenderContext, groupId: string, publics: readonly PublicLocal[]): Chain<IpRule> {
  const { names } = ctx;
  const set = names.groupSet(groupId);
  const rules: IpRule[] = [
    ipRule('ipv4', { matches: [{ kind: 'set', set, dir: 'src' }], target: ACCEPT, comment: `${groupId}: members of the same group reach each other` }),
  ];
  const group = ctx.groupsById.get(groupId);
  (group?.ingressRules ?? []).forEach((r, index) => {
    const refused = checkRule(r);
    const proto = protocolPart(r);
    if (refused !== undefined || proto === 'invalid') {
      ctx.warnings.push(`${refused?.code ?? 'RULE_INVALID'}: ${groupId} rule ${index}: ${refused?.message ?? 'cannot be rendered exactly'}: skipped`);
      return;
    }
    if (r.groupId !== undefined && r.groupId !== '') {
      rules.push(ipRule('ipv4', {
        matches: [{ kind: 'set', set: names.groupSet(r.groupId), dir: 'src' }, ...proto.matches], target: ACCEPT,
        comment: `${groupId}: ${proto.text} from group ${r.groupId}`,
      }));
      return;
    }
    const cidr = canonicalCidr(r.cidr as string);
    if (cidr === undefined) return; // checkRule admitted only exact CIDRs
    rules.push(ipRule('ipv4', {
      matches: [...(cidr === '0.0.0.0/0' ? [] : [{ kind: 'addr', dir: 'src', cidr } as const]), ...proto.matches], target: ACCEPT,
      comment: `${groupId}: ${proto.text} from ${cidr}`,
    }));
    if (publics.length > 0) rules.push(...publicIpExtras(publics, { groupId, cidr, proto }));
  });
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

export function renderFilter(ctx: RenderContext): NetfilterTable<IpRule> {
  const { names } = ctx;
  const groups = localGroups(ctx);
  const publics = publicLocals(ctx);
  const fwd: IpRule[] = [
    ...guardForwardRules(ctx),
    ipRule('ipv4', { matches: [{ kind: 'ctstate', states: ['RELATED', 'ESTABLISHED'] }], target: ACCEPT, comment: 'replies and related traffic of admitted connections' }),
    ipRule('ipv4', {
      matches: [{ kind: 'physdev', dir: 'in', name: INSTANCE_INTERFACE_WILDCARD }, { kind: 'set', set: names.localSet, dir: 'dst', negate: true }], target: ACCEPT,
      comment: 'from a local instance to a non-local destination: filtered where it arrives (egress is not filtered)',
    }),
    ...groups.map((g) => ipRule('ipv4', {
      matches: [{ kind: 'set', set: names.groupSet(g), dir: 'dst' }], target: jump(names.groupChain(g)), comment: `to a member of ${g}: its ingress rules decide`,
    })),
    ipRule('ipv4', { matches: [{ kind: 'set', set: names.localSet, dir: 'dst' }], target: DROP, comment: 'to a local instance and no security group rule admitted it' }),
  ];
  return {
    chains: [{ name: names.filterForward, rules: fwd }, guardInputChain(ctx), ...groups.map((g) => groupChain(ctx, g, publics))],
    hooks: [
      { family: 'ipv4', builtin: 'FORWARD', matches: [], target: names.filterForward, comment: 'edgenet security groups' },
      { family: 'ipv4', builtin: 'INPUT', matches: [], target: names.filterInput, comment: 'edgenet: instances and this node control plane' },
    ],
  };
}
