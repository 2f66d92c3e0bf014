/**
 * ROUTED's netfilter (issue 17): EDGE's security groups on routed ports, an
 * anti-spoofing chain, the metadata DNAT; nothing bridged, no NAT of instance
 * addresses.
 *
 *   filter FORWARD ─► <P>-FWD: 0 ! -i vn_+ with a source in <P>-LOCAL[-6] is DROPped (forged from outside)
 *                                -i vn_+ → <P>-SPOOF (a source the port may not send from is dropped)
 *                              [IPv6: neighbour discovery, instance-guard.ts]
 *                              1 instance-guard.ts: control-plane drop; multicast per destination port
 *                              2 EDGE's dispatch (filter.ts): established, from a local instance to a
 *                                non-local destination, per local group, the local drop
 *   filter INPUT   ─► <P>-IN:  -i vn_+ → <P>-SPOOF, the BGP port (tcp/179) dropped from -i vn_+,
 *                              then EDGE's (control plane, IPv6 ND check)
 *   <P>-SPOOF: per port, its routed addresses (IPv6: and its own link-local address, the EUI-64
 *              of its MAC, and :: for duplicate address detection) RETURN; everything else from
 *              an instance port is DROPped — all IPv6 from a port whose instance has no IPv6.
 *   nat PREROUTING ─► <P>-PRE: 169.254.169.254:80 → the CLC (nat.ts metadataDnat);
 *                              ip6tables: [fd00:ec2::254]:80 → the CLC's IPv6 (nat.ts renderNat6, as EDGE).
 *
 * Why the anti-spoofing is in filter (FORWARD and INPUT) and not raw
 * PREROUTING: the DesiredState (and the planner's tables) hold filter and nat
 * only, and every packet from an instance port is either forwarded or
 * delivered locally, so the two hooks see all of them; it runs before any
 * ACCEPT of <P>-FWD, so conntrack's ESTABLISHED shortcut never lets a forged
 * source through. rp_filter would cover IPv4 only (IPv6 has none), and not
 * an instance sending another local instance's address on its own port when
 * both routes exist.
 *
 * Why the port, not the address: a packet to a local instance is dispatched
 * on its destination, as EDGE does (an instance's elastic address is routed,
 * so <P>-LOCAL holds it too: ipsets below); traffic between two local
 * instances leaves one port and enters the other through FORWARD, and the
 * destination's groups decide, like any other ingress.
 */
import { formatIpv6, linkLocalAddress } from '../../shared/ip.ts';
import { INSTANCE_INTERFACE_WILDCARD } from '../names.ts';
import type { Chain, IpFamily, IpRule, NetfilterTable } from '../netfilter/rule.ts';
import { DROP, ipRule, jump } from '../netfilter/rule.ts';
import { sortMembers } from '../netfilter/model.ts';
import { familyView } from './family.ts';
import { dispatchRules, groupChain, localGroups } from './filter.ts';
import { guardForwardRules, guardInputChain, ndGuardChain, neighbourDiscoveryRules } from './instance-guard.ts';
import { renderIpsets } from './ipsets.ts';
import { metadataDnat } from './nat.ts';
import { portMatch } from './ports.ts';
import type { RoutedContext } from './routed-context.ts';
import type { IpSet } from './types.ts';

const NEIGHBOUR_SOLICITATION = 135;
/** BGP (RFC 4271): the node's BIRD listens on it for its peers. */
const BGP_PORT = 179;

function spoofJump(ctx: RoutedContext, family: IpFamily): IpRule {
  return ipRule(family, {
    matches: [portMatch(ctx.ports, 'in', INSTANCE_INTERFACE_WILDCARD)], target: jump(ctx.names.antiSpoof),
    comment: 'from an instance port: only its own routed addresses as source',
  });
}

/**
 * <P>-SPOOF of one family: per local port its routed addresses return; the
 * rest is dropped. IPv6, per port whose instance has an IPv6 address: also its
 * own link-local address (the EUI-64 of its MAC, what a guest forms with
 * addr_gen_mode 0 and what <P>-ND admits as its advertised target: neighbour
 * discovery and reaching the gateway fe80::1 use it) and the unspecified
 * address for duplicate address detection's solicitations. Any other
 * link-local source is dropped: an instance claiming fe80::1 (the gateway) or
 * another port's link-local address would poison the node's neighbour cache
 * or speak as someone else on the link. A port whose instance has no IPv6
 * gets no IPv6 return at all (plan/routed.ts also disables IPv6 on it).
 */
function antiSpoofChain(ctx: RoutedContext, family: IpFamily): Chain<IpRule> {
  const rules: IpRule[] = [];
  for (const l of ctx.routedLocals) {
    const port = portMatch(ctx.ports, 'in', l.instance.interface);
    for (const prefix of l.prefixes) {
      if (prefix.includes(':') !== (family === 'ipv6')) continue;
      rules.push(ipRule(family, {
        matches: [port, { kind: 'addr', dir: 'src', cidr: prefix }], target: { kind: 'return' },
        comment: `${l.instance.id} sends from its routed address ${prefix}`,
      }));
    }
    const ll = linkLocalAddress(l.instance.mac);
    if (family === 'ipv6' && l.instance.ipv6 !== undefined && ll !== undefined) {
      const own = `${formatIpv6(ll)}/128`;
      rules.push(
        ipRule('ipv6', {
          matches: [port, { kind: 'addr', dir: 'src', cidr: own }], target: { kind: 'return' },
          comment: `${l.instance.id} sends from its link-local address ${own} (neighbour discovery, reaching the gateway: never forwarded)`,
        }),
        ipRule('ipv6', {
          matches: [port, { kind: 'addr', dir: 'src', cidr: '::/128' }, { kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: NEIGHBOUR_SOLICITATION }], target: { kind: 'return' },
          comment: `${l.instance.id}: duplicate address detection, a neighbour solicitation from the unspecified address`,
        }),
      );
    }
  }
  rules.push(ipRule(family, { matches: [], target: DROP, comment: 'from an instance port with a source address that is not its own (spoofed)' }));
  return { name: ctx.names.antiSpoof, rules };
}

/**
 * A packet that does not come from an instance port but carries a local
 * instance's address as its source is forged: a local instance's packets only
 * ever enter by its own port. Without this, one from the uplink claiming a
 * member's address would pass the group chains' "members of the same group
 * reach each other" ACCEPT. Remote members' addresses cannot be checked
 * here: their packets do arrive from the uplink (their node checks their
 * port; the network between nodes must not let others forge them).
 */
function localFromOutside(ctx: RoutedContext, family: IpFamily): IpRule {
  return ipRule(family, {
    // ROUTED ports are always routed interfaces (`ctx.ports` is 'routed'): `! -i vn_+`.
    matches: [{ kind: 'iface', dir: 'in', name: INSTANCE_INTERFACE_WILDCARD, negate: true }, { kind: 'set', set: familyView(ctx, family).localSet, dir: 'src' }],
    target: DROP,
    comment: 'a local instance address as source, not from an instance port (forged)',
  });
}

/**
 * An instance never talks BGP to its node: BIRD listens on tcp/179 on every
 * address (its peers reach the node by its uplink address), so an instance
 * could otherwise open a session attempt to the node's speaker, probe it or
 * load it. Not part of EDGENET_CONTROL_PLANE_PORTS: those are the cloud's
 * services on every host (EDGE has no BGP), and the guard here has no
 * metadata exception to carry.
 */
function bgpGuard(ctx: RoutedContext, family: IpFamily): IpRule {
  return ipRule(family, {
    matches: [portMatch(ctx.ports, 'in', INSTANCE_INTERFACE_WILDCARD), { kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: BGP_PORT, hi: BGP_PORT } }],
    target: DROP,
    comment: 'an instance reaches no BGP speaker of this node',
  });
}

/** <P>-IN: the anti-spoofing jump, the BGP guard, then EDGE's input guards. */
function inputChain(ctx: RoutedContext, family: IpFamily, chain: Chain<IpRule>): Chain<IpRule> {
  return { name: chain.name, rules: [spoofJump(ctx, family), bgpGuard(ctx, family), ...chain.rules] };
}

export function renderRoutedFilter(ctx: RoutedContext): NetfilterTable<IpRule> {
  const { names } = ctx;
  const view = familyView(ctx, 'ipv4');
  const groups = localGroups(ctx);
  const fwd: IpRule[] = [localFromOutside(ctx, 'ipv4'), spoofJump(ctx, 'ipv4'), ...guardForwardRules(ctx, view), ...dispatchRules(ctx, view, groups)];
  return {
    chains: [
      { name: names.filterForward, rules: fwd }, inputChain(ctx, 'ipv4', guardInputChain(ctx, view)), antiSpoofChain(ctx, 'ipv4'),
      // No EUCA-11083 extras: nothing is SNATed, a local instance's source is the address it sent from.
      ...groups.map((g) => groupChain(ctx, view, g, [])),
    ],
    hooks: [
      { family: 'ipv4', builtin: 'FORWARD', matches: [], target: names.filterForward, comment: 'edgenet security groups (routed)' },
      { family: 'ipv4', builtin: 'INPUT', matches: [], target: names.filterInput, comment: 'edgenet: instances and this node control plane (routed)' },
    ],
  };
}

/** The ip6tables filter table: empty unless the cluster has IPv6 (an IPv4-only cluster's node forwards no IPv6 for it: no forwarding sysctl). */
export function renderRoutedFilter6(ctx: RoutedContext): NetfilterTable<IpRule> {
  if (ctx.ipv6 === undefined) return { chains: [], hooks: [] };
  const { names } = ctx;
  const view = familyView(ctx, 'ipv6');
  const groups = localGroups(ctx);
  const fwd: IpRule[] = [localFromOutside(ctx, 'ipv6'), spoofJump(ctx, 'ipv6'), ...neighbourDiscoveryRules(ctx), ...guardForwardRules(ctx, view), ...dispatchRules(ctx, view, groups)];
  return {
    chains: [
      { name: names.filterForward, rules: fwd }, inputChain(ctx, 'ipv6', guardInputChain(ctx, view)), ndGuardChain(ctx), antiSpoofChain(ctx, 'ipv6'),
      ...groups.map((g) => groupChain(ctx, view, g, [])),
    ],
    hooks: [
      { family: 'ipv6', builtin: 'FORWARD', matches: [], target: names.filterForward, comment: 'edgenet security groups (routed, IPv6)' },
      { family: 'ipv6', builtin: 'INPUT', matches: [], target: names.filterInput, comment: 'edgenet: instances and this node control plane (routed, IPv6)' },
    ],
  };
}

/** nat: only the metadata DNAT (elastic addresses are routed, never translated). */
export function renderRoutedNat(ctx: RoutedContext): NetfilterTable<IpRule> {
  const rule = metadataDnat(ctx);
  if (rule === undefined) return { chains: [], hooks: [] };
  return {
    chains: [{ name: ctx.names.natPre, rules: [rule] }],
    hooks: [{ family: 'ipv4', builtin: 'PREROUTING', matches: [], target: ctx.names.natPre, comment: 'edgenet metadata (routed)' }],
  };
}

/**
 * EDGE's sets (ipsets.ts) with ROUTED's meaning: no <P>-ALLPRIV (no SNAT to
 * exempt anything from), and <P>-LOCAL holds every routed IPv4 address of the
 * local instances, elastic ones included (they arrive untranslated). Group
 * sets already hold members' private (routed) and public (elastic) addresses.
 */
export function renderRoutedIpsets(ctx: RoutedContext): IpSet[] {
  const { names } = ctx;
  const local = sortMembers(ctx.locals.flatMap((i) => [...(i.privateIp === '' ? [] : [i.privateIp]), ...(i.publicIp === undefined ? [] : [i.publicIp])]));
  return renderIpsets(ctx)
    .filter((s) => s.name !== names.allPrivateSet)
    .map((s) => (s.name === names.localSet ? { ...s, members: local, comment: 'routed IPv4 addresses (own and elastic) of the instances on this node' } : s));
}
