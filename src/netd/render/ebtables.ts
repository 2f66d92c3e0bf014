/**
 * ebtables nat: libvirt's `clean-traffic` for every local instance
 * (peers.md §2.2; eucalyptus-edge.md §1.4 h), written against `vn_<id>` whether
 * or not the interface exists yet.
 *
 *   PREROUTING  ─► <P>-EB-PRE:  -i vn_<id> → <P>-I-<id> (frames FROM the VM), …, -i vn_+ DROP
 *   POSTROUTING ─► <P>-EB-POST: -o vn_<id> → <P>-O-<id> (frames TO the VM),   …, -o vn_+ DROP
 *
 * The per-instance chains end in DROP, so a frame leaves them only accepted
 * or dropped; the trailing `vn_+` DROPs catch interfaces that have no chain
 * yet (EUCA-10233: an instance without rules has no network).
 * DISABLE_L2_ISOLATION=Y keeps only the fake-router ARP reply (EUCA-11235).
 * Rules are in ebtables-save order (`-p -s -d -i -o`, then `--ip-*`/`--arp-*`).
 *
 * NC_PROXY=Y (Eucalyptus 4.4 do_edge_update_l2, eucanetd_edge.c): the node is
 * the only ARP peer of its instances. First in <P>-EB-PRE, per instance: its
 * own ARP for its address is dropped (never answered with the node's MAC),
 * and any other ARP request for its address, from any bridge port, is
 * answered with the bridge MAC (proxy ARP), so peers send to this node, which
 * routes to the instance. Every ARP request OF an instance is answered with
 * the bridge MAC too (replacing the fake-router reply): all its traffic is
 * routed by this node. An instance answers ARP only to the bridge MAC, and
 * receives ARP only from it.
 *
 * IPv6 (a dual-stack cluster; only instances with an IPv6 address, so an
 * IPv4-only instance keeps today's chains and drops all IPv6), before each
 * chain's final DROP (docs/netd-rules.md "IPv6"):
 *   from the VM: router advertisements, redirects and DHCPv6 server traffic
 *     (udp sport 547 or dport 546) dropped; the unspecified source `::` only
 *     for ICMPv6 (duplicate address detection, MLD); then exactly its global
 *     and its link-local (EUI-64 of its MAC) source accepted; every other IPv6
 *     source falls to the DROP.
 *   to the VM: router advertisements and redirects only from the bridge MAC
 *     (this node's radvd), DHCPv6 server replies dropped (there is no DHCPv6
 *     server), the rest accepted (ip6tables filters it by security group).
 * ebtables filter OUTPUT ─► <P>-EB-OUT: this node's router advertisements and
 * redirects never leave through a port that is not an instance's (`-o ! vn_+`),
 * so they neither reach the physical LAN nor other nodes' instances.
 * A forged neighbour advertisement (a target that is not the sender's) needs
 * the ICMPv6 body, which no ebtables match reads: ip6tables <P>-ND drops it
 * (instance-guard.ts).
 */
import { formatIpv6, linkLocalAddress } from '../../shared/ip.ts';
import { INSTANCE_INTERFACE_WILDCARD } from '../names.ts';
import type { BridgeMatch, BridgeRule, Chain, NetfilterTable } from '../netfilter/rule.ts';
import { ACCEPT, DROP, bridgeRule, jump } from '../netfilter/rule.ts';
import type { RenderContext } from './context.ts';
import type { LocalInstance } from './types.ts';

/** ebtables-save prints it as `Broadcast`. */
const BROADCAST = 'ff:ff:ff:ff:ff:ff';

const IPV4: BridgeMatch = { kind: 'ethertype', type: 'IPv4' };
const IPV6: BridgeMatch = { kind: 'ethertype', type: 'IPv6' };
const ICMPV6: BridgeMatch = { kind: 'ip6-proto', proto: 'icmp' };
const UDP6: BridgeMatch = { kind: 'ip6-proto', proto: 'udp' };
/** ICMPv6 router advertisement and redirect (RFC 4861 §4.2, §4.5). */
const RA: BridgeMatch = { kind: 'ip6-icmp', type: 134 };
const REDIRECT: BridgeMatch = { kind: 'ip6-icmp', type: 137 };
/** DHCPv6 ports (RFC 8415 §7.2): clients listen on 546, servers and relays on 547. */
const DHCP6_CLIENT_PORT = 546;
const DHCP6_SERVER_PORT = 547;
const ip6 = (dir: 'src' | 'dst', address: string): BridgeMatch => ({ kind: 'ip6-addr', dir, address });
const port6 = (dir: 'src' | 'dst', p: number): BridgeMatch => ({ kind: 'ip6-port', dir, port: p });
const ARP: BridgeMatch = { kind: 'ethertype', type: 'ARP' };
const UDP: BridgeMatch = { kind: 'ip-proto', proto: 'udp' };
const ARP_REQUEST: BridgeMatch = { kind: 'arp-op', op: 'Request' };
const ARP_REPLY: BridgeMatch = { kind: 'arp-op', op: 'Reply' };
const ip = (dir: 'src' | 'dst', address: string, negate?: true): BridgeMatch => ({ kind: 'ip-addr', dir, address, ...(negate ? { negate } : {}) });
const port = (dir: 'src' | 'dst', p: number): BridgeMatch => ({ kind: 'ip-port', dir, port: p });
const mac = (dir: 'src' | 'dst', m: string, negate?: true): BridgeMatch => ({ kind: 'mac', dir, mac: m, ...(negate ? { negate } : {}) });
const arpIp = (dir: 'src' | 'dst', address: string, negate?: true): BridgeMatch => ({ kind: 'arp-ip', dir, address, ...(negate ? { negate } : {}) });
const arpMac = (dir: 'src' | 'dst', m: string, negate?: true): BridgeMatch => ({ kind: 'arp-mac', dir, mac: m, ...(negate ? { negate } : {}) });

function fakeRouterRule(ctx: RenderContext, iface?: string): BridgeRule {
  return bridgeRule(
    [ARP, ...(iface ? [{ kind: 'iface', dir: 'in', name: iface } as const] : []), ARP_REQUEST, arpIp('dst', ctx.gateway)],
    { kind: 'arpreply', mac: ctx.bridgeMac },
    `fake router: this node answers ARP for the gateway ${ctx.gateway} with the bridge MAC and routes`,
  );
}

/** NC_PROXY=Y: every ARP request from instances (on `iface`, or in the instance's own chain) is answered with the bridge MAC. */
function proxyAllRule(ctx: RenderContext, iface?: string): BridgeRule {
  return bridgeRule(
    [ARP, ...(iface ? [{ kind: 'iface', dir: 'in', name: iface } as const] : []), ARP_REQUEST],
    { kind: 'arpreply', mac: ctx.bridgeMac },
    'NC_PROXY=Y: every ARP request of an instance is answered with the bridge MAC (the node routes all its traffic)',
  );
}

/** NC_PROXY=Y, first in <P>-EB-PRE: this node answers ARP for its instances' addresses. */
function proxyAddressRules(ctx: RenderContext): BridgeRule[] {
  return ctx.locals.flatMap((i) => [
    bridgeRule([ARP, { kind: 'iface', dir: 'in', name: i.interface }, arpIp('dst', i.privateIp)], DROP, `${i.id}: its own ARP for ${i.privateIp} is not answered by the proxy`),
    bridgeRule([ARP, ARP_REQUEST, arpIp('dst', i.privateIp)], { kind: 'arpreply', mac: ctx.bridgeMac }, `NC_PROXY=Y: ARP for ${i.privateIp} (${i.id}) is answered with the bridge MAC`),
  ]);
}

/** IPv6 frames from a dual-stack instance (before its chain's final DROP). */
function fromInstance6(i: LocalInstance & { ipv6: string }): BridgeRule[] {
  const ll = linkLocalAddress(i.mac);
  return [
    bridgeRule([IPV6, ICMPV6, RA], DROP, `${i.id}: an instance may not send router advertisements`),
    bridgeRule([IPV6, ICMPV6, REDIRECT], DROP, `${i.id}: an instance may not send redirects`),
    bridgeRule([IPV6, UDP6, port6('src', DHCP6_SERVER_PORT)], DROP, `${i.id}: an instance may not act as a DHCPv6 server or relay`),
    bridgeRule([IPV6, UDP6, port6('dst', DHCP6_CLIENT_PORT)], DROP, `${i.id}: an instance may not send to DHCPv6 clients`),
    bridgeRule([IPV6, ip6('src', '::'), ICMPV6], ACCEPT, `${i.id}: unspecified source only for ICMPv6 (duplicate address detection, MLD)`),
    bridgeRule([IPV6, ip6('src', i.ipv6)], ACCEPT, `${i.id}: IPv6 from its own global address`),
    ...(ll === undefined ? [] : [bridgeRule([IPV6, ip6('src', formatIpv6(ll))], ACCEPT, `${i.id}: IPv6 from its own link-local address`)]),
  ];
}

/** IPv6 frames to a dual-stack instance (before its chain's final DROP). */
function toInstance6(ctx: RenderContext, i: LocalInstance): BridgeRule[] {
  const fromNode = (what: BridgeMatch, name: string): BridgeRule => (ctx.bridgeMac === ''
    ? bridgeRule([IPV6, ICMPV6, what], DROP, `${i.id}: ${name} (the bridge MAC is unknown: none passes)`)
    : bridgeRule([IPV6, mac('src', ctx.bridgeMac, true), ICMPV6, what], DROP, `${i.id}: ${name} only from this node (the bridge MAC)`));
  return [
    fromNode(RA, 'router advertisements'),
    fromNode(REDIRECT, 'redirects'),
    bridgeRule([IPV6, UDP6, port6('src', DHCP6_SERVER_PORT)], DROP, `${i.id}: no DHCPv6 server replies (addresses come from router advertisements)`),
    bridgeRule([IPV6], ACCEPT, `${i.id}: IPv6 to the instance (security groups filter it in ip6tables)`),
  ];
}

/** ebtables filter: this node's router advertisements and redirects stay on instance ports (a dual-stack cluster only). */
function renderEbtablesFilter(ctx: RenderContext): NetfilterTable<BridgeRule> {
  if (ctx.ipv6 === undefined) return { chains: [], hooks: [] };
  const notInstance: BridgeMatch = { kind: 'iface', dir: 'out', name: INSTANCE_INTERFACE_WILDCARD, negate: true };
  const rules = [
    bridgeRule([IPV6, notInstance, ICMPV6, RA], DROP, 'router advertisements of this node go to its instances only (never the physical LAN)'),
    bridgeRule([IPV6, notInstance, ICMPV6, REDIRECT], DROP, 'redirects of this node go to its instances only (never the physical LAN)'),
  ];
  return {
    chains: [{ name: ctx.names.ebOut, rules }],
    hooks: [{ family: 'bridge', builtin: 'OUTPUT', matches: [], target: ctx.names.ebOut, comment: 'edgenet: router advertisements stay on instance ports' }],
  };
}

function fromInstance(ctx: RenderContext, i: LocalInstance): Chain<BridgeRule> {
  const rules: BridgeRule[] = [
    bridgeRule([mac('src', i.mac, true)], DROP, `${i.id}: source MAC must be ${i.mac}`),
    bridgeRule([IPV4, UDP, port('src', 67)], DROP, `${i.id}: an instance may not act as a DHCP server`),
    bridgeRule([IPV4, ip('src', '0.0.0.0'), UDP, port('dst', 67)], ACCEPT, `${i.id}: DHCP request before the instance has an address`),
    bridgeRule([IPV4, ip('src', i.privateIp, true)], DROP, `${i.id}: IPv4 source must be ${i.privateIp}`),
    bridgeRule([IPV4], ACCEPT, `${i.id}: IPv4 from its own address`),
    bridgeRule([ARP, arpMac('src', i.mac, true)], DROP, `${i.id}: ARP sender MAC must be ${i.mac}`),
    bridgeRule([ARP, arpIp('src', i.privateIp, true)], DROP, `${i.id}: ARP sender IP must be ${i.privateIp}`),
  ];
  if (ctx.config.ncProxy) {
    rules.push(
      proxyAllRule(ctx),
      bridgeRule([ARP, mac('dst', ctx.bridgeMac, true), ARP_REPLY], DROP, `${i.id}: NC_PROXY=Y: ARP replies only to the bridge MAC`),
    );
  } else if (ctx.fakeRouter) rules.push(fakeRouterRule(ctx));
  rules.push(
    bridgeRule([ARP, ARP_REQUEST], ACCEPT, `${i.id}: ARP request`),
    bridgeRule([ARP, ARP_REPLY], ACCEPT, `${i.id}: ARP reply`),
    // libvirt's qemu-announce-self-rarp: after a live migration QEMU broadcasts
    // RARP "request reverse" frames for the VM's own MAC so that switches learn
    // its new port at once; only that exact shape passes.
    bridgeRule(
      [
        { kind: 'ethertype', type: 'RARP' }, mac('src', i.mac), mac('dst', BROADCAST), { kind: 'arp-op', op: 'Request_Reverse' },
        arpIp('src', '0.0.0.0'), arpIp('dst', '0.0.0.0'), arpMac('src', i.mac), arpMac('dst', i.mac),
      ],
      ACCEPT,
      `${i.id}: the QEMU announce after a live migration (RARP request for its own MAC)`,
    ),
  );
  if (i.ipv6 !== undefined) {
    rules.push(...fromInstance6({ ...i, ipv6: i.ipv6 }), bridgeRule([], DROP, `${i.id}: anything else (IPv6 from another source, other ARP, other RARP, other ethertypes)`));
  } else {
    rules.push(bridgeRule([], DROP, `${i.id}: anything else (IPv6 and router advertisements, other ARP, other RARP, other ethertypes)`));
  }
  return { name: ctx.names.instanceFromChain(i.id), rules };
}

function toInstance(ctx: RenderContext, i: LocalInstance): Chain<BridgeRule> {
  const dhcpReply = [UDP, port('src', 67), port('dst', 68)];
  const rules: BridgeRule[] = [
    bridgeRule([IPV4, mac('dst', i.mac), ...dhcpReply], ACCEPT, `${i.id}: DHCP reply addressed to its MAC`),
  ];
  if (ctx.bridgeMac !== '') {
    rules.push(bridgeRule([IPV4, mac('src', ctx.bridgeMac), mac('dst', BROADCAST), ...dhcpReply], ACCEPT, `${i.id}: broadcast DHCP reply from this node's dhcpd (EUCA-10278)`));
  } else {
    rules.push(bridgeRule([IPV4, mac('dst', BROADCAST), ...dhcpReply], ACCEPT, `${i.id}: broadcast DHCP reply (bridge MAC unknown: any sender)`));
  }
  rules.push(
    bridgeRule([IPV4, ...dhcpReply], DROP, `${i.id}: DHCP reply meant for another client`),
    bridgeRule([IPV4], ACCEPT, `${i.id}: IPv4 to the instance (security groups filter it in iptables)`),
    ...(ctx.config.ncProxy ? [bridgeRule([ARP, arpMac('src', ctx.bridgeMac, true)], DROP, `${i.id}: NC_PROXY=Y: ARP only from the bridge MAC`)] : []),
    bridgeRule([ARP, ARP_REPLY, arpMac('dst', i.mac, true)], DROP, `${i.id}: ARP reply must target ${i.mac}`),
    bridgeRule([ARP, arpIp('dst', i.privateIp, true)], DROP, `${i.id}: ARP must target ${i.privateIp}`),
    bridgeRule([ARP, ARP_REQUEST], ACCEPT, `${i.id}: ARP request for its address`),
    bridgeRule([ARP, ARP_REPLY], ACCEPT, `${i.id}: ARP reply to it`),
  );
  if (i.ipv6 !== undefined) rules.push(...toInstance6(ctx, i), bridgeRule([], DROP, `${i.id}: anything else (other ARP, other ethertypes)`));
  else rules.push(bridgeRule([], DROP, `${i.id}: anything else (IPv6, other ARP, other ethertypes)`));
  return { name: ctx.names.instanceToChain(i.id), rules };
}

export function renderEbtables(ctx: RenderContext): { filter: NetfilterTable<BridgeRule>; nat: NetfilterTable<BridgeRule> } {
  const { names } = ctx;
  const pre: BridgeRule[] = [];
  const post: BridgeRule[] = [];
  const perInstance: Chain<BridgeRule>[] = [];
  if (ctx.config.ncProxy) pre.push(...proxyAddressRules(ctx));
  if (ctx.config.disableL2Isolation) {
    if (ctx.config.ncProxy) {
      if (ctx.locals.length > 0) pre.push(proxyAllRule(ctx, INSTANCE_INTERFACE_WILDCARD));
    } else if (ctx.fakeRouter && ctx.bridgeMac !== '') pre.push(fakeRouterRule(ctx, INSTANCE_INTERFACE_WILDCARD));
  } else {
    for (const i of ctx.locals) {
      const from = fromInstance(ctx, i);
      const to = toInstance(ctx, i);
      perInstance.push(from, to);
      pre.push(bridgeRule([{ kind: 'iface', dir: 'in', name: i.interface }], jump(from.name), `frames from ${i.id}`));
      post.push(bridgeRule([{ kind: 'iface', dir: 'out', name: i.interface }], jump(to.name), `frames to ${i.id}`));
    }
    pre.push(bridgeRule([{ kind: 'iface', dir: 'in', name: INSTANCE_INTERFACE_WILDCARD }], DROP, 'instance interface without rules yet: no network (EUCA-10233)'));
    post.push(bridgeRule([{ kind: 'iface', dir: 'out', name: INSTANCE_INTERFACE_WILDCARD }], DROP, 'instance interface without rules yet: no network (EUCA-10233)'));
  }
  // Per-instance chains in the order PRE/POST jump to them: I-a, O-a, I-b, O-b, …
  if (ctx.ipv6 !== undefined && ctx.bridgeMac === '' && ctx.locals.some((i) => i.ipv6 !== undefined)) {
    ctx.warnings.push(`the MAC of ${ctx.config.bridge} is unknown: instances accept no router advertisement (set EDGENET_BRIDGE_MAC or let netd read it from the host)`);
  }
  return {
    filter: renderEbtablesFilter(ctx),
    nat: {
      chains: [{ name: names.ebPre, rules: pre }, { name: names.ebPost, rules: post }, ...perInstance],
      hooks: [
        { family: 'bridge', builtin: 'PREROUTING', matches: [], target: names.ebPre, comment: 'edgenet anti-spoofing: frames from instances' },
        { family: 'bridge', builtin: 'POSTROUTING', matches: [], target: names.ebPost, comment: 'edgenet anti-spoofing: frames to instances' },
      ],
    },
  };
}
