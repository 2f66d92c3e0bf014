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
 */
import { parseIp } from '../../shared/ip.ts';
import { sortMembers } from '../netfilter/model.ts';
import { INSTANCE_INTERFACE_WILDCARD } from '../names.ts';
import type { Chain, IpMatch, IpRule, PortRange } from '../netfilter/rule.ts';
import { DROP, ipRule, jump } from '../netfilter/rule.ts';
import type { IpSet } from '../netfilter/ipset.ts';
import type { RenderContext } from './context.ts';
import { METADATA_ADDRESS } from './nat.ts';

/** Not DNATed from the metadata address (iptables-save prints a /32 bare here). */
const NOT_METADATA: IpMatch = { kind: 'ctorigdst', address: METADATA_ADDRESS, negate: true };

/** EDGENET_CONTROL_PLANE_PORTS (`p` or `lo:hi`, comma-separated; checked by config.ts). */
function portList(text: string): PortRange[] {
  return text.split(',').map((item) => {
    const [lo = '', hi] = item.split(':');
    return { lo: Number(lo), hi: Number(hi ?? lo) };
  });
}

function controlPlaneDrop(ctx: RenderContext, toHosts: boolean): IpRule | undefined {
  const ports = ctx.config.controlPlanePorts;
  if (ports === '') return undefined;
  return ipRule('ipv4', {
    matches: [
      { kind: 'proto', proto: 'tcp' },
      { kind: 'physdev', dir: 'in', name: INSTANCE_INTERFACE_WILDCARD },
      ...(toHosts ? [{ kind: 'set', set: ctx.names.hostsSet, dir: 'dst' } as const] : []),
      { kind: 'multiport', ports: portList(ports) },
      NOT_METADATA,
    ],
    target: DROP,
    comment: toHosts
      ? 'an instance reaches no control-plane port of a cloud host (metadata only through 169.254.169.254)'
      : 'an instance reaches no control-plane port of this node (metadata only through 169.254.169.254)',
  });
}

/** First rules of <P>-FWD: the control-plane drop, then broadcast/multicast per destination instance port. */
export function guardForwardRules(ctx: RenderContext): IpRule[] {
  const { names } = ctx;
  const out: IpRule[] = [];
  const cp = controlPlaneDrop(ctx, true);
  if (cp !== undefined) out.push(cp);
  const notLocal: IpMatch = { kind: 'set', set: names.localSet, dir: 'dst', negate: true };
  for (const i of ctx.locals) {
    for (const g of [...i.securityGroups].sort()) {
      out.push(ipRule('ipv4', {
        matches: [{ kind: 'physdev', dir: 'out', name: i.interface }, notLocal], target: jump(names.groupChain(g)),
        comment: `broadcast or multicast to ${i.id}: the ingress rules of ${g} decide, as for unicast`,
      }));
    }
  }
  out.push(ipRule('ipv4', {
    matches: [{ kind: 'physdev', dir: 'out', name: INSTANCE_INTERFACE_WILDCARD }, notLocal], target: DROP,
    comment: 'broadcast or multicast to an instance that none of its groups admitted',
  }));
  return out;
}

/** <P>-IN, jumped from INPUT: instances and this node's own control-plane ports. */
export function guardInputChain(ctx: RenderContext): Chain<IpRule> {
  const cp = controlPlaneDrop(ctx, false);
  return { name: ctx.names.filterInput, rules: cp === undefined ? [] : [cp] };
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
