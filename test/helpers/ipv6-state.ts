/**
 * A hand-built dual-stack DesiredState for the IPv6 plumbing tests (unit tests
 * against the fake host, the real-kernel integration test): what a renderer
 * would produce, built here from typed rules so the plumbing (writers, plan,
 * apply, flush) is tested without depending on the renderers.
 *
 * `dualStackState({group})`: ipsets `EN-sg-a` (inet) and `EN-sg-a-6` (inet6);
 * iptables filter `EN-FWD` → `EN-sg-a`; ip6tables filter `EN-FWD` (hooked from
 * FORWARD) → `EN-sg-a` (rules from `group`: the group chain the tests change)
 * and `EN-ND` (a neighbour advertisement only for the instance's own address,
 * the u32 nd-target match); ip6tables nat `EN-PRE` (metadata DNAT to the
 * CLC's IPv6 address); ebtables filter `EN-EB-OUT` (RAs never leave through a
 * non-instance port: `-o ! vn_+`); the bridge route of the /64.
 * `ipv4OnlyState()` is the same without anything IPv6.
 */
import type { DesiredState, IpRule, NetfilterTable } from '../../src/netd/render/types.ts';
import { ACCEPT, DROP, bridgeRule, ipRule, jump } from '../../src/netd/netfilter/rule.ts';

export const PREFIX6 = '2001:db8:10::/64';
/**
 * The instance's address as a renderer might spell it: `::` for the single
 * zero group, which the kernel lists as `2001:db8:10:0:d20d:ff:fe00:b`
 * (INSTANCE6_KERNEL); the writers and the planner must still converge.
 */
export const INSTANCE6 = '2001:db8:10::d20d:ff:fe00:b';
export const INSTANCE6_KERNEL = '2001:db8:10:0:d20d:ff:fe00:b';
export const BRIDGE = 'br0';

const EMPTY = (): NetfilterTable<IpRule> => ({ chains: [], hooks: [] });

/** The v6 group chain's rules: ssh by default; the tests pass another list to change only this chain. */
export function groupRules(ports: readonly number[] = [22]): IpRule[] {
  return [
    ...ports.map((p) => ipRule('ipv6', { matches: [{ kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: p, hi: p } }], target: ACCEPT, comment: `tcp ${p} from anywhere` })),
    ipRule('ipv6', { matches: [{ kind: 'set', set: 'EN-sg-a-6', dir: 'src' }], target: ACCEPT, comment: 'members of sg-a' }),
    ipRule('ipv6', { matches: [{ kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: 128 }], target: ACCEPT, comment: 'ping' }),
  ];
}

function base(): DesiredState {
  return {
    node: 'node1',
    cluster: 'c1',
    version: 'v',
    bridge: { name: BRIDGE, members: [] },
    sysctls: [],
    instances: [],
    ipsets: [{ name: 'EN-sg-a', type: 'hash:net', members: ['10.10.0.11'], comment: '' }],
    iptables: {
      filter: {
        chains: [
          { name: 'EN-FWD', rules: [ipRule('ipv4', { matches: [{ kind: 'physdev', dir: 'out', name: 'vn_i-b' }], target: jump('EN-sg-a4'), comment: 'to i-b' })] },
          { name: 'EN-sg-a4', rules: [ipRule('ipv4', { matches: [{ kind: 'set', set: 'EN-sg-a', dir: 'src' }], target: ACCEPT, comment: 'members of sg-a' })] },
        ],
        hooks: [{ family: 'ipv4', builtin: 'FORWARD', matches: [], target: 'EN-FWD', comment: 'security groups' }],
      },
      nat: EMPTY(),
    },
    ip6tables: { filter: EMPTY(), nat: EMPTY() },
    ebtables: { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } },
    bridgeRoutes: [],
    processes: [],
    publicAddresses: { interface: '', addresses: [], pool: [] },
    gateway: '',
    warnings: [],
  };
}

export function ipv4OnlyState(): DesiredState {
  return base();
}

export function dualStackState(opts: { group?: readonly IpRule[]; routes?: readonly string[]; metadataTo?: string } = {}): DesiredState {
  const b = base();
  return {
    ...b,
    instances: [{ id: 'i-b', interface: 'vn_i-b', mac: 'd0:0d:00:00:00:0b', privateIp: '10.10.0.11', ipv6: INSTANCE6, securityGroups: ['sg-a'] }],
    ipsets: [...b.ipsets, { name: 'EN-sg-a-6', type: 'hash:net', family: 'inet6', members: [INSTANCE6, '2001:db8:99::/48'], comment: '' }],
    ip6tables: {
      filter: {
        chains: [
          {
            name: 'EN-FWD',
            rules: [
              ipRule('ipv6', { matches: [{ kind: 'ctstate', states: ['RELATED', 'ESTABLISHED'] }], target: ACCEPT, comment: 'replies' }),
              ipRule('ipv6', { matches: [{ kind: 'physdev', dir: 'out', name: 'vn_i-b' }], target: jump('EN-sg-a'), comment: 'to i-b' }),
              ipRule('ipv6', { matches: [{ kind: 'physdev', dir: 'in', name: 'vn_i-b' }, { kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: 136 }], target: jump('EN-ND'), comment: 'NA from i-b' }),
            ],
          },
          { name: 'EN-ND', rules: [
            ipRule('ipv6', { matches: [{ kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: 136 }, { kind: 'nd-target', address: INSTANCE6 }], target: { kind: 'return' }, comment: 'its own address' }),
            ipRule('ipv6', { target: DROP, comment: 'forged neighbour advertisement' }),
          ] },
          { name: 'EN-sg-a', rules: [...(opts.group ?? groupRules())] },
        ],
        hooks: [{ family: 'ipv6', builtin: 'FORWARD', matches: [], target: 'EN-FWD', comment: 'security groups' }],
      },
      nat: {
        chains: [{ name: 'EN-PRE', rules: [ipRule('ipv6', {
          matches: [{ kind: 'addr', dir: 'dst', cidr: 'fd00:ec2::254/128' }, { kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: 80, hi: 80 } }],
          target: { kind: 'dnat', address: opts.metadataTo ?? 'fd00:172:31::2', port: 8773 },
          comment: 'instance metadata service',
        })] }],
        hooks: [{ family: 'ipv6', builtin: 'PREROUTING', matches: [], target: 'EN-PRE', comment: 'metadata' }],
      },
    },
    ebtables: {
      filter: {
        chains: [{ name: 'EN-EB-OUT', rules: [
          bridgeRule([{ kind: 'ethertype', type: 'IPv6' }, { kind: 'iface', dir: 'out', name: 'vn_+', negate: true }, { kind: 'ip6-proto', proto: 'icmp' }, { kind: 'ip6-icmp', type: 134 }], DROP, 'RAs stay on the instance ports'),
          bridgeRule([{ kind: 'ethertype', type: 'IPv6' }, { kind: 'iface', dir: 'out', name: 'vn_+', negate: true }, { kind: 'ip6-proto', proto: 'icmp' }, { kind: 'ip6-icmp', type: 137 }], DROP, 'redirects too'),
          bridgeRule([{ kind: 'ethertype', type: 'IPv6' }, { kind: 'ip6-addr', dir: 'src', address: '::/128' }, { kind: 'ip6-proto', proto: 'udp' }, { kind: 'ip6-port', dir: 'dst', port: 547 }], { kind: 'return' }, 'dhcpv6 solicit'),
          bridgeRule([{ kind: 'ethertype', type: 'IPv6' }, { kind: 'ip6-addr', dir: 'dst', address: `${INSTANCE6}/128` }], { kind: 'return' }, 'to the instance'),
        ] }],
        hooks: [{ family: 'bridge', builtin: 'OUTPUT', matches: [], target: 'EN-EB-OUT', comment: 'ra guard' }],
      },
      nat: { chains: [], hooks: [] },
    },
    bridgeRoutes: [...(opts.routes ?? [PREFIX6])],
  };
}
