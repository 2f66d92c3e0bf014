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
 */
import { INSTANCE_INTERFACE_WILDCARD } from '../names.ts';
import type { RenderContext } from './context.ts';
import { ebRule } from './rule.ts';
import type { Chain, LocalInstance, NetfilterTable, Rule } from './types.ts';

/** ebtables-save prints ff:ff:ff:ff:ff:ff as `Broadcast`. */
const BROADCAST = 'Broadcast';

function fakeRouterRule(ctx: RenderContext, iface?: string): Rule {
  return ebRule(
    ['-p', 'ARP', ...(iface ? ['-i', iface] : []), '--arp-op', 'Request', '--arp-ip-dst', ctx.gateway, '-j', 'arpreply', '--arpreply-mac', ctx.bridgeMac],
    `fake router: this node answers ARP for the gateway ${ctx.gateway} with the bridge MAC and routes`,
  );
}

function fromInstance(ctx: RenderContext, i: LocalInstance): Chain {
  const rules: Rule[] = [
    ebRule(['-s', '!', i.mac, '-j', 'DROP'], `${i.id}: source MAC must be ${i.mac}`),
    ebRule(['-p', 'IPv4', '--ip-proto', 'udp', '--ip-sport', '67', '-j', 'DROP'], `${i.id}: an instance may not act as a DHCP server`),
    ebRule(['-p', 'IPv4', '--ip-src', '0.0.0.0', '--ip-proto', 'udp', '--ip-dport', '67', '-j', 'ACCEPT'], `${i.id}: DHCP request before the instance has an address`),
    ebRule(['-p', 'IPv4', '--ip-src', '!', i.privateIp, '-j', 'DROP'], `${i.id}: IPv4 source must be ${i.privateIp}`),
    ebRule(['-p', 'IPv4', '-j', 'ACCEPT'], `${i.id}: IPv4 from its own address`),
    ebRule(['-p', 'ARP', '--arp-mac-src', '!', i.mac, '-j', 'DROP'], `${i.id}: ARP sender MAC must be ${i.mac}`),
    ebRule(['-p', 'ARP', '--arp-ip-src', '!', i.privateIp, '-j', 'DROP'], `${i.id}: ARP sender IP must be ${i.privateIp}`),
  ];
  if (ctx.fakeRouter) rules.push(fakeRouterRule(ctx));
  rules.push(
    ebRule(['-p', 'ARP', '--arp-op', 'Request', '-j', 'ACCEPT'], `${i.id}: ARP request`),
    ebRule(['-p', 'ARP', '--arp-op', 'Reply', '-j', 'ACCEPT'], `${i.id}: ARP reply`),
    // libvirt's qemu-announce-self-rarp: after a live migration QEMU broadcasts
    // RARP "request reverse" frames for the VM's own MAC so that switches learn
    // its new port at once; only that exact shape passes.
    ebRule(
      ['-p', 'RARP', '-s', i.mac, '-d', BROADCAST, '--arp-op', 'Request_Reverse', '--arp-ip-src', '0.0.0.0', '--arp-ip-dst', '0.0.0.0', '--arp-mac-src', i.mac, '--arp-mac-dst', i.mac, '-j', 'ACCEPT'],
      `${i.id}: the QEMU announce after a live migration (RARP request for its own MAC)`,
    ),
    ebRule(['-j', 'DROP'], `${i.id}: anything else (IPv6 and router advertisements, other ARP, other RARP, other ethertypes)`),
  );
  return { name: ctx.names.instanceFromChain(i.id), rules };
}

function toInstance(ctx: RenderContext, i: LocalInstance): Chain {
  const dhcpReply = ['--ip-proto', 'udp', '--ip-sport', '67', '--ip-dport', '68'];
  const rules: Rule[] = [
    ebRule(['-p', 'IPv4', '-d', i.mac, ...dhcpReply, '-j', 'ACCEPT'], `${i.id}: DHCP reply addressed to its MAC`),
  ];
  if (ctx.bridgeMac !== '') {
    rules.push(ebRule(['-p', 'IPv4', '-s', ctx.bridgeMac, '-d', BROADCAST, ...dhcpReply, '-j', 'ACCEPT'], `${i.id}: broadcast DHCP reply from this node's dhcpd (EUCA-10278)`));
  } else {
    rules.push(ebRule(['-p', 'IPv4', '-d', BROADCAST, ...dhcpReply, '-j', 'ACCEPT'], `${i.id}: broadcast DHCP reply (bridge MAC unknown: any sender)`));
  }
  rules.push(
    ebRule(['-p', 'IPv4', ...dhcpReply, '-j', 'DROP'], `${i.id}: DHCP reply meant for another client`),
    ebRule(['-p', 'IPv4', '-j', 'ACCEPT'], `${i.id}: IPv4 to the instance (security groups filter it in iptables)`),
    ebRule(['-p', 'ARP', '--arp-op', 'Reply', '--arp-mac-dst', '!', i.mac, '-j', 'DROP'], `${i.id}: ARP reply must target ${i.mac}`),
    ebRule(['-p', 'ARP', '--arp-ip-dst', '!', i.privateIp, '-j', 'DROP'], `${i.id}: ARP must target ${i.privateIp}`),
    ebRule(['-p', 'ARP', '--arp-op', 'Request', '-j', 'ACCEPT'], `${i.id}: ARP request for its address`),
    ebRule(['-p', 'ARP', '--arp-op', 'Reply', '-j', 'ACCEPT'], `${i.id}: ARP reply to it`),
    ebRule(['-j', 'DROP'], `${i.id}: anything else (IPv6, other ARP, other ethertypes)`),
  );
  return { name: ctx.names.instanceToChain(i.id), rules };
}

export function renderEbtables(ctx: RenderContext): { filter: NetfilterTable; nat: NetfilterTable } {
  const { names } = ctx;
  const pre: Rule[] = [];
  const post: Rule[] = [];
  const perInstance: Chain[] = [];
  if (ctx.config.disableL2Isolation) {
    if (ctx.fakeRouter && ctx.bridgeMac !== '') pre.push(fakeRouterRule(ctx, INSTANCE_INTERFACE_WILDCARD));
  } else {
    for (const i of ctx.locals) {
      const from = fromInstance(ctx, i);
      const to = toInstance(ctx, i);
      perInstance.push(from, to);
      pre.push(ebRule(['-i', i.interface, '-j', from.name], `frames from ${i.id}`));
      post.push(ebRule(['-o', i.interface, '-j', to.name], `frames to ${i.id}`));
    }
    pre.push(ebRule(['-i', INSTANCE_INTERFACE_WILDCARD, '-j', 'DROP'], 'instance interface without rules yet: no network (EUCA-10233)'));
    post.push(ebRule(['-o', INSTANCE_INTERFACE_WILDCARD, '-j', 'DROP'], 'instance interface without rules yet: no network (EUCA-10233)'));
  }
  // Per-instance chains in the order PRE/POST jump to them: I-a, O-a, I-b, O-b, …
  return {
    filter: { chains: [], hooks: [] },
    nat: {
      chains: [{ name: names.ebPre, rules: pre }, { name: names.ebPost, rules: post }, ...perInstance],
      hooks: [
        { builtin: 'PREROUTING', match: [], target: names.ebPre, comment: 'edgenet anti-spoofing: frames from instances' },
        { builtin: 'POSTROUTING', match: [], target: names.ebPost, comment: 'edgenet anti-spoofing: frames to instances' },
      ],
    },
  };
}
