/**
 * sanitize (render/sanitize.ts) on the document's `ipv6` extension (issue 14):
 * one row per IPv6 refusal code, what is left out (only the IPv6 of an
 * instance; the cluster's IPv6; one name server; one rule), and that a clean
 * dual-stack document passes untouched. render/ipv6-checks.ts's predicates on
 * their own at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GniExtension } from '../../../src/shared/gni/extension.ts';
import {
  clusterIpv6, clusterIpv6Extension, configurationIpv6, configurationIpv6Extension, formatRuleString, groupIpv6Extension, groupIpv6Rules, instanceIpv6,
  instanceIpv6Extension,
} from '../../../src/shared/gni/ipv6.ts';
import type { GniDocument, GniRule } from '../../../src/shared/gni/model.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../../../src/shared/ip.ts';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import { checkClusterPrefix, checkInstanceAddress, unicastIpv6 } from '../../../src/netd/render/ipv6-checks.ts';
import { renderUntrusted, sanitizeGni } from '../../../src/netd/render/sanitize.ts';

const PREFIX = '2001:db8:10::/64';
const MAC1 = 'd0:0d:00:00:00:01';
const MAC2 = 'd0:0d:00:00:00:02';
const eui = (mac: string, prefix = PREFIX): string => formatIpv6(slaacAddress(parseCidr6(prefix)!, mac)!);
const G = 'sg-0000000a';

interface Edit {
  readonly prefix?: string;
  readonly dns?: readonly string[];
  readonly clc6?: string;
  readonly addr1?: string;
  readonly rules?: readonly GniRule[];
  /** Raw rule strings for the group's ipv6 extension (overrides `rules6`). */
  readonly raw6?: readonly string[];
  readonly rules6?: readonly GniRule[];
}

function doc(e: Edit = {}): GniDocument {
  const groupExt: GniExtension | undefined = e.raw6 !== undefined
    ? { name: 'ipv6', properties: [{ name: 'ingress-rules', values: [...e.raw6] }] }
    : groupIpv6Extension(e.rules6 ?? [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '::/0' }]);
  return {
    version: 'v1', sequence: 1,
    configuration: {
      mode: 'EDGE', publicIps: [], enabledClcIp: '10.0.0.5', instanceDnsServers: [], subnets: [],
      clusters: [{
        name: 'a', subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' }, enabledCcIp: '10.0.0.6', macPrefix: 'd0:0d',
        privateIps: ['10.10.1.2-10.10.2.254'], nodes: [{ name: '10.0.0.21', instanceIds: ['i-00000001', 'i-00000002'] }],
        extensions: [clusterIpv6Extension({ prefix: e.prefix ?? PREFIX, dnsServers: [...(e.dns ?? ['2001:db8:10::53'])] })],
      }],
      extensions: [configurationIpv6Extension(e.clc6 ?? 'fd00:172:31::2')],
    },
    instances: [
      { name: 'i-00000001', ownerId: '1', macAddress: MAC1, privateIp: '10.10.1.5', securityGroups: [G], extensions: [instanceIpv6Extension(e.addr1 ?? eui(MAC1))] },
      { name: 'i-00000002', ownerId: '1', macAddress: MAC2, privateIp: '10.10.1.6', securityGroups: [G], extensions: [instanceIpv6Extension(eui(MAC2))] },
    ],
    securityGroups: [{ name: G, ownerId: '1', ingressRules: [...(e.rules ?? [])], ...(groupExt === undefined ? {} : { extensions: [groupExt] }) }],
  } as GniDocument;
}

const refused = (d: GniDocument) => sanitizeGni(d).refusals.map((r) => [r.code, r.subject]);

test('a clean dual-stack document passes untouched (same object)', () => {
  const d = doc();
  const s = sanitizeGni(d);
  assert.deepEqual(s.refusals, []);
  assert.equal(s.doc, d);
});

test('CLUSTER_IPV6_PREFIX_INVALID: not a /64, unaligned, link-local, multicast, outside 2000::/3 and fc00::/7, the metadata /64; the cluster is left IPv4-only and its instances lose their IPv6', () => {
  for (const p of ['2001:db8:10::/48', '2001:db8:10::1/64', 'fe80::/64', 'ff02::/64', '4000::/64', 'fd00:ec2::/64', 'nonsense']) {
    const d = doc({ prefix: p });
    const s = sanitizeGni(d);
    assert.deepEqual(s.refusals.map((r) => r.code), ['CLUSTER_IPV6_PREFIX_INVALID', 'INSTANCE_IPV6_OUTSIDE_PREFIX', 'INSTANCE_IPV6_OUTSIDE_PREFIX'], p);
    assert.equal(clusterIpv6(s.doc.configuration.clusters[0]!), undefined, p);
    assert.equal(s.doc.instances.every((i) => instanceIpv6(i) === undefined), true);
    assert.equal(s.doc.instances.length, 2, 'instances keep IPv4');
  }
  for (const p of ['2001:db8:10::/64', 'fd12:3456:789a:1::/64', '2001:DB8:10:0::/64']) assert.deepEqual(refused(doc({ prefix: p, addr1: eui(MAC1, p.toLowerCase()) })).filter(([c]) => c === 'CLUSTER_IPV6_PREFIX_INVALID'), [], p);
});

test('CLUSTER_IPV6_DNS_NOT_UNICAST: each bad name server is left out, the good ones and the prefix stay', () => {
  const s = sanitizeGni(doc({ dns: ['fe80::53', '2001:db8:10::53', 'ff02::1', '::1', 'x'] }));
  assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [
    ['CLUSTER_IPV6_DNS_NOT_UNICAST', 'cluster a dns-server "fe80::53"'],
    ['CLUSTER_IPV6_DNS_NOT_UNICAST', 'cluster a dns-server "ff02::1"'],
    ['CLUSTER_IPV6_DNS_NOT_UNICAST', 'cluster a dns-server "::1"'],
    ['CLUSTER_IPV6_DNS_NOT_UNICAST', 'cluster a dns-server "x"'],
  ]);
  assert.deepEqual(clusterIpv6(s.doc.configuration.clusters[0]!), { prefix: PREFIX, dnsServers: ['2001:db8:10::53'] });
});

test('CLC_IPV6_NOT_UNICAST: the clc-address is left out (no IPv6 metadata DNAT), the IPv4 CLC address stays', () => {
  for (const a of ['ff02::1', 'fe80::1', '::', '::ffff:10.0.0.5', 'not-an-address']) {
    const s = sanitizeGni(doc({ clc6: a }));
    assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [['CLC_IPV6_NOT_UNICAST', 'clc-address']], a);
    assert.equal(configurationIpv6(s.doc.configuration), undefined);
    assert.equal(s.doc.configuration.enabledClcIp, '10.0.0.5');
  }
});

test('INSTANCE_IPV6_OUTSIDE_PREFIX and INSTANCE_IPV6_NOT_EUI64: only that instance\'s IPv6 is left out; it keeps IPv4 and its groups', () => {
  const cases: [string, string][] = [
    ['2001:db8:99::d20d:ff:fe00:1', 'INSTANCE_IPV6_OUTSIDE_PREFIX'],
    ['2001:db8:10::1', 'INSTANCE_IPV6_NOT_EUI64'],
    [eui(MAC2), 'INSTANCE_IPV6_NOT_EUI64'], // another instance's EUI-64 address
    ['garbage', 'INSTANCE_IPV6_NOT_EUI64'],
  ];
  for (const [addr, code] of cases) {
    const s = sanitizeGni(doc({ addr1: addr }));
    assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [[code, 'instance "i-00000001" ipv6']], addr);
    const i1 = s.doc.instances.find((i) => i.name === 'i-00000001')!;
    assert.equal(instanceIpv6(i1), undefined);
    assert.equal(i1.privateIp, '10.10.1.5');
    assert.deepEqual(i1.securityGroups, [G]);
    assert.equal(instanceIpv6(s.doc.instances.find((i) => i.name === 'i-00000002')!), eui(MAC2), 'the other instance is untouched');
  }
});

test('IPv6 rules: unreadable strings, inexact rules (checkRule codes) and rules in the wrong family\'s list are left out; the good ones stay', () => {
  const good = formatRuleString({ protocol: 6, fromPort: 22, toPort: 22, cidr: '::/0' });
  const s = sanitizeGni(doc({
    raw6: [
      good,
      'garbage',
      formatRuleString({ protocol: 6, fromPort: 80, toPort: 80, cidr: '192.0.2.0/24' }),
      formatRuleString({ protocol: 58, icmpType: 128, icmpCode: -1, cidr: '2001:db8::1/32' }),
      formatRuleString({ protocol: 1, icmpType: 8, icmpCode: -1, cidr: '2001:db8::/32' }),
      formatRuleString({ protocol: 58, icmpType: -1, icmpCode: 3, cidr: '::/0' }),
    ],
    rules: [{ protocol: 58, icmpType: 128, icmpCode: -1, groupId: G, groupOwnerId: '1' }],
  }));
  assert.deepEqual(s.refusals.map((r) => r.code), ['RULE_MISPLACED', 'IPV6_RULE_UNREADABLE', 'RULE_MISPLACED', 'RULE_CIDR', 'RULE_FAMILY', 'RULE_ICMP']);
  assert.equal(s.refusals[0]?.subject, `group ${G} rule 0`);
  assert.equal(s.refusals[2]?.subject, `group ${G} ipv6 rule "-P 6 -p 80-80 -s 192.0.2.0/24"`);
  const g = s.doc.securityGroups[0]!;
  assert.deepEqual(groupIpv6Rules(g), { rules: [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '::/0' }], unreadable: [] });
  assert.deepEqual(g.ingressRules, []);
});

test('renderUntrusted: refusals in the state and as warnings; the rest renders (an instance without IPv6 keeps its IPv4 rules)', () => {
  const r = renderUntrusted(doc({ addr1: '2001:db8:10::1' }), { node: '10.0.0.21' }, DEFAULT_NETD_CONFIG, { bridgeMac: '02:00:00:00:00:01' }, { hostAddresses: ['10.10.0.2/16'] });
  assert.ok(r.ok);
  assert.deepEqual(r.state.refused?.map((x) => x.code), ['INSTANCE_IPV6_NOT_EUI64']);
  assert.ok(r.state.warnings[0]?.startsWith('INSTANCE_IPV6_NOT_EUI64: instance "i-00000001" ipv6'));
  assert.deepEqual(r.state.instances.map((i) => [i.id, i.privateIp, i.ipv6]), [['i-00000001', '10.10.1.5', undefined], ['i-00000002', '10.10.1.6', eui(MAC2)]]);
  assert.deepEqual(r.state.ipsets.find((x) => x.name === 'EDGENET-LOCAL-6')?.members, [eui(MAC2)]);
});

test('ipv6-checks: the predicates sanitize and render share', () => {
  assert.deepEqual(checkClusterPrefix('2001:DB8:10::/64'), { ok: true, prefix: parseCidr6(PREFIX), text: PREFIX });
  assert.equal(checkClusterPrefix('2001:db8:10::/65').ok, false);
  assert.equal(unicastIpv6('2001:DB8::0001'), '2001:db8::1');
  for (const bad of ['::', '::1', 'fe80::1', 'ff02::1', '::ffff:192.0.2.1', '10.0.0.1']) assert.equal(unicastIpv6(bad), undefined, bad);
  const p = parseCidr6(PREFIX)!;
  assert.deepEqual(checkInstanceAddress(eui(MAC1).toUpperCase(), p, MAC1), { ok: true, address: eui(MAC1) });
  assert.equal((checkInstanceAddress(eui(MAC1), undefined, MAC1) as { reason: string }).reason, 'outside-prefix');
  assert.equal((checkInstanceAddress(eui(MAC1), p, undefined) as { reason: string }).reason, 'not-eui64');
});
