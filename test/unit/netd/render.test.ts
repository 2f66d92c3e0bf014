/**
 * Render logic asserted on values (rules as data), not on text: the golden
 * scenarios cover the text. Each test builds a small document by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GniDocument, GniInstance, GniRule, GniSecurityGroup } from '../../../src/shared/gni/model.ts';
import type { NetdConfig } from '../../../src/netd/config.ts';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import { IPSET_NAME_MAX, IPTABLES_CHAIN_MAX, netdNames } from '../../../src/netd/names.ts';
import { findSelf, render } from '../../../src/netd/render/render.ts';
import type { Chain, DesiredState, HostFacts, Rule } from '../../../src/netd/render/types.ts';
import { ruleArgs } from '../../../src/netd/netfilter/rule-args.ts';
import { checkInvariants } from '../../golden/netd/invariants.ts';

const NODE = '10.0.0.21';
const HOST: HostFacts = { bridgeMac: '02:00:00:00:00:01', bridgeAddresses: ['10.10.0.2/16'] };

function inst(name: string, privateIp: string, groups: string[], extra: Partial<GniInstance> = {}): GniInstance {
  const n = Number(privateIp.split('.').at(-1));
  return { name, ownerId: '1', macAddress: `d0:0d:00:00:00:${n.toString(16).padStart(2, '0')}`, privateIp, securityGroups: groups, ...extra };
}
function group(name: string, rules: GniRule[]): GniSecurityGroup {
  return { name, ownerId: '1', ingressRules: rules };
}
function doc(opts: { local: GniInstance[]; remote?: GniInstance[]; groups?: GniSecurityGroup[] }): GniDocument {
  const remote = opts.remote ?? [];
  return {
    version: 'v1',
    sequence: 3,
    configuration: {
      mode: 'EDGE', publicIps: ['203.0.113.10-203.0.113.20'], enabledClcIp: '10.0.0.5', instanceDnsDomain: 'eucalyptus.internal',
      instanceDnsServers: ['10.0.0.2'], subnets: [{ name: 's', subnet: '192.168.50.0', netmask: '255.255.255.0', gateway: '192.168.50.1' }],
      clusters: [{
        name: 'zone-a', subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' }, macPrefix: 'd0:0d',
        privateIps: ['10.10.1.2-10.10.2.254'],
        nodes: [{ name: NODE, instanceIds: opts.local.map((i) => i.name) }, { name: '10.0.0.22', instanceIds: remote.map((i) => i.name) }],
      }],
    },
    instances: [...opts.local, ...remote],
    securityGroups: opts.groups ?? [],
  };
}
function ok(d: GniDocument, config: Partial<NetdConfig> = {}, host: HostFacts = HOST): DesiredState {
  const r = render(d, { node: NODE }, { ...DEFAULT_NETD_CONFIG, ...config }, host);
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.message}`);
  assert.deepEqual(checkInvariants(r.state, config.prefix ?? 'EDGENET'), []);
  return r.state;
}
function chain(chains: readonly Chain[], name: string): readonly Rule[] {
  const c = chains.find((x) => x.name === name);
  assert.ok(c, `chain ${name} rendered`);
  return c.rules;
}
const args = (rules: readonly Rule[]) => rules.map((r) => ruleArgs(r).join(' '));
const N = netdNames('EDGENET');

test('only instances listed under this node are local; members are cloud-wide', () => {
  const s = ok(doc({
    local: [inst('i-1', '10.10.1.5', ['sg-a'])],
    remote: [inst('i-2', '10.10.2.5', ['sg-a'], { publicIp: '203.0.113.12' })],
    groups: [group('sg-a', [])],
  }));
  assert.deepEqual(s.instances.map((i) => [i.id, i.interface, i.privateIp]), [['i-1', 'vn_i-1', '10.10.1.5']]);
  assert.deepEqual(s.ipsets.find((x) => x.name === N.localSet)?.members, ['10.10.1.5']);
  assert.deepEqual(s.ipsets.find((x) => x.name === N.groupSet('sg-a'))?.members, ['10.10.1.5', '10.10.2.5', '203.0.113.12']);
  assert.equal(s.cluster, 'zone-a');
  assert.equal(s.sequence, 3);
});

test('FWD: established first, egress from local VMs, dispatch per local group, final drop to local instances', () => {
  const s = ok(doc({ local: [inst('i-1', '10.10.1.5', ['sg-b', 'sg-a'])], groups: [group('sg-a', []), group('sg-b', [])] }));
  const fwd = chain(s.iptables.filter.chains, N.filterForward);
  assert.deepEqual(args(fwd), [
    '-p tcp -m physdev --physdev-in vn_+ -m set --match-set EDGENET-HOSTS dst -m multiport --dports 8770,8773:8775,9770:9776 -m conntrack ! --ctorigdst 169.254.169.254 -j DROP',
    '-m physdev --physdev-out vn_i-1 -m set ! --match-set EDGENET-LOCAL dst -j EDGENET-sg-a',
    '-m physdev --physdev-out vn_i-1 -m set ! --match-set EDGENET-LOCAL dst -j EDGENET-sg-b',
    '-m physdev --physdev-out vn_+ -m set ! --match-set EDGENET-LOCAL dst -j DROP',
    '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-m physdev --physdev-in vn_+ -m set ! --match-set EDGENET-LOCAL dst -j ACCEPT',
    '-m set --match-set EDGENET-sg-a dst -j EDGENET-sg-a',
    '-m set --match-set EDGENET-sg-b dst -j EDGENET-sg-b',
    '-m set --match-set EDGENET-LOCAL dst -j DROP',
  ]);
  assert.deepEqual(s.iptables.filter.hooks.map((h) => [h.builtin, h.target]), [['FORWARD', N.filterForward], ['INPUT', N.filterInput]]);
});

test('group chain: same group, CIDR sources, group sources, port ranges, icmp, other protocols', () => {
  const rules: GniRule[] = [
    { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' },
    { protocol: 6, fromPort: 8000, toPort: 8080, cidr: '10.1.0.0/16' },
    { protocol: 17, fromPort: 53, toPort: 53, groupId: 'sg-000000d5', groupOwnerId: '1' },
    { protocol: 6, fromPort: 0, toPort: 65535, cidr: '192.0.2.7' },
    { protocol: 6, fromPort: 0, toPort: 0, cidr: '192.0.2.8/32' },
    { protocol: 1, icmpType: 8, icmpCode: -1, cidr: '0.0.0.0/0' },
    { protocol: 1, icmpType: 3, icmpCode: 4, cidr: '0.0.0.0/0' },
    { protocol: 1, icmpType: -1, icmpCode: -1, cidr: '0.0.0.0/0' },
    { protocol: 132, cidr: '10.20.0.0/16' },
  ];
  const s = ok(doc({ local: [inst('i-1', '10.10.1.5', ['sg-a'])], remote: [inst('i-9', '10.10.2.9', ['sg-000000d5'])], groups: [group('sg-a', rules)] }));
  assert.deepEqual(args(chain(s.iptables.filter.chains, N.groupChain('sg-a'))), [
    '-m set --match-set EDGENET-sg-a src -j ACCEPT',
    '-p tcp -m tcp --dport 22 -j ACCEPT',
    '-s 10.1.0.0/16 -p tcp -m tcp --dport 8000:8080 -j ACCEPT',
    '-p udp -m set --match-set EDGENET-sg-000000d5 src -m udp --dport 53 -j ACCEPT',
    '-s 192.0.2.7/32 -p tcp -j ACCEPT',
    // port 0 is port 0, not "every port" (issue 11 class 1)
    '-s 192.0.2.8/32 -p tcp -m tcp --dport 0 -j ACCEPT',
    '-p icmp -m icmp --icmp-type 8 -j ACCEPT',
    '-p icmp -m icmp --icmp-type 3/4 -j ACCEPT',
    '-p icmp -j ACCEPT',
    '-s 10.20.0.0/16 -p 132 -j ACCEPT',
  ]);
  // The referenced group gets a set (members cloud-wide) but no chain: no local member.
  assert.deepEqual(s.ipsets.find((x) => x.name === N.groupSet('sg-000000d5'))?.members, ['10.10.2.9']);
  assert.equal(s.iptables.filter.chains.some((c) => c.name === N.groupChain('sg-000000d5')), false);
  for (const r of chain(s.iptables.filter.chains, N.groupChain('sg-a'))) assert.match(r.comment, /^sg-a: /);
});

test('a rule that cannot be rendered exactly is skipped with a warning naming its reason, the others stay (issue 11 class 1)', () => {
  const s = ok(doc({
    local: [inst('i-1', '10.10.1.5', ['sg-a'])],
    groups: [group('sg-a', [
      { protocol: 6, fromPort: 90, toPort: 80, cidr: '0.0.0.0/0' },
      { protocol: 6, fromPort: 80, toPort: 80, cidr: 'bogus' },
      { protocol: 17, fromPort: 1, toPort: 2 },
      { protocol: -1, cidr: '198.51.100.0/24' },
      { protocol: 0, cidr: '198.51.100.0/24' },
      { protocol: 1, icmpType: 255, icmpCode: -1, cidr: '0.0.0.0/0' },
      { protocol: 1, icmpType: -1, icmpCode: 3, cidr: '0.0.0.0/0' },
      { protocol: 132, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
      { protocol: 6, fromPort: 80, toPort: 80, cidr: '10.1.2.3/16' },
      { protocol: 6, fromPort: 80, toPort: 80, groupId: 'sg-+' },
      { protocol: 17, fromPort: 1, toPort: 2, cidr: '0.0.0.0/0' },
    ])],
  }));
  assert.deepEqual(args(chain(s.iptables.filter.chains, N.groupChain('sg-a'))).slice(1), ['-p udp -m udp --dport 1:2 -j ACCEPT']);
  assert.deepEqual(s.warnings.map((w) => w.split(':')[0]), [
    'RULE_PORTS', 'RULE_CIDR', 'RULE_SOURCE', 'RULE_PROTOCOL', 'RULE_PROTOCOL', 'RULE_ICMP', 'RULE_ICMP', 'RULE_FIELD_NOT_APPLICABLE', 'RULE_CIDR', 'RULE_PEER_GROUP_ID',
  ]);
  assert.deepEqual(s.ipsets.map((x) => x.name).sort(), [N.allPrivateSet, N.localSet, N.hostsSet, N.groupSet('sg-a')].sort(), 'no set for a refused peer group');
});

test('nat: mark for private destinations, DNAT in PRE and OUT, SNAT unless marked, metadata last', () => {
  const s = ok(doc({ local: [inst('i-1', '10.10.1.5', ['sg-a'], { publicIp: '203.0.113.11' }), inst('i-2', '10.10.1.6', ['sg-a'], { publicIp: '10.10.1.6' })], groups: [group('sg-a', [])] }));
  const nat = s.iptables.nat.chains;
  assert.deepEqual(args(chain(nat, N.natPre)), [
    '-s 10.10.0.0/16 -m set --match-set EDGENET-ALLPRIV dst -j MARK --set-xmark 0x2a/0xffffffff',
    '-d 203.0.113.11/32 -j DNAT --to-destination 10.10.1.5',
    '-d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.5:8773',
  ]);
  assert.deepEqual(args(chain(nat, N.natOut)), ['-d 203.0.113.11/32 -j DNAT --to-destination 10.10.1.5']);
  assert.deepEqual(args(chain(nat, N.natPost)), ['-s 10.10.1.5/32 -m mark ! --mark 0x2a -j SNAT --to-source 203.0.113.11']);
  assert.deepEqual(s.iptables.nat.hooks.map((h) => [h.builtin, h.target]), [['PREROUTING', N.natPre], ['OUTPUT', N.natOut], ['POSTROUTING', N.natPost]]);
  assert.deepEqual(s.publicAddresses, { interface: '', addresses: ['203.0.113.11/32'], pool: ['203.0.113.10-203.0.113.20'] });
  assert.deepEqual(s.ipsets.find((x) => x.name === N.allPrivateSet)?.members, ['10.10.0.0/16', '192.168.50.0/24']);
});

test('METADATA_IP/PORT override the target; METADATA_USE_VM_PRIVATE marks metadata traffic', () => {
  const s = ok(doc({ local: [inst('i-1', '10.10.1.5', [])] }), { metadataIp: '10.0.0.99', metadataPort: 8080, metadataUseVmPrivate: true });
  const pre = args(chain(s.iptables.nat.chains, N.natPre));
  assert.ok(pre.includes('-s 10.10.0.0/16 -d 169.254.169.254/32 -j MARK --set-xmark 0x2a/0xffffffff'));
  assert.equal(pre.at(-1), '-d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.99:8080');
});

test('EUCA-11083: a CIDR covering a local public IP also admits that instance by private source, unmarked', () => {
  const s = ok(doc({
    local: [inst('i-1', '10.10.1.5', ['sg-a'], { publicIp: '203.0.113.11' }), inst('i-2', '10.10.1.6', ['sg-a'])],
    groups: [group('sg-a', [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '203.0.113.0/24' }])],
  }));
  assert.deepEqual(args(chain(s.iptables.filter.chains, N.groupChain('sg-a'))).slice(1), [
    '-s 203.0.113.0/24 -p tcp -m tcp --dport 80 -j ACCEPT',
    '-s 10.10.1.5/32 -p tcp -m mark ! --mark 0x2a -m tcp --dport 80 -j ACCEPT',
  ]);
});

test('ebtables: clean-traffic per instance, default drop for vn_+, fake router with the bridge MAC', () => {
  const s = ok(doc({ local: [inst('i-1', '10.10.1.5', [])] }));
  const nat = s.ebtables.nat.chains;
  assert.deepEqual(args(chain(nat, N.ebPre)), ['-i vn_i-1 -j EDGENET-I-i-1', '-i vn_+ -j DROP']);
  assert.deepEqual(args(chain(nat, N.ebPost)), ['-o vn_i-1 -j EDGENET-O-i-1', '-o vn_+ -j DROP']);
  const from = args(chain(nat, N.instanceFromChain('i-1')));
  const mac = 'd0:0d:00:00:00:05';
  assert.equal(from[0], `-s ! ${mac} -j DROP`);
  assert.ok(from.indexOf('-p IPv4 --ip-proto udp --ip-sport 67 -j DROP') < from.indexOf('-p IPv4 -j ACCEPT'), 'no DHCP server before IPv4 accept');
  assert.ok(from.includes('-p IPv4 --ip-src 0.0.0.0 --ip-proto udp --ip-dport 67 -j ACCEPT'));
  assert.ok(from.indexOf('-p IPv4 --ip-src ! 10.10.1.5 -j DROP') < from.indexOf('-p IPv4 -j ACCEPT'));
  assert.ok(from.includes(`-p ARP --arp-mac-src ! ${mac} -j DROP`));
  assert.ok(from.includes('-p ARP --arp-ip-src ! 10.10.1.5 -j DROP'));
  assert.ok(from.indexOf('-p ARP --arp-op Request --arp-ip-dst 10.10.0.1 -j arpreply --arpreply-mac 02:00:00:00:00:01') > from.indexOf('-p ARP --arp-ip-src ! 10.10.1.5 -j DROP'), 'fake router after the ARP sender checks');
  assert.equal(from.at(-1), '-j DROP');
  const to = args(chain(nat, N.instanceToChain('i-1')));
  assert.equal(to[0], `-p IPv4 -d ${mac} --ip-proto udp --ip-sport 67 --ip-dport 68 -j ACCEPT`);
  assert.ok(to.includes('-p IPv4 -s 02:00:00:00:00:01 -d Broadcast --ip-proto udp --ip-sport 67 --ip-dport 68 -j ACCEPT'));
  assert.ok(to.includes(`-p ARP --arp-op Reply --arp-mac-dst ! ${mac} -j DROP`));
  assert.ok(to.includes('-p ARP --arp-ip-dst ! 10.10.1.5 -j DROP'));
  assert.equal(to.at(-1), '-j DROP');
  assert.deepEqual(s.ebtables.nat.hooks.map((h) => [h.builtin, h.target]), [['PREROUTING', N.ebPre], ['POSTROUTING', N.ebPost]]);
});

test('DISABLE_L2_ISOLATION=Y keeps only the fake-router ARP reply', () => {
  const s = ok(doc({ local: [inst('i-1', '10.10.1.5', [])] }), { disableL2Isolation: true });
  assert.deepEqual(s.ebtables.nat.chains.map((c) => [c.name, args(c.rules)]), [
    [N.ebPre, ['-p ARP -i vn_+ --arp-op Request --arp-ip-dst 10.10.0.1 -j arpreply --arpreply-mac 02:00:00:00:00:01']],
    [N.ebPost, []],
  ]);
});

test('NC_ROUTER variants choose the gateway and the fake router', () => {
  const d = doc({ local: [inst('i-1', '10.10.1.5', [])] });
  const arp = (s: DesiredState) => s.ebtables.nat.chains.some((c) => c.rules.some((r) => r.target.kind === 'arpreply'));
  const n = ok(d, { ncRouter: false }, {});
  assert.equal(n.gateway, '10.10.0.1');
  assert.equal(arp(n), false);
  const fake = ok(d, {});
  assert.equal(fake.gateway, '10.10.0.1');
  assert.equal(arp(fake), true);
  const ip = ok(d, { ncRouterIp: '10.10.0.254' }, {});
  assert.equal(ip.gateway, '10.10.0.254');
  assert.equal(arp(ip), false);
  assert.match(dhcpdConf(ip), /option routers 10\.10\.0\.254;/);
  const auto = ok(d, { ncRouterIp: 'AUTO' }, { bridgeAddresses: ['192.0.2.1/24', '10.10.0.2/16'] });
  assert.equal(auto.gateway, '10.10.0.2');
  const missing = render(d, { node: NODE }, { ...DEFAULT_NETD_CONFIG, ncRouterIp: 'AUTO' }, { bridgeAddresses: ['192.0.2.1/24'] });
  assert.deepEqual(missing.ok ? 'ok' : missing.code, 'NO_BRIDGE_ADDRESS_IN_SUBNET');
  const noMac = render(d, { node: NODE }, DEFAULT_NETD_CONFIG, {});
  assert.deepEqual(noMac.ok ? 'ok' : noMac.code, 'BRIDGE_MAC_UNKNOWN');
  const fromConfig = ok(d, { bridgeMac: '02:00:00:00:00:99' }, {});
  assert.ok(fromConfig.ebtables.nat.chains.some((c) => c.rules.some((r) => r.target.kind === 'arpreply' && r.target.mac === '02:00:00:00:00:99')));
});

/** The dhcpd entry of the supervised processes. */
function dhcpd(s: DesiredState) {
  const p = s.processes.find((x) => x.kind === 'dhcpd');
  assert.ok(p, 'a dhcpd entry');
  return p;
}

function dhcpdConf(s: DesiredState): string {
  const f = dhcpd(s).files.find((x) => x.name === 'dhcpd.conf');
  assert.ok(f, 'dhcpd.conf');
  return f.content;
}

test('dhcpd: one host per local instance, subnet options, must not run without instances', () => {
  const s = ok(doc({ local: [inst('i-2', '10.10.1.6', []), inst('i-1', '10.10.1.5', [])] }));
  assert.deepEqual(s.processes.map((p) => p.kind), ['dhcpd', 'radvd']);
  assert.equal(dhcpd(s).run, true);
  assert.equal(dhcpd(s).summary, '2 hosts');
  assert.deepEqual(dhcpd(s).interfaces, ['br0']);
  assert.deepEqual(dhcpd(s).reload, { kind: 'restart' });
  const hosts = [...dhcpdConf(s).matchAll(/host (\S+) \{\n {2}hardware ethernet (\S+);\n {2}fixed-address (\S+);/g)].map((m) => m.slice(1));
  assert.deepEqual(hosts, [['i-1', 'd0:0d:00:00:00:05', '10.10.1.5'], ['i-2', 'd0:0d:00:00:00:06', '10.10.1.6']]);
  for (const line of ['subnet 10.10.0.0 netmask 255.255.0.0 {', 'option subnet-mask 255.255.0.0;', 'option broadcast-address 10.10.255.255;', 'option routers 10.10.0.1;', 'option domain-name "eucalyptus.internal";', 'option domain-name-servers 10.0.0.2;', 'ddns-update-style none;', 'authoritative;']) {
    assert.ok(dhcpdConf(s).includes(line), line);
  }
  const empty = ok(doc({ local: [] }), {}, {});
  assert.equal(dhcpd(empty).run, false);
  assert.equal(dhcpd(empty).summary, '0 hosts: dhcpd must not run');
  assert.doesNotMatch(dhcpdConf(empty), /^host /m);
  assert.deepEqual(empty.instances, []);
  assert.deepEqual(empty.ipsets.find((x) => x.name === N.localSet)?.members, []);
});

test('bridge, sysctls and public interface come from the config', () => {
  const s = ok(doc({ local: [] }), { bridge: 'br9', privateInterface: 'eth7', publicInterface: 'eth8' }, {});
  assert.deepEqual(s.bridge, { name: 'br9', members: ['eth7'] });
  assert.deepEqual(s.sysctls, [{ key: 'net.ipv4.ip_forward', value: '1' }, { key: 'net.bridge.bridge-nf-call-iptables', value: '1' }]);
  assert.equal(s.publicAddresses.interface, 'eth8');
});

test('instances without a MAC, without a record or with a too long interface name are skipped with warnings', () => {
  const d = doc({ local: [inst('i-1', '10.10.1.5', []), { ...inst('i-2', '10.10.1.6', []), macAddress: undefined }, inst('i-0123456789abcdef0', '10.10.1.7', [])] });
  const withGhost: GniDocument = { ...d, configuration: { ...d.configuration, clusters: [{ ...d.configuration.clusters[0]!, nodes: [{ name: NODE, instanceIds: ['i-1', 'i-2', 'i-0123456789abcdef0', 'i-ghost'] }] }] } };
  const s = ok(withGhost);
  assert.deepEqual(s.instances.map((i) => i.id), ['i-1']);
  assert.equal(s.warnings.length, 3);
});

test('conflicting local instances fail the render', () => {
  const r = render(doc({ local: [inst('i-1', '10.10.1.5', []), { ...inst('i-2', '10.10.1.5', []), macAddress: 'd0:0d:00:00:00:77' }] }), { node: NODE }, DEFAULT_NETD_CONFIG, HOST);
  assert.equal(r.ok ? 'ok' : r.code, 'CONFLICTING_INSTANCES');
});

test('a node not in the document is an error, not an empty state', () => {
  const r = render(doc({ local: [] }), { node: '10.9.9.9' }, DEFAULT_NETD_CONFIG, HOST);
  assert.equal(r.ok ? 'ok' : r.code, 'NOT_IN_DOCUMENT');
});

test('render is pure: frozen input, equal output, input untouched', () => {
  const d = doc({ local: [inst('i-1', '10.10.1.5', ['sg-a'], { publicIp: '203.0.113.11' })], groups: [group('sg-a', [{ protocol: 6, fromPort: 1, toPort: 2, cidr: '0.0.0.0/0' }])] });
  const before = JSON.stringify(d);
  const deepFreeze = (o: unknown): void => { if (o && typeof o === 'object') { Object.freeze(o); for (const v of Object.values(o)) deepFreeze(v); } };
  deepFreeze(d);
  const a = render(d, { node: NODE }, DEFAULT_NETD_CONFIG, HOST);
  const b = render(d, { node: NODE }, DEFAULT_NETD_CONFIG, HOST);
  assert.deepEqual(a, b);
  assert.equal(JSON.stringify(d), before);
});

test('the prefix is configurable and every name carries it', () => {
  const s = ok(doc({ local: [inst('i-1', '10.10.1.5', ['sg-a'])], groups: [group('sg-a', [])] }), { prefix: 'XY' });
  assert.deepEqual(s.iptables.filter.chains.map((c) => c.name), ['XY-FWD', 'XY-IN', 'XY-sg-a']);
  assert.deepEqual(s.ipsets.map((x) => x.name), ['XY-ALLPRIV', 'XY-LOCAL', 'XY-HOSTS', 'XY-sg-a']);
});

test('names: long ids are hashed to fit, deterministically and distinctly; isOurs', () => {
  const n = netdNames('EDGENET');
  assert.equal(n.groupChain('sg-0a0b0c0d'), 'EDGENET-sg-0a0b0c0d');
  const long1 = n.groupChain('sg-0123456789abcdef0123');
  const long2 = n.groupChain('sg-0123456789abcdef0124');
  assert.ok(long1.length <= IPTABLES_CHAIN_MAX && long1.startsWith('EDGENET-h'));
  assert.notEqual(long1, long2);
  assert.equal(n.groupChain('sg-0123456789abcdef0123'), long1);
  assert.ok(n.groupSet('x'.repeat(60)).length <= IPSET_NAME_MAX);
  assert.ok(n.isOurs('EDGENET-FWD'));
  assert.ok(!n.isOurs('EDGENETX-FWD'));
  assert.ok(!n.isOurs('KUBE-SERVICES'));
  assert.throws(() => netdNames('bad-prefix'));
});

test('findSelf: configured name wins; else a node named by a local address', () => {
  const d = doc({ local: [] });
  assert.equal(findSelf(d, { configuredName: '10.0.0.22', localAddresses: ['10.0.0.21'] }), '10.0.0.22');
  assert.equal(findSelf(d, { configuredName: 'nope', localAddresses: ['10.0.0.21'] }), undefined);
  assert.equal(findSelf(d, { localAddresses: ['127.0.0.1/8', '10.0.0.21/24'] }), '10.0.0.21');
  assert.equal(findSelf(d, { localAddresses: ['192.0.2.1'] }), undefined);
});
