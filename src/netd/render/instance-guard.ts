/**
 * What instances may not do whatever their security groups say (issue 11,
 * classes 3 and 5). Both are iptables filter rules, because bridged instance
 * traffic passes iptables (br_netfilter) and the physdev match tells which
 * instance port a packet came from or is going to.
 *
 * Broadcast and multicast (class 3). Unicast isolation dispatches on the
 * destination address: `dst ∈ <P>-<g>` jumps into g's chain, `dst ∈ <P>-LOCAL`
 * drops. A packet to 255.255.255.255, to the subnet broadcast or to 224/4 is in
 * none of those sets, so it fell through to the host's FORWARD policy, and
 * rule 2 (from a local instance to a non-local destination) accepted it from a
 * local sender. The bridge floods such a frame to every port, and every copy
 * passes FORWARD once with its own output port, so the isolation is per
 * destination PORT: a packet bridged to `vn_<id>` whose destination is not a
 * local instance address (broadcast, multicast, or a unicast frame carrying a
 * broadcast IP) runs through the ingress rules of that instance's groups, like
 * unicast to it would, and is dropped when none admits it. DHCP is not
 * affected: requests reach dhcpd through INPUT (local delivery), replies come
 * from this host (OUTPUT), and ARP is not IPv4.
 *
 * Control plane (class 5). A packet from an instance port (`--physdev-in vn_+`,
 * bridged or routed by this node) to a TCP port of EDGENET_CONTROL_PLANE_PORTS
 * is dropped when it goes to a cloud host (<P>-HOSTS: every node, CC and the
 * CLC of the document, and METADATA_IP) through FORWARD, or to this node
 * itself through INPUT (any of its addresses). The one exception is the
 * metadata service, reached through the 169.254.169.254 DNAT: conntrack
 * remembers the original destination (`! --ctorigdst`).
 *
 * ROUTED (ports.ts): the same guards name the routed port by `-i`/`-o`
 * instead of physdev; a multicast or broadcast packet is not forwarded by
 * the routing code, so the per-port guard is only a second line there.
 *
 * Both families (family.ts): on a dual-stack cluster the same guards are
 * ip6tables rules over the inet6 sets — the per-port guard catches multicast
 * and link-local destinations (nothing in <P>-LOCAL-6), the control-plane
 * guard the CLC's IPv6 address and METADATA_IPV6 (<P>-HOSTS-6; the nodes are
 * named by IPv4 addresses in the document), with the metadata exception for
 * the fd00:ec2::254 DNAT. IPv6 adds neighbour discovery (class 4, forged
 * neighbour advertisements): the ebtables anti-spoofing checks an instance's
 * source address, but a neighbour advertisement carries the address it
 * claims in its target field, which no ebtables match reads. So every
 * neighbour advertisement from an instance port (FORWARD and INPUT) runs
 * through <P>-ND, which returns only for a target that is the sending
 * instance's own global or link-local address (u32 at a fixed offset: an
 * advertisement with an extension header never matches, and is dropped) and
 * drops every other one. Solicitations and advertisements are then accepted
 * before any drop: the per-port guard would otherwise drop the multicast ones.
 */
import { formatIpv6, linkLocalAddress, parseIp } from '../../shared/ip.ts';
import { sortMembers } from '../netfilter/model.ts';
import { INSTANCE_INTERFACE_WILDCARD } from '../names.ts';
import type { Chain, IpMatch, IpRule, PortRange } from '../netfilter/rule.ts';
import { ACCEPT, DROP, ipRule, jump } from '../netfilter/rule.ts';
import type { IpSet } from '../netfilter/ipset.ts';
import type { RenderContext } from './context.ts';
import type { FamilyView } from './family.ts';
import { portMatch } from './ports.ts';

/** ICMPv6 neighbour solicitation and advertisement (RFC 4861 §4.3, §4.4). */
const NEIGHBOUR_SOLICITATION = 135;
const NEIGHBOUR_ADVERTISEMENT = 136;
const ICMP: IpMatch = { kind: 'proto', proto: 'icmp' };

/** EDGENET_CONTROL_PLANE_PORTS (`p` or `lo:hi`, comma-separated; checked by config.ts). */
function portList(text: string): PortRange[] {
  return text.split(',').map((item) => {
    const [lo = '', hi] = item.split(':');
    return { lo: Number(lo), hi: Number(hi ?? lo) };
  });
}

function controlPlaneDrop(ctx: RenderContext, view: FamilyView, toHosts: boolean): IpRule | undefined {
  const ports = ctx.config.controlPlanePorts;
  if (ports === '') return undefined;
  const meta = view.metadataAddress;
  return ipRule(view.family, {
    matches: [
      { kind: 'proto', proto: 'tcp' },
      portMatch(ctx.ports, 'in', INSTANCE_INTERFACE_WILDCARD),
      ...(toHosts ? [{ kind: 'set', set: view.hostsSet, dir: 'dst' } as const] : []),
      { kind: 'multiport', ports: portList(ports) },
      // Not DNATed from the metadata address (the save tools print the address bare here).
      { kind: 'ctorigdst', address: meta, negate: true },
    ],
    target: DROP,
    comment: toHosts
      ? `an instance reaches no control-plane port of a cloud host (metadata only through ${meta})`
      : `an instance reaches no control-plane port of this node (metadata only through ${meta})`,
  });
}

/**
 * First rules of <P>-FWD: the control-plane drop, then broadcast/multicast
 * (IPv6: multicast and link-local) per destination instance port.
 */
export function guardForwardRules(ctx: RenderContext, view: FamilyView): IpRule[] {
  const { names } = ctx;
  const { family } = view;
  const what = family === 'ipv4' ? 'broadcast or multicast' : 'multicast or link-local';
  const out: IpRule[] = [];
  const cp = controlPlaneDrop(ctx, view, true);
  if (cp !== undefined) out.push(cp);
  const notLocal: IpMatch = { kind: 'set', set: view.localSet, dir: 'dst', negate: true };
  for (const i of ctx.locals) {
    for (const g of [...i.securityGroups].sort()) {
      out.push(ipRule(family, {
        matches: [portMatch(ctx.ports, 'out', i.interface), notLocal], target: jump(names.groupChain(g)),
        comment: `${what} to ${i.id}: the ingress rules of ${g} decide, as for unicast`,
      }));
    }
  }
  out.push(ipRule(family, {
    matches: [portMatch(ctx.ports, 'out', INSTANCE_INTERFACE_WILDCARD), notLocal], target: DROP,
    comment: `${what} to an instance that none of its groups admitted`,
  }));
  return out;
}

/** IPv6: a neighbour advertisement from an instance port goes through <P>-ND (FORWARD and INPUT). */
function ndGuardJump(ctx: RenderContext): IpRule {
  return ipRule('ipv6', {
    matches: [ICMP, { kind: 'icmp', type: NEIGHBOUR_ADVERTISEMENT }, portMatch(ctx.ports, 'in', INSTANCE_INTERFACE_WILDCARD)],
    target: jump(ctx.names.ndGuard),
    comment: 'a neighbour advertisement from an instance: only for its own addresses',
  });
}

/** IPv6, first in <P>-FWD: the advertisement check, then neighbour discovery accepted before any drop. */
export function neighbourDiscoveryRules(ctx: RenderContext): IpRule[] {
  return [
    ndGuardJump(ctx),
    ipRule('ipv6', {
      matches: [ICMP, { kind: 'icmp', type: NEIGHBOUR_SOLICITATION }], target: ACCEPT,
      comment: 'neighbour solicitation (address resolution, duplicate address detection): before any drop',
    }),
    ipRule('ipv6', {
      matches: [ICMP, { kind: 'icmp', type: NEIGHBOUR_ADVERTISEMENT }], target: ACCEPT,
      comment: 'neighbour advertisement (those from instances were checked in the ND chain): before any drop',
    }),
  ];
}

/** <P>-ND: per local instance with IPv6, its own global and link-local targets return; every other advertisement from an instance port is dropped. */
export function ndGuardChain(ctx: RenderContext): Chain<IpRule> {
  const rules: IpRule[] = [];
  for (const i of ctx.locals) {
    if (i.ipv6 === undefined) continue;
    const ll = linkLocalAddress(i.mac);
    const own = ll === undefined ? [i.ipv6] : [i.ipv6, formatIpv6(ll)];
    for (const address of own) {
      rules.push(ipRule('ipv6', {
        matches: [ICMP, { kind: 'icmp', type: NEIGHBOUR_ADVERTISEMENT }, portMatch(ctx.ports, 'in', i.interface), { kind: 'nd-target', address }],
        target: { kind: 'return' },
        comment: `${i.id}: advertises its own address ${address}`,
      }));
    }
  }
  rules.push(ipRule('ipv6', { matches: [], target: DROP, comment: 'a neighbour advertisement from an instance for an address that is not its own (forged)' }));
  return { name: ctx.names.ndGuard, rules };
}

/** <P>-IN, jumped from INPUT: instances and this node's own control-plane ports (IPv6: and the advertisement check). */
export function guardInputChain(ctx: RenderContext, view: FamilyView): Chain<IpRule> {
  const cp = controlPlaneDrop(ctx, view, false);
  const rules = [...(view.family === 'ipv6' ? [ndGuardJump(ctx)] : []), ...(cp === undefined ? [] : [cp])];
  return { name: ctx.names.filterInput, rules };
}

/** <P>-HOSTS: the cloud's hosts as the document names them (nodes, CCs, CLC) and METADATA_IP. */
export function hostsSet(ctx: RenderContext): IpSet {
  const c = ctx.doc.configuration;
  const candidates = [
    c.enabledClcIp ?? '',
    ctx.config.metadataIp,
    ...c.clusters.flatMap((cl) => [cl.enabledCcIp ?? '', ...cl.nodes.map((n) => n.name)]),
  ];
  const members = sortMembers(candidates.filter((a) => a !== '0.0.0.0' && parseIp(a) !== undefined));
  return { name: ctx.names.hostsSet, type: 'hash:ip', members, comment: 'cloud hosts (nodes, CCs, CLC): no control-plane port for instances' };
}

/** <P>-HOSTS-6: the CLC's IPv6 address (the document's clc-address) and METADATA_IPV6. */
export function hostsSet6(ctx: RenderContext): IpSet {
  const members = sortMembers([ctx.clcIpv6 ?? '', ctx.config.metadataIpv6].filter((a) => a !== ''));
  return { name: ctx.names.hostsSet6, type: 'hash:ip', family: 'inet6', members, comment: 'cloud hosts by IPv6 (the CLC, METADATA_IPV6): no control-plane port for instances' };
}
