/**
 * netd's ROUTED render (issue 17; modes/routed.ts, render/routed-*.ts): the
 * DesiredState of ipv4-only, ipv6-only and dual-stack clusters, elastic
 * addresses, two instances on one node, a node without instances; what is
 * absent (bridge, NAT of instance addresses, ebtables, DHCP); the
 * anti-spoofing chain; render failures. Sanitize's ROUTED refusals are in
 * render-routed-sanitize.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import { renderRoutedWith, routedMode, type RoutedBgpInput } from '../../../src/netd/modes/routed.ts';
import { iptablesRestoreText, ip6tablesRestoreText } from '../../../src/netd/netfilter/iptables.ts';
import { render } from '../../../src/netd/render/render.ts';
import { renderUntrusted } from '../../../src/netd/render/sanitize.ts';
import type { DesiredState, IpRule, NetfilterTable, SupervisedProcess } from '../../../src/netd/render/types.ts';
import { ROUTED_NODE, ROUTED_NODE2, eui64, routedDoc, type RoutedDocSpec } from '../../helpers/routed-doc.ts';
import { checkInvariants } from '../../golden/netd/invariants.ts';

const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE };
const A = { id: 'i-a0000001', mac: 'd0:0d:a0:00:00:01', ipv4: '10.50.0.11', ipv6: true } as const;
const B = { id: 'i-a0000002', mac: 'd0:0d:a0:00:00:02', ipv4: '10.50.0.12', ipv6: true, elastic: '10.60.0.3' } as const;
const R = { id: 'i-b0000001', mac: 'd0:0d:b0:00:00:01', ipv4: '10.50.0.21', ipv6: true, node: ROUTED_NODE2 } as const;

function state(spec: RoutedDocSpec, config: NetdConfig = CONFIG): DesiredState {
  const r = render(routedDoc(spec), { node: ROUTED_NODE }, config, {});
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(checkInvariants(r.state, config.prefix), [], 'structural invariants');
  return r.state;
}

const chain = (t: NetfilterTable<IpRule>, name: string) => t.chains.find((c) => c.name === name);
const allText = (s: DesiredState) => [
  iptablesRestoreText('filter', s.iptables.filter), iptablesRestoreText('nat', s.iptables.nat),
  ip6tablesRestoreText('filter', s.ip6tables.filter), ip6tablesRestoreText('nat', s.ip6tables.nat),
].join('\n');
const set = (s: DesiredState, name: string) => s.ipsets.find((x) => x.name === name);

test('dual stack, two instances on the node (one elastic): ports, gateways, sysctls, no bridge, no NAT of instance addresses', () => {
  const s = state({ instances: [B, A, R] });
  assert.equal(s.bridge, undefined);
  assert.deepEqual(s.bridgeRoutes, []);
  assert.equal(s.proxyArp, undefined);
  assert.equal(s.gateway, '169.254.0.1');
  assert.deepEqual(s.sysctls, [{ key: 'net.ipv4.ip_forward', value: '1' }, { key: 'net.ipv6.conf.all.forwarding', value: '1' }]);
  assert.deepEqual(s.routed, {
    gatewayIpv4: '169.254.0.1',
    gatewayIpv6: 'fe80::1',
    ports: [
      { instance: A.id, interface: 'vn_i-a0000001', instanceMac: A.mac, hostMac: 'fe:ff:ff:ff:ff:ff', addresses: ['10.50.0.11/32', `${eui64(A.mac)}/128`] },
      { instance: B.id, interface: 'vn_i-a0000002', instanceMac: B.mac, hostMac: 'fe:ff:ff:ff:ff:ff', addresses: ['10.50.0.12/32', '10.60.0.3/32', `${eui64(B.mac)}/128`] },
    ],
  });
  assert.deepEqual(s.instances.map((i) => [i.id, i.privateIp, i.publicIp]), [[A.id, '10.50.0.11', undefined], [B.id, '10.50.0.12', '10.60.0.3']]);
  // Elastic addresses are routed to the instance: never on a node interface, never translated.
  assert.deepEqual(s.publicAddresses.addresses, []);
  assert.deepEqual(s.ebtables, { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } });
  assert.deepEqual(s.iptables.nat.chains.map((c) => [c.name, c.rules.map((r) => r.target.kind)]), [['EDGENET-PRE', ['dnat']]]);
  assert.deepEqual(s.iptables.nat.chains[0]!.rules[0]!.target, { kind: 'dnat', address: '172.31.0.2', port: 8773 });
  assert.deepEqual(s.ip6tables.nat.chains.map((c) => c.rules.map((r) => r.target)), [[{ kind: 'dnat', address: 'fd00:172:31::2', port: 8773 }]]);
  assert.doesNotMatch(allText(s), /physdev|SNAT|MASQUERADE|ALLPRIV/);
  assert.equal(set(s, 'EDGENET-ALLPRIV'), undefined);
  assert.deepEqual(set(s, 'EDGENET-LOCAL')?.members, ['10.50.0.11', '10.50.0.12', '10.60.0.3']);
  assert.deepEqual(set(s, 'EDGENET-LOCAL-6')?.members, [eui64(A.mac), eui64(B.mac)]);
  // The group set is cloud-wide: the remote instance R is a member.
  assert.deepEqual(set(s, 'EDGENET-sg-0000000a')?.members, ['10.50.0.11', '10.50.0.12', '10.50.0.21', '10.60.0.3']);
  assert.deepEqual(s.configDrives?.map((d) => [d.instance, d.files.map((f) => f.name)]), [[A.id, ['meta-data', 'network-config']], [B.id, ['meta-data', 'network-config']]]);
});

test('the instance ports are matched by -i/-o: dispatch, per-port guard, control plane, ND (nothing is bridged)', () => {
  const s = state({ instances: [A, B] });
  const fwd = iptablesRestoreText('filter', s.iptables.filter);
  assert.match(fwd, /-A EDGENET-FWD -i vn_\+ -m set ! --match-set EDGENET-LOCAL dst .*-j ACCEPT/);
  assert.match(fwd, /-A EDGENET-FWD -o vn_i-a0000001 -m set ! --match-set EDGENET-LOCAL dst .*-j EDGENET-sg-0000000a/);
  assert.match(fwd, /-A EDGENET-IN -p tcp -i vn_\+|-A EDGENET-IN -i vn_\+ -p tcp/);
  const fwd6 = ip6tablesRestoreText('filter', s.ip6tables.filter);
  assert.match(fwd6, /-A EDGENET-ND -i vn_i-a0000001 -p ipv6-icmp -m icmp6 --icmpv6-type 136 .*-j RETURN/);
});

test('anti-spoofing: first in FORWARD and INPUT, per port its routed addresses, IPv6 link-local and DAD, then DROP', () => {
  const s = state({ instances: [A, B] });
  for (const t of [s.iptables.filter, s.ip6tables.filter]) {
    for (const name of ['EDGENET-FWD', 'EDGENET-IN']) {
      // <P>-FWD: after the drop of a local source from outside (the test below), which matches no instance port.
      const first = chain(t, name)?.rules[name === 'EDGENET-FWD' ? 1 : 0];
      assert.deepEqual(first?.matches, [{ kind: 'iface', dir: 'in', name: 'vn_+' }], `${name} starts with the anti-spoofing jump`);
      assert.deepEqual(first?.target, { kind: 'jump', chain: 'EDGENET-SPOOF' });
    }
  }
  function rules(t: NetfilterTable<IpRule>): string[][] {
    const word = (m: IpRule['matches'][number]): string => {
      if (m.kind === 'iface') return m.name;
      if (m.kind === 'addr') return m.cidr;
      if (m.kind === 'icmp') return `icmp ${m.type}`;
      if (m.kind === 'proto') return `proto ${String(m.proto)}`;
      return m.kind;
    };
    return (chain(t, 'EDGENET-SPOOF')?.rules ?? []).map((r) => [r.matches.map(word).join(' '), r.target.kind]);
  }
  assert.deepEqual(rules(s.iptables.filter), [
    ['vn_i-a0000001 10.50.0.11/32', 'return'],
    ['vn_i-a0000002 10.50.0.12/32', 'return'],
    ['vn_i-a0000002 10.60.0.3/32', 'return'],
    ['', 'drop'],
  ]);
  // IPv6: per port its own link-local (EUI-64 of its MAC) and :: for DAD; no other link-local source (fe80::1 is the gateway's).
  assert.deepEqual(rules(s.ip6tables.filter), [
    [`vn_i-a0000001 ${eui64(A.mac)}/128`, 'return'],
    [`vn_i-a0000001 ${eui64(A.mac, 'fe80::/64')}/128`, 'return'],
    ['vn_i-a0000001 ::/128 proto icmp icmp 135', 'return'],
    [`vn_i-a0000002 ${eui64(B.mac)}/128`, 'return'],
    [`vn_i-a0000002 ${eui64(B.mac, 'fe80::/64')}/128`, 'return'],
    ['vn_i-a0000002 ::/128 proto icmp icmp 135', 'return'],
    ['', 'drop'],
  ]);
  assert.equal(eui64(A.mac, 'fe80::/64'), 'fe80::d20d:a0ff:fe00:1');
  assert.equal(rules(s.ip6tables.filter).some(([m]) => m!.includes('fe80::/10') || m === '::/128 proto icmp icmp 135'), false, 'no link-local or DAD source admitted from every port');
});

test('a local instance\'s address as source from anywhere but an instance port is dropped first in <P>-FWD (both families)', () => {
  const s = state({ instances: [A, B] });
  for (const [t, set6, text] of [
    [s.iptables.filter, 'EDGENET-LOCAL', iptablesRestoreText('filter', s.iptables.filter)],
    [s.ip6tables.filter, 'EDGENET-LOCAL-6', ip6tablesRestoreText('filter', s.ip6tables.filter)],
  ] as const) {
    const first = chain(t, 'EDGENET-FWD')?.rules[0];
    assert.deepEqual(first?.matches, [{ kind: 'iface', dir: 'in', name: 'vn_+', negate: true }, { kind: 'set', set: set6, dir: 'src' }]);
    assert.deepEqual(first?.target, { kind: 'drop' });
    assert.ok(text.includes(`-A EDGENET-FWD ! -i vn_+ -m set --match-set ${set6} src -m comment --comment "a local instance address as source, not from an instance port (forged)" -j DROP`), text);
  }
  // The sets hold own and elastic addresses (IPv4) and the routed IPv6 ones.
  assert.deepEqual(set(s, 'EDGENET-LOCAL')?.members, ['10.50.0.11', '10.50.0.12', '10.60.0.3']);
  assert.deepEqual(set(s, 'EDGENET-LOCAL-6')?.members, [eui64(A.mac), eui64(B.mac)]);
});

test('the node\'s BGP port: dropped from every instance port in <P>-IN of both families, right after the anti-spoofing jump', () => {
  const s = state({ instances: [A, B] });
  for (const [t, text] of [[s.iptables.filter, iptablesRestoreText('filter', s.iptables.filter)], [s.ip6tables.filter, ip6tablesRestoreText('filter', s.ip6tables.filter)]] as const) {
    const second = chain(t, 'EDGENET-IN')?.rules[1];
    assert.deepEqual(second?.matches, [{ kind: 'iface', dir: 'in', name: 'vn_+' }, { kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: 179, hi: 179 } }]);
    assert.deepEqual(second?.target, { kind: 'drop' });
    assert.match(text, /-A EDGENET-IN -i vn_\+ -p tcp -m tcp --dport 179 -m comment --comment "an instance reaches no BGP speaker of this node" -j DROP/);
  }
});

test('ipv4-only cluster: no IPv6 anywhere (empty ip6tables, no inet6 set, no IPv6 gateway or forwarding)', () => {
  const s = state({ addressing: 'ipv4', instances: [{ ...A, ipv6: false }, { ...B, ipv6: false }] });
  assert.deepEqual(s.ip6tables, { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } });
  assert.equal(s.ipsets.some((x) => x.family === 'inet6'), false);
  assert.deepEqual(s.sysctls, [{ key: 'net.ipv4.ip_forward', value: '1' }]);
  assert.deepEqual(s.routed?.gatewayIpv6, undefined);
  assert.deepEqual(s.routed?.ports.map((p) => p.addresses), [['10.50.0.11/32'], ['10.50.0.12/32', '10.60.0.3/32']]);
});

test('ipv6-only cluster: instances without IPv4, no IPv4 gateway; an elastic address brings IPv4 (and the gateway) to its port', () => {
  const C = { id: 'i-c0000001', mac: 'd0:0d:c0:00:00:01', ipv6: true } as const;
  const s = state({ addressing: 'ipv6', instances: [C] });
  assert.equal(s.gateway, '');
  assert.deepEqual(s.routed, { gatewayIpv6: 'fe80::1', ports: [{ instance: C.id, interface: 'vn_i-c0000001', instanceMac: C.mac, hostMac: 'fe:ff:ff:ff:ff:ff', addresses: [`${eui64(C.mac)}/128`] }] });
  assert.equal(s.instances[0]?.privateIp, '', "'' is an instance without IPv4");
  assert.deepEqual(set(s, 'EDGENET-LOCAL')?.members, []);
  assert.deepEqual(chain(s.iptables.filter, 'EDGENET-SPOOF')!.rules.map((r) => r.target.kind), ['drop'], 'it may send no IPv4 at all');
  const network = JSON.parse(s.configDrives![0]!.files.find((f) => f.name === 'network-config')!.content) as { ethernets: { eth0: { addresses: string[] } } };
  assert.deepEqual(network.ethernets.eth0.addresses, [`${eui64(C.mac)}/128`]);

  const e = state({ addressing: 'ipv6', instances: [{ ...C, elastic: '10.60.0.5' }] });
  assert.equal(e.gateway, '169.254.0.1');
  assert.equal(e.routed?.gatewayIpv4, '169.254.0.1');
  assert.deepEqual(e.routed?.ports[0]?.addresses, ['10.60.0.5/32', `${eui64(C.mac)}/128`]);
});

test('a node without instances: no ports, no drives, the tables still whole (metadata DNAT, anti-spoofing drops everything from vn_+)', () => {
  const s = state({ instances: [R] });
  assert.deepEqual(s.routed, { gatewayIpv4: '169.254.0.1', gatewayIpv6: 'fe80::1', ports: [] });
  assert.deepEqual(s.configDrives, []);
  assert.deepEqual(s.instances, []);
  assert.deepEqual(chain(s.iptables.filter, 'EDGENET-SPOOF')?.rules.map((r) => r.target.kind), ['drop']);
  assert.equal(s.iptables.nat.chains.length, 1);
});

test('processes: dhcpd and radvd must not run; the BGP speaker entry comes from its renderer with exactly the local prefixes, sorted by kind', () => {
  const s = state({ instances: [A, B] });
  assert.deepEqual(s.processes.map((p) => [p.kind, p.run]), [['bird', true], ['dhcpd', false], ['radvd', false]]);
  assert.deepEqual(s.processes.filter((p) => p.kind !== 'bird').map((p) => p.files.length), [0, 0]);
  const conf = s.processes[0]!.files.find((f) => f.name === 'bird.conf')?.content ?? '';
  assert.match(conf, /route 10\.60\.0\.3\/32 via "vn_i-a0000002";/, 'the elastic address is announced via its port');
  assert.doesNotMatch(conf, /10\.50\.0\.21/, 'a remote instance is never announced');
  const seen: RoutedBgpInput[] = [];
  const speaker = (input: RoutedBgpInput): SupervisedProcess => {
    seen.push(input);
    return { kind: 'bird', run: true, interfaces: [], files: [{ name: 'bird.conf', content: input.ports.flatMap((p) => p.addresses).join('\n') }], reload: { kind: 'signal', signal: 'SIGHUP' }, summary: 'test' };
  };
  const withBird = renderRoutedWith({ doc: routedDoc({ instances: [A, B, R] }), node: ROUTED_NODE, config: CONFIG, host: {} }, { bgpSpeaker: speaker });
  assert.deepEqual(withBird.processes.map((p) => p.kind), ['bird', 'dhcpd', 'radvd']);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.node, ROUTED_NODE);
  assert.equal(seen[0]?.addressing, 'dual');
  assert.equal(seen[0]?.bgp?.localAs, '65001');
  assert.deepEqual(seen[0]?.bgp?.peers, ['172.31.0.1 65000']);
  assert.deepEqual(seen[0]?.ports, [
    { interface: 'vn_i-a0000001', addresses: ['10.50.0.11/32', `${eui64(A.mac)}/128`] },
    { interface: 'vn_i-a0000002', addresses: ['10.50.0.12/32', '10.60.0.3/32', `${eui64(B.mac)}/128`] },
  ], 'exactly the local ports, not the remote instance R');
});

test('render failures: a cluster whose addressing is missing or disagrees, gateways an instance cannot use, two local instances with one address', () => {
  const fail = (doc: ReturnType<typeof routedDoc>) => {
    const r = render(doc, { node: ROUTED_NODE }, CONFIG, {});
    assert.equal(r.ok, false);
    return r.ok ? '' : r.code;
  };
  const base = routedDoc({ instances: [A] });
  const cluster = base.configuration.clusters[0]!;
  const withCluster = (c: typeof cluster) => ({ ...base, configuration: { ...base.configuration, clusters: [c] } });
  assert.equal(fail(withCluster({ ...cluster, extensions: cluster.extensions!.filter((e) => e.name !== 'routed') })), 'ROUTED_CLUSTER_INVALID');
  assert.equal(fail(withCluster({ ...cluster, privateIps: [] })), 'ROUTED_CLUSTER_INVALID', 'dual without an IPv4 pool');
  assert.equal(fail(withCluster({ ...cluster, extensions: cluster.extensions!.filter((e) => e.name !== 'ipv6') })), 'ROUTED_CLUSTER_INVALID', 'dual without a prefix');
  assert.equal(fail(routedDoc({ addressing: 'ipv4', instances: [A], gateways: { ipv4: '224.0.0.1', ipv6: 'fe80::1' } })), 'ROUTED_GATEWAY_INVALID');
  assert.equal(fail(routedDoc({ instances: [A], gateways: { ipv4: '169.254.0.1', ipv6: '2001:db8::1' } })), 'ROUTED_GATEWAY_INVALID');
  assert.equal(fail(routedDoc({ instances: [A, { ...B, ipv4: A.ipv4 }] })), 'CONFLICTING_INSTANCES');
  const node = cluster.nodes[0]!;
  const badBgp = { ...node, extensions: [{ name: 'bgp', properties: [{ name: 'local-as', values: ['x'] }, { name: 'peers', values: ['172.31.0.1 65000'] }] }] };
  assert.equal(fail(withCluster({ ...cluster, nodes: [badBgp, ...cluster.nodes.slice(1)] })), 'ROUTED_BGP_INVALID', 'render/bird.ts checks the node bgp settings');
  assert.equal(fail(routedDoc({ instances: [{ ...A, elastic: B.elastic }, B] })), 'CONFLICTING_INSTANCES', 'one elastic address twice');
});

test('render alone never widens: a local instance whose addresses fail is skipped with a warning', () => {
  const s = state({ instances: [A, { ...B, ipv4: '10.99.0.1' }] });
  assert.deepEqual(s.routed?.ports.map((p) => p.instance), [A.id]);
  assert.ok(s.warnings.some((w) => w.includes(B.id) && w.includes('outside the pool')), JSON.stringify(s.warnings));
});

test('a valid ROUTED document passes sanitize untouched and renders as render() does; the registry dispatches ROUTED to routedMode', () => {
  const doc = routedDoc({ instances: [A, B, R] });
  const u = renderUntrusted(doc, { node: ROUTED_NODE }, CONFIG, {});
  const r = render(doc, { node: ROUTED_NODE }, CONFIG, {});
  assert.ok(u.ok && r.ok);
  assert.equal(u.state.refused, undefined);
  assert.deepEqual(u.state, r.state);
  assert.deepEqual(r.state, routedMode.render({ doc, node: ROUTED_NODE, config: CONFIG, host: {} }));
});

test('render alone skips a local instance with a multicast or zero MAC (no permanent neighbour with such an lladdr)', () => {
  for (const mac of ['01:00:5e:00:00:01', '00:00:00:00:00:00']) {
    const r = render(routedDoc({ instances: [A, { ...B, mac, ipv6: false, elastic: undefined }], addressing: 'ipv4' }), { node: ROUTED_NODE }, CONFIG, {});
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.state.routed?.ports.map((p) => p.instance), [A.id], mac);
    assert.ok(r.state.warnings.some((w) => w.includes(`${B.id} has no valid unicast MAC`)), JSON.stringify(r.state.warnings));
  }
});
