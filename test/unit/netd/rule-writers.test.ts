/**
 * The typed rule model and its writers: the ipv4 writer gives exactly the
 * words netd wrote before rules were typed (the golden files and the kernel
 * echo depend on them), the ipv6 writer spells ip6tables (icmpv6, ::/0,
 * [v6]:port), every writer refuses a rule or address of another family, and
 * the invariant checker reads the typed targets (a dangling jump is caught).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BridgeRule, IpMatch, IpRule, IpTarget, NetfilterTable } from '../../../src/netd/netfilter/index.ts';
import {
  ACCEPT, bridgeRule, DROP, ebtablesRestoreText, ebtablesRuleLine, ip6tablesRestoreText, ipRule, iptablesRestoreText, iptablesRuleLine, jump, ruleArgs,
} from '../../../src/netd/netfilter/index.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { checkTable } from '../../golden/netd/invariants.ts';

const v4 = (matches: readonly IpMatch[], target: IpTarget = ACCEPT): IpRule => ipRule('ipv4', { matches, target, comment: 'c' });
const v6 = (matches: readonly IpMatch[], target: IpTarget = ACCEPT): IpRule => ipRule('ipv6', { matches, target, comment: 'c' });

test('ipv4 writer: the words of every match and target the renderers use, in iptables-save order', () => {
  const cases: [IpRule, string][] = [
    [v4([{ kind: 'set', set: 'EN-sg-a', dir: 'src' }]), '-m set --match-set EN-sg-a src -j ACCEPT'],
    [v4([{ kind: 'set', set: 'EN-LOCAL', dir: 'dst', negate: true }, { kind: 'physdev', dir: 'in', name: 'vn_+' }]), '-m set ! --match-set EN-LOCAL dst -m physdev --physdev-in vn_+ -j ACCEPT'],
    // Header options come first whatever the list order; extensions keep theirs.
    [v4([{ kind: 'set', set: 'EN-sg-b', dir: 'src' }, { kind: 'dport', proto: 'tcp', ports: { lo: 22, hi: 80 } }, { kind: 'proto', proto: 'tcp' }]), '-p tcp -m set --match-set EN-sg-b src -m tcp --dport 22:80 -j ACCEPT'],
    [v4([{ kind: 'proto', proto: 'udp' }, { kind: 'dport', proto: 'udp', ports: { lo: 53, hi: 53 } }, { kind: 'addr', dir: 'src', cidr: '10.0.0.0/8' }]), '-s 10.0.0.0/8 -p udp -m udp --dport 53 -j ACCEPT'],
    [v4([{ kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: 3, code: 4 }]), '-p icmp -m icmp --icmp-type 3/4 -j ACCEPT'],
    [v4([{ kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: 8 }]), '-p icmp -m icmp --icmp-type 8 -j ACCEPT'],
    [v4([{ kind: 'proto', proto: 132 }]), '-p 132 -j ACCEPT'],
    [v4([{ kind: 'ctstate', states: ['RELATED', 'ESTABLISHED'] }]), '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'],
    [
      v4([
        { kind: 'proto', proto: 'tcp' }, { kind: 'physdev', dir: 'in', name: 'vn_+' }, { kind: 'set', set: 'EN-HOSTS', dir: 'dst' },
        { kind: 'multiport', ports: [{ lo: 8770, hi: 8770 }, { lo: 8773, hi: 8775 }] }, { kind: 'ctorigdst', address: '169.254.169.254', negate: true },
      ], DROP),
      '-p tcp -m physdev --physdev-in vn_+ -m set --match-set EN-HOSTS dst -m multiport --dports 8770,8773:8775 -m conntrack ! --ctorigdst 169.254.169.254 -j DROP',
    ],
    [v4([{ kind: 'physdev', dir: 'out', name: 'vn_i-1' }], jump('EN-sg-a')), '-m physdev --physdev-out vn_i-1 -j EN-sg-a'],
    [v4([{ kind: 'addr', dir: 'src', cidr: '10.0.0.5/32' }, { kind: 'mark', mark: '0x2a', negate: true }], { kind: 'snat', address: '203.0.113.5' }), '-s 10.0.0.5/32 -m mark ! --mark 0x2a -j SNAT --to-source 203.0.113.5'],
    [v4([{ kind: 'addr', dir: 'dst', cidr: '203.0.113.5/32' }], { kind: 'dnat', address: '10.0.0.5' }), '-d 203.0.113.5/32 -j DNAT --to-destination 10.0.0.5'],
    [v4([{ kind: 'proto', proto: 'tcp' }, { kind: 'addr', dir: 'dst', cidr: '169.254.169.254/32' }], { kind: 'dnat', address: '10.0.0.1', port: 8773 }), '-d 169.254.169.254/32 -p tcp -j DNAT --to-destination 10.0.0.1:8773'],
    [v4([{ kind: 'addr', dir: 'src', cidr: '10.0.0.0/16' }], { kind: 'set-mark', mark: '0x2a', mask: '0xffffffff' }), '-s 10.0.0.0/16 -j MARK --set-xmark 0x2a/0xffffffff'],
    // NC_PROXY (eucanetd 4.4 do_edge_update_eips): `-s <net>/<len> -m mark ! --mark 0x2a -j MASQUERADE`.
    [v4([{ kind: 'addr', dir: 'src', cidr: '10.0.0.0/16' }, { kind: 'mark', mark: '0x2a', negate: true }], { kind: 'masquerade' }), '-s 10.0.0.0/16 -m mark ! --mark 0x2a -j MASQUERADE'],
    [v4([{ kind: 'addr', dir: 'src', cidr: '10.0.0.0/8', negate: true }, { kind: 'iface', dir: 'out', name: 'eth0' }, { kind: 'iface', dir: 'in', name: 'br0' }], { kind: 'return' }), '! -s 10.0.0.0/8 -i br0 -o eth0 -j RETURN'],
  ];
  for (const [rule, words] of cases) assert.equal(ruleArgs(rule).join(' '), words);
  // The comment goes right before the target, quoted when it must be.
  assert.equal(
    iptablesRuleLine('EN-PRE', ipRule('ipv4', { matches: [{ kind: 'addr', dir: 'dst', cidr: '1.2.3.4/32' }], target: { kind: 'dnat', address: '10.0.0.5' }, comment: 'public IP of i-1' })),
    '-A EN-PRE -d 1.2.3.4/32 -m comment --comment "public IP of i-1" -j DNAT --to-destination 10.0.0.5',
  );
});

test('ipv6 writer: ip6tables spelling of the same model', () => {
  const cases: [IpRule, string][] = [
    [v6([{ kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: 128 }]), '-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT'],
    [v6([{ kind: 'proto', proto: 'icmp' }, { kind: 'icmp', type: 1, code: 4 }]), '-p ipv6-icmp -m icmp6 --icmpv6-type 1/4 -j ACCEPT'],
    [v6([{ kind: 'proto', proto: 58 }]), '-p ipv6-icmp -j ACCEPT'],
    [v6([{ kind: 'addr', dir: 'src', cidr: '::/0' }, { kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: 22, hi: 22 } }]), '-s ::/0 -p tcp -m tcp --dport 22 -j ACCEPT'],
    [v6([{ kind: 'addr', dir: 'dst', cidr: '2001:db8::5/128' }], { kind: 'dnat', address: 'fd00::5', port: 8773 }), '-d 2001:db8::5/128 -j DNAT --to-destination [fd00::5]:8773'],
    [v6([{ kind: 'set', set: 'EN-sg-a6', dir: 'src' }]), '-m set --match-set EN-sg-a6 src -j ACCEPT'],
  ];
  for (const [rule, words] of cases) assert.equal(ruleArgs(rule).join(' '), words);
  const table: NetfilterTable = { chains: [{ name: 'EN-sg-a', rules: [cases[0]![0]] }], hooks: [] };
  assert.equal(ip6tablesRestoreText('filter', table), '*filter\n:EN-sg-a - [0:0]\n-A EN-sg-a -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment --comment c -j ACCEPT\nCOMMIT\n');
});

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof EdgenetError && e.code === 'RULE_FAMILY_MISMATCH' && message.test(e.message));
}

test('writers refuse a rule or an address of another family, naming it', () => {
  refused(() => ruleArgs(v6([{ kind: 'addr', dir: 'src', cidr: '10.0.0.0/8' }])), /ipv6 rule cannot hold the IPv4 source 10\.0\.0\.0\/8/);
  refused(() => ruleArgs(v4([{ kind: 'addr', dir: 'dst', cidr: '2001:db8::/32' }])), /ipv4 rule cannot hold the IPv6 destination 2001:db8::\/32/);
  refused(() => ruleArgs(v6([], { kind: 'snat', address: '203.0.113.5' })), /IPv4 SNAT address/);
  refused(() => ruleArgs(v4([{ kind: 'ctorigdst', address: 'fd00::1' }])), /IPv6 conntrack original destination/);
  const v6table: NetfilterTable = { chains: [{ name: 'EN-X', rules: [v6([])] }], hooks: [] };
  refused(() => iptablesRestoreText('filter', v6table), /iptables-restore text cannot hold the ipv6 rule in chain EN-X/);
  const v4table: NetfilterTable = { chains: [{ name: 'EN-X', rules: [v4([])] }], hooks: [] };
  refused(() => ip6tablesRestoreText('filter', v4table), /ip6tables-restore text cannot hold the ipv4 rule in chain EN-X/);
  refused(() => ebtablesRestoreText('nat', v4table), /ebtables-restore text cannot hold the ipv4 rule in chain EN-X/);
  refused(() => iptablesRuleLine('EN-X', bridgeRule([], DROP, 'c')), /bridge/);
  refused(() => ruleArgs(bridgeRule([{ kind: 'ip-addr', dir: 'src', address: 'fd00::1' }], DROP, 'c')), /--ip-src match is IPv4 only/);
});

test('ebtables writer: the words of the clean-traffic rules, in ebtables-save order', () => {
  const mac = '02:00:00:00:00:05';
  const cases: [BridgeRule, string][] = [
    [bridgeRule([{ kind: 'mac', dir: 'src', mac, negate: true }], DROP, 'c'), `-s ! ${mac} -j DROP`],
    [bridgeRule([{ kind: 'ethertype', type: 'IPv4' }, { kind: 'ip-addr', dir: 'src', address: '0.0.0.0' }, { kind: 'ip-proto', proto: 'udp' }, { kind: 'ip-port', dir: 'dst', port: 67 }], ACCEPT, 'c'),
      '-p IPv4 --ip-src 0.0.0.0 --ip-proto udp --ip-dport 67 -j ACCEPT'],
    // Header options first (-p -s -d -i -o); the broadcast MAC as ebtables-save prints it.
    [bridgeRule([{ kind: 'ip-proto', proto: 'udp' }, { kind: 'mac', dir: 'dst', mac: 'ff:ff:ff:ff:ff:ff' }, { kind: 'ethertype', type: 'IPv4' }, { kind: 'mac', dir: 'src', mac }], ACCEPT, 'c'),
      `-p IPv4 -s ${mac} -d Broadcast --ip-proto udp -j ACCEPT`],
    [bridgeRule([{ kind: 'ethertype', type: 'ARP' }, { kind: 'iface', dir: 'in', name: 'vn_+' }, { kind: 'arp-op', op: 'Request' }, { kind: 'arp-ip', dir: 'dst', address: '10.0.0.1' }], { kind: 'arpreply', mac }, 'c'),
      `-p ARP -i vn_+ --arp-op Request --arp-ip-dst 10.0.0.1 -j arpreply --arpreply-mac ${mac}`],
    [bridgeRule([{ kind: 'ethertype', type: 'ARP' }, { kind: 'arp-mac', dir: 'src', mac, negate: true }], DROP, 'c'), `-p ARP --arp-mac-src ! ${mac} -j DROP`],
    [bridgeRule([{ kind: 'iface', dir: 'out', name: 'vn_i-1' }], jump('EN-O-i-1'), 'c'), '-o vn_i-1 -j EN-O-i-1'],
  ];
  for (const [rule, words] of cases) assert.equal(ruleArgs(rule).join(' '), words);
  assert.equal(ebtablesRuleLine('EN-EB-POST', cases[5]![0]), '-A EN-EB-POST -o vn_i-1 -j EN-O-i-1');
});

test('invariant checker reads typed targets: a dangling jump, an unused chain and a foreign family are caught', () => {
  const opts = { family: 'ipv4', prefix: 'EN', maxName: 28, sets: new Map([['EN-LOCAL', 'inet'], ['EN-LOCAL-6', 'inet6']] as const) } as const;
  const good: NetfilterTable = {
    chains: [
      { name: 'EN-FWD', rules: [v4([{ kind: 'set', set: 'EN-LOCAL', dir: 'dst' }], jump('EN-sg-a'))] },
      { name: 'EN-sg-a', rules: [v4([])] },
    ],
    hooks: [{ family: 'ipv4', builtin: 'FORWARD', matches: [], target: 'EN-FWD', comment: 'hook' }],
  };
  assert.deepEqual(checkTable('iptables filter', good, opts), []);
  const dangling: NetfilterTable = { ...good, chains: [{ name: 'EN-FWD', rules: [v4([], jump('EN-sg-gone'))] }, good.chains[1]!] };
  assert.deepEqual(checkTable('iptables filter', dangling, opts), [
    'iptables filter: EN-FWD[0] jumps to EN-sg-gone, which is not declared',
    'iptables filter: chain EN-sg-a is declared but never jumped to or hooked',
  ]);
  const foreign: NetfilterTable = { ...good, chains: [good.chains[0]!, { name: 'EN-sg-a', rules: [v6([{ kind: 'set', set: 'EN-NOPE', dir: 'src' }])] }] };
  assert.deepEqual(checkTable('iptables filter', foreign, opts), [
    'iptables filter: EN-sg-a[0] is an ipv6 rule in an ipv4 table',
    'iptables filter: EN-sg-a[0] matches set EN-NOPE, which is not rendered',
  ]);
  // A set of the other family: the kernel refuses the rule, so the checker does too, both ways.
  const v6set: NetfilterTable = { ...good, chains: [{ name: 'EN-FWD', rules: [v4([{ kind: 'set', set: 'EN-LOCAL-6', dir: 'dst' }], jump('EN-sg-a'))] }, good.chains[1]!] };
  assert.deepEqual(checkTable('iptables filter', v6set, opts), ['iptables filter: EN-FWD[0] matches inet6 set EN-LOCAL-6 from an ipv4 table']);
  const six: NetfilterTable = {
    chains: [{ name: 'EN-FWD6', rules: [v6([{ kind: 'set', set: 'EN-LOCAL', dir: 'src' }])] }],
    hooks: [{ family: 'ipv6', builtin: 'FORWARD', matches: [], target: 'EN-FWD6', comment: 'hook' }],
  };
  assert.deepEqual(checkTable('ip6tables filter', six, { ...opts, family: 'ipv6' }), ['ip6tables filter: EN-FWD6[0] matches inet set EN-LOCAL from an ipv6 table']);
});
