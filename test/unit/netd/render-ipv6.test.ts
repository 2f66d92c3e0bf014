/**
 * What netd renders for a dual-stack cluster (issue 14), on values: the
 * ip6tables filter and nat, the inet6 sets, the ebtables IPv6 anti-spoofing
 * and the edge state (sysctls, bridge routes). The goldens
 * (test/golden/netd/dual-stack*) cover the text; the packets are tested in
 * test/integration/netd-ipv6-traffic.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterIpv6Extension, configurationIpv6Extension, groupIpv6Extension, instanceIpv6Extension } from '../../../src/shared/gni/ipv6.ts';
import type { GniDocument, GniRule } from '../../../src/shared/gni/model.ts';
import { formatIpv6, linkLocalAddress, parseCidr6, slaacAddress } from '../../../src/shared/ip.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import { netdNames } from '../../../src/netd/names.ts';
import { render } from '../../../src/netd/render/render.ts';
import type { DesiredState } from '../../../src/netd/render/types.ts';
import { ruleArgs } from '../../../src/netd/netfilter/rule-args.ts';
import type { BridgeRule, Chain, IpRule } from '../../../src/netd/netfilter/rule.ts';

const N = netdNames('EDGENET');
const PREFIX = '2001:db8:10::/64';
const MAC1 = 'd0:0d:00:00:00:01';
const MAC2 = 'd0:0d:00:00:00:02';
const MAC3 = 'd0:0d:00:00:00:03';
const eui = (mac: string): string => formatIpv6(slaacAddress(parseCidr6(PREFIX)!, mac)!);
const ll = (mac: string): string => formatIpv6(linkLocalAddress(mac)!);
const A = 'sg-0000000a';
const B = 'sg-0000000b';

interface Opts { readonly dualStack?: boolean; readonly clc6?: string; readonly rulesA?: readonly GniRule[]; readonly rules6A?: readonly GniRule[] }

/** Node 10.0.0.21 with i-1 (A, dual-stack) and i-2 (B, IPv4-only); i-3 (B) on another node. */
function doc(o: Opts = {}): GniDocument {
  const dual = o.dualStack ?? true;
  const v6 = (mac: string) => (dual ? { extensions: [instanceIpv6Extension(eui(mac))] } : {});
  const ext6A = groupIpv6Extension(o.rules6A ?? []);
  return {
    version: 'v1', sequence: 1,
    configuration: {
      mode: 'EDGE', publicIps: [], enabledClcIp: '10.0.0.5', instanceDnsServers: [], subnets: [],
      clusters: [{
        name: 'a', subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' }, enabledCcIp: '10.0.0.6', macPrefix: 'd0:0d',
        privateIps: ['10.10.1.2-10.10.2.254'],
        nodes: [{ name: '10.0.0.21', instanceIds: ['i-00000001', 'i-00000002'] }, { name: '10.0.0.22', instanceIds: ['i-00000003'] }],
        ...(dual ? { extensions: [clusterIpv6Extension({ prefix: PREFIX, dnsServers: [] })] } : {}),
      }],
      ...(o.clc6 === undefined ? {} : { extensions: [configurationIpv6Extension(o.clc6)] }),
    },
    instances: [
      { name: 'i-00000001', ownerId: '1', macAddress: MAC1, privateIp: '10.10.1.5', securityGroups: [A], ...v6(MAC1) },
      { name: 'i-00000002', ownerId: '1', macAddress: MAC2, privateIp: '10.10.1.6', securityGroups: [B] },
      { name: 'i-00000003', ownerId: '1', macAddress: MAC3, privateIp: '10.10.1.7', securityGroups: [B], ...v6(MAC3) },
    ],
    securityGroups: [
      { name: A, ownerId: '1', ingressRules: [...(o.rulesA ?? [])], ...(ext6A === undefined ? {} : { extensions: [ext6A] }) },
      { name: B, ownerId: '1', ingressRules: [] },
    ],
  } as GniDocument;
}

function state(o: Opts = {}, config: Partial<NetdConfig> = {}, bridgeMac = '02:00:00:00:00:01'): DesiredState {
  const r = render(doc(o), { node: '10.0.0.21' }, { ...DEFAULT_NETD_CONFIG, ...config }, { bridgeMac });
  assert.ok(r.ok, JSON.stringify(r));
  return r.state;
}
const words = (c: Chain<IpRule | BridgeRule> | undefined): string[] => (c?.rules ?? []).map((r) => ruleArgs(r).join(' '));
const chain6 = (s: DesiredState, name: string) => s.ip6tables.filter.chains.find((c) => c.name === name);
const chain4 = (s: DesiredState, name: string) => s.iptables.filter.chains.find((c) => c.name === name);
const ebChain = (s: DesiredState, name: string) => s.ebtables.nat.chains.find((c) => c.name === name);
const groupRules6 = (s: DesiredState, g = A) => words(chain6(s, N.groupChain(g))).slice(1);
const groupRules4 = (s: DesiredState, g = A) => words(chain4(s, N.groupChain(g))).slice(1);

test('an IPv4-only cluster renders no IPv6: empty ip6tables tables, no inet6 set, no ebtables filter, no IPv6 sysctl or bridge route', () => {
  const s = state({ dualStack: false });
  assert.deepEqual(s.ip6tables, { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } });
  assert.deepEqual(s.ebtables.filter, { chains: [], hooks: [] });
  assert.equal(s.ipsets.some((x) => x.family === 'inet6'), false);
  assert.deepEqual(s.bridgeRoutes, []);
  assert.deepEqual(s.sysctls.map((x) => x.key), ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables']);
  assert.equal(s.instances.some((i) => i.ipv6 !== undefined), false);
});

test('a dual-stack cluster: IPv6 forwarding and bridge-nf for ip6tables, the /64 on-link on the bridge, each instance its EUI-64 address', () => {
  const s = state();
  assert.deepEqual(s.sysctls.map((x) => `${x.key}=${x.value}`), [
    'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1', 'net.ipv6.conf.all.forwarding=1', 'net.bridge.bridge-nf-call-ip6tables=1',
  ]);
  assert.deepEqual(s.bridgeRoutes, [PREFIX]);
  assert.deepEqual(s.instances.map((i) => [i.id, i.ipv6]), [['i-00000001', eui(MAC1)], ['i-00000002', undefined]]);
  assert.deepEqual(s.ip6tables.filter.hooks.map((h) => `${h.builtin}->${h.target}`), ['FORWARD->EDGENET-FWD', 'INPUT->EDGENET-IN']);
});

test('inet6 sets: local instances, hosts, and each group cloud-wide (IPv6 members only); IPv4 sets unchanged', () => {
  const s = state({ clc6: 'fd00:172:31::2' }, { metadataIpv6: '2001:db8:ffff::5' });
  const set = (name: string) => s.ipsets.find((x) => x.name === name);
  assert.deepEqual(set(N.localSet6), { name: N.localSet6, type: 'hash:ip', family: 'inet6', members: [eui(MAC1)], comment: set(N.localSet6)?.comment });
  assert.deepEqual(set(N.hostsSet6)?.members, ['2001:db8:ffff::5', 'fd00:172:31::2']);
  assert.deepEqual(set(N.groupSet6(A))?.members, [eui(MAC1)]);
  assert.deepEqual(set(N.groupSet6(B))?.members, [eui(MAC3)]);
  assert.deepEqual(set(N.localSet)?.members, ['10.10.1.5', '10.10.1.6']);
  assert.equal(set(N.localSet)?.family, undefined);
});

test('an ICMPv6 rule for one type renders only that type (and code); icmpv6 any is the protocol alone', () => {
  const s = state({
    rules6A: [
      { protocol: 58, icmpType: 128, icmpCode: -1, cidr: '::/0' },
      { protocol: 58, icmpType: 1, icmpCode: 4, cidr: '2001:db8::/32' },
      { protocol: 58, icmpType: -1, icmpCode: -1, cidr: '2001:db8:ffff::/48' },
    ],
  });
  assert.deepEqual(groupRules6(s), [
    '-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT',
    '-s 2001:db8::/32 -p ipv6-icmp -m icmp6 --icmpv6-type 1/4 -j ACCEPT',
    '-s 2001:db8:ffff::/48 -p ipv6-icmp -j ACCEPT',
  ]);
  // Nothing of it in IPv4.
  assert.deepEqual(groupRules4(s), []);
});

test('a source-group rule gets an IPv6 rule too (over the source group\'s inet6 set); an ICMP (v4) one does not; an ICMPv6 one is IPv6 only', () => {
  const s = state({
    rulesA: [
      { protocol: 6, fromPort: 22, toPort: 22, groupId: B, groupOwnerId: '1' },
      { protocol: 1, icmpType: 8, icmpCode: -1, groupId: B, groupOwnerId: '1' },
    ],
    rules6A: [{ protocol: 58, icmpType: 128, icmpCode: -1, groupId: B, groupOwnerId: '1' }],
  });
  assert.deepEqual(groupRules4(s), [
    `-p tcp -m set --match-set ${N.groupSet(B)} src -m tcp --dport 22 -j ACCEPT`,
    `-p icmp -m set --match-set ${N.groupSet(B)} src -m icmp --icmp-type 8 -j ACCEPT`,
  ]);
  assert.deepEqual(groupRules6(s), [
    `-p ipv6-icmp -m set --match-set ${N.groupSet6(B)} src -m icmp6 --icmpv6-type 128 -j ACCEPT`,
    `-p tcp -m set --match-set ${N.groupSet6(B)} src -m tcp --dport 22 -j ACCEPT`,
  ]);
  // B's inet6 set holds only members with IPv6: i-3 on the other node (local i-2 is IPv4-only).
  assert.deepEqual(s.ipsets.find((x) => x.name === N.groupSet6(B))?.members, [eui(MAC3)]);
});

test('IPv4 CIDR rules stay IPv4, IPv6 CIDR rules stay IPv6', () => {
  const s = state({ rulesA: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }], rules6A: [{ protocol: 6, fromPort: 443, toPort: 443, cidr: '2001:db8::/32' }] });
  assert.deepEqual(groupRules4(s), ['-p tcp -m tcp --dport 80 -j ACCEPT']);
  assert.deepEqual(groupRules6(s), ['-s 2001:db8::/32 -p tcp -m tcp --dport 443 -j ACCEPT']);
});

test('neighbour discovery: advertisements from instance ports go through the ND chain in FORWARD and INPUT, which returns only for the instance\'s own global and link-local targets; NS/NA are accepted before any drop', () => {
  const s = state();
  const fwd = words(chain6(s, N.filterForward));
  const ndJump = `-p ipv6-icmp -m icmp6 --icmpv6-type 136 -m physdev --physdev-in vn_+ -j ${N.ndGuard}`;
  assert.deepEqual(fwd.slice(0, 3), [ndJump, '-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT', '-p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT']);
  const firstDrop = fwd.findIndex((r) => r.endsWith('-j DROP'));
  assert.ok(firstDrop > 2);
  assert.equal(words(chain6(s, N.filterInput))[0], ndJump);
  const nd = chain6(s, N.ndGuard)!;
  const targets = nd.rules.flatMap((r) => r.matches.flatMap((m) => (m.kind === 'nd-target' ? [m.address] : [])));
  assert.deepEqual(targets, [eui(MAC1), ll(MAC1)], 'i-2 has no IPv6: none of its advertisements return');
  for (const r of nd.rules.slice(0, -1)) {
    assert.ok(r.matches.some((m) => m.kind === 'physdev' && m.dir === 'in' && m.name === 'vn_i-00000001'), 'each target is tied to its instance port');
    assert.equal(r.target.kind, 'return');
  }
  assert.deepEqual(nd.rules.at(-1)?.matches, []);
  assert.equal(nd.rules.at(-1)?.target.kind, 'drop');
});

test('multicast and link-local to an instance port go through that instance\'s groups, then drop; the rest of FWD mirrors IPv4', () => {
  const s = state();
  const fwd = words(chain6(s, N.filterForward));
  assert.ok(fwd.includes(`-m physdev --physdev-out vn_i-00000001 -m set ! --match-set ${N.localSet6} dst -j ${N.groupChain(A)}`));
  assert.ok(fwd.includes(`-m physdev --physdev-out vn_i-00000002 -m set ! --match-set ${N.localSet6} dst -j ${N.groupChain(B)}`));
  assert.ok(fwd.includes(`-m physdev --physdev-out vn_+ -m set ! --match-set ${N.localSet6} dst -j DROP`));
  assert.deepEqual(fwd.slice(-5), [
    '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    `-m physdev --physdev-in vn_+ -m set ! --match-set ${N.localSet6} dst -j ACCEPT`,
    `-m set --match-set ${N.groupSet6(A)} dst -j ${N.groupChain(A)}`,
    `-m set --match-set ${N.groupSet6(B)} dst -j ${N.groupChain(B)}`,
    `-m set --match-set ${N.localSet6} dst -j DROP`,
  ]);
});

test('control-plane guard for IPv6: to the cloud hosts\' IPv6 addresses and to this node, metadata through fd00:ec2::254 exempt', () => {
  const s = state({ clc6: 'fd00:172:31::2' });
  const cp = words(chain6(s, N.filterForward)).find((r) => r.includes('multiport'));
  assert.equal(cp, `-p tcp -m physdev --physdev-in vn_+ -m set --match-set ${N.hostsSet6} dst -m multiport --dports 8770,8773:8775,9770:9776 -m conntrack ! --ctorigdst fd00:ec2::254 -j DROP`);
  assert.ok(words(chain6(s, N.filterInput)).some((r) => r.includes('--dports') && r.includes('! --ctorigdst fd00:ec2::254')));
  assert.equal(words(chain6(state({}, { controlPlanePorts: '' }), N.filterForward)).some((r) => r.includes('multiport')), false);
});

test('IPv6 metadata: DNAT [fd00:ec2::254]:80 to METADATA_IPV6, else clc-address, at METADATA_PORT; neither: no nat6 and a warning', () => {
  const pre = (s: DesiredState) => words(s.ip6tables.nat.chains.find((c) => c.name === N.natPre));
  assert.deepEqual(pre(state({ clc6: 'fd00:172:31::2' })), ['-d fd00:ec2::254/128 -p tcp -m tcp --dport 80 -j DNAT --to-destination [fd00:172:31::2]:8773']);
  assert.deepEqual(pre(state({ clc6: 'fd00:172:31::2' }, { metadataIpv6: '2001:db8::9', metadataPort: 8080 })), ['-d fd00:ec2::254/128 -p tcp -m tcp --dport 80 -j DNAT --to-destination [2001:db8::9]:8080']);
  const none = state();
  assert.deepEqual(none.ip6tables.nat, { chains: [], hooks: [] });
  assert.ok(none.warnings.some((w) => w.startsWith('no IPv6 metadata target')));
  // No SNAT or DNAT of instance addresses in IPv6.
  const withClc = state({ clc6: 'fd00:172:31::2' });
  assert.deepEqual(withClc.ip6tables.nat.hooks.map((h) => h.builtin), ['PREROUTING']);
});

test('ebtables from a dual-stack instance: RA, redirect and DHCPv6 server traffic dropped, :: only for ICMPv6, its global and link-local sources accepted, before the final DROP', () => {
  const s = state();
  const from = words(ebChain(s, N.instanceFromChain('i-00000001')));
  const v6 = from.filter((r) => r.startsWith('-p IPv6'));
  assert.deepEqual(v6, [
    '-p IPv6 --ip6-proto ipv6-icmp --ip6-icmp-type router-advertisement -j DROP',
    '-p IPv6 --ip6-proto ipv6-icmp --ip6-icmp-type redirect -j DROP',
    '-p IPv6 --ip6-proto udp --ip6-sport 547 -j DROP',
    '-p IPv6 --ip6-proto udp --ip6-dport 546 -j DROP',
    '-p IPv6 --ip6-src :: --ip6-proto ipv6-icmp -j ACCEPT',
    `-p IPv6 --ip6-src ${eui(MAC1)} -j ACCEPT`,
    `-p IPv6 --ip6-src ${ll(MAC1)} -j ACCEPT`,
  ]);
  assert.equal(from.at(-1), '-j DROP');
  assert.equal(from[0], `-s ! ${MAC1} -j DROP`, 'the MAC check still comes first');
  const to = words(ebChain(s, N.instanceToChain('i-00000001')));
  assert.deepEqual(to.filter((r) => r.startsWith('-p IPv6')), [
    '-p IPv6 -s ! 02:00:00:00:00:01 --ip6-proto ipv6-icmp --ip6-icmp-type router-advertisement -j DROP',
    '-p IPv6 -s ! 02:00:00:00:00:01 --ip6-proto ipv6-icmp --ip6-icmp-type redirect -j DROP',
    '-p IPv6 --ip6-proto udp --ip6-sport 547 -j DROP',
    '-p IPv6 -j ACCEPT',
  ]);
  assert.equal(to.at(-1), '-j DROP');
});

test('an IPv4-only instance keeps exactly its IPv4-only ebtables chains; interfaces without rules are dropped whatever the ethertype', () => {
  const s = state();
  const v4 = state({ dualStack: false });
  for (const name of [N.instanceFromChain('i-00000002'), N.instanceToChain('i-00000002')]) assert.deepEqual(ebChain(s, name), ebChain(v4, name));
  assert.equal(words(ebChain(s, N.ebPre)).at(-1), '-i vn_+ -j DROP');
  assert.equal(words(ebChain(s, N.ebPost)).at(-1), '-o vn_+ -j DROP');
});

test('bridge MAC unknown: no router advertisement reaches a dual-stack instance, with a warning', () => {
  const s = state({}, { ncRouter: false }, '');
  const to = words(ebChain(s, N.instanceToChain('i-00000001')));
  assert.ok(to.includes('-p IPv6 --ip6-proto ipv6-icmp --ip6-icmp-type router-advertisement -j DROP'));
  assert.ok(s.warnings.some((w) => w.includes('accept no router advertisement')));
});

test('ebtables filter OUTPUT: this node\'s RA and redirects never leave through a non-instance port', () => {
  const s = state();
  assert.deepEqual(s.ebtables.filter.hooks.map((h) => `${h.builtin}->${h.target}`), [`OUTPUT->${N.ebOut}`]);
  assert.deepEqual(words(s.ebtables.filter.chains[0]), [
    '-p IPv6 -o ! vn_+ --ip6-proto ipv6-icmp --ip6-icmp-type router-advertisement -j DROP',
    '-p IPv6 -o ! vn_+ --ip6-proto ipv6-icmp --ip6-icmp-type redirect -j DROP',
  ]);
});

test('render on its own (without sanitize) keeps a bad prefix or instance address out, with warnings', () => {
  const bad = doc();
  const withPrefix = (p: string): GniDocument => ({
    ...bad,
    configuration: { ...bad.configuration, clusters: bad.configuration.clusters.map((c) => ({ ...c, extensions: [clusterIpv6Extension({ prefix: p, dnsServers: [] })] })) },
  });
  const r = render(withPrefix('2001:db8:10::/48'), { node: '10.0.0.21' }, DEFAULT_NETD_CONFIG, { bridgeMac: '02:00:00:00:00:01' });
  assert.ok(r.ok);
  assert.deepEqual(r.state.ip6tables.filter.chains, []);
  assert.ok(r.state.warnings.some((w) => w.includes('rendered IPv4-only')));
  const other = withPrefix('2001:db8:20::/64');
  const r2 = render(other, { node: '10.0.0.21' }, DEFAULT_NETD_CONFIG, { bridgeMac: '02:00:00:00:00:01' });
  assert.ok(r2.ok);
  assert.equal(r2.state.instances[0]?.ipv6, undefined, 'an address outside the prefix is not laid down');
  assert.ok(r2.state.warnings.some((w) => w.includes('i-00000001') && w.includes('outside')));
});
