/**
 * `edgenet import gni` and a group's `ipv6` extension (issue 14): the
 * IPv6-only rules an edgenet document carries there are imported like
 * `ingressRules` and come back in the CLC's document in the same place (the
 * round trip, through XML on both sides); rule strings that do not read,
 * rules netd refuses and rules in the other family's list are left out with
 * a warning, as netd leaves them out. IPv6 CIDRs are stored in the API's
 * spelling, so a revoke through the API finds them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { planGniImport } from '../../../src/cloud-controller/import/gni-import-plan.ts';
import { importGni } from '../../../src/cloud-controller/import/import-gni.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { groupIpv6Rules, IPV6_EXTENSION } from '../../../src/shared/gni/ipv6.ts';
import type { GniDocument, GniSecurityGroup } from '../../../src/shared/gni/model.ts';
import { MULTI_CLUSTER, readDoc, withDatabase } from './fixtures.ts';

function withIpv6Rules(doc: GniDocument, group: string, ruleStrings: string[]): GniDocument {
  const securityGroups = doc.securityGroups.map((g): GniSecurityGroup => (g.name !== group ? g : { ...g, extensions: [{ name: IPV6_EXTENSION, properties: [{ name: 'ingress-rules', values: ruleStrings }] }] }));
  // Through XML, as a document arrives.
  return readDoc(serializeGni({ ...doc, securityGroups }));
}

test('import gni: a group\'s ipv6 extension rules round-trip; bad ones are left out with a warning', async () => {
  const doc = withIpv6Rules(readDoc(MULTI_CLUSTER), 'sg-000000a1', [
    '-P 6 -p 22-22 -s 2001:db8::/32',
    '-P 58 -t 128:-1 -o sg-000000a2 -u 000000000001',
    '-P 58 -t 135:0 -s 2001:DB8:0:1::/64', // not RFC 5952: stored and written back as 2001:db8:0:1::/64
    '-P 17 -p 53-53 -s fd00::1', // a bare address: /128
    '-P 6 -p 80-80 -s 10.0.0.0/8', // an IPv4 rule in the IPv6 list: netd does not lay it down
    '-P 1 -t 8:0 -s 2001:db8::/32', // icmp with an IPv6 source: RULE_FAMILY
    '-P 6 -p 22-22 -s 2001:db8::1/32', // host bits: RULE_CIDR
    'not a rule',
  ]);
  await withDatabase(async (file) => {
    const store = await Store.open(file);
    try {
      const plan = planGniImport(doc);
      assert.ok(plan.warnings.some((w) => w.startsWith('sg-000000a1: an ipv6 rule string that does not read') && w.includes('not a rule')), 'unreadable string reported');
      assert.ok(plan.warnings.some((w) => w.startsWith("sg-000000a1: a rule in the other family's list is left out")), 'misplaced rule reported');
      assert.ok(plan.warnings.some((w) => w.includes('RULE_FAMILY')), 'family mismatch reported');
      assert.ok(plan.warnings.some((w) => w.includes('RULE_CIDR')), 'host bits reported');
      const { summary } = await importGni(store, plan, { now: 1_700_000_000_000, previewClcIp: '10.0.0.5' });
      assert.ok(summary.warnings.length >= 4);
      const state = new CloudState({ store, clock: new FakeClock(), clcIp: '10.0.0.5' });
      const rebuilt = readDoc(serializeGni(buildGni(await state.snapshot({ full: true }), { sequence: 1 })));
      const a1 = rebuilt.securityGroups.find((g) => g.name === 'sg-000000a1');
      assert.ok(a1);
      assert.deepEqual(a1.ingressRules, doc.securityGroups.find((g) => g.name === 'sg-000000a1')?.ingressRules, 'ingressRules as they were');
      assert.deepEqual(a1.extensions?.map((e) => e.properties.map((p) => [p.name, p.values])), [[['ingress-rules', [
        '-P 6 -p 22-22 -s 2001:db8::/32',
        '-P 17 -p 53-53 -s fd00::1/128',
        '-P 58 -t 128:-1 -o sg-000000a2 -u 000000000001',
        '-P 58 -t 135:0 -s 2001:db8:0:1::/64',
      ]]]], 'the IPv6 rules come back in the extension, in the CLC\'s order and spelling');
      for (const g of rebuilt.securityGroups.filter((x) => x.name !== 'sg-000000a1')) assert.equal(g.extensions, undefined, `${g.name}: no IPv6 rules, no extension`);
      // Stored in the API's spelling: a revoke through the API finds the rule.
      await state.revoke('sg-000000a1', undefined, { protocol: 'icmpv6', icmp: '135:0', cidr: '2001:db8:0:1::/64' });
      await state.revoke('sg-000000a1', undefined, { protocol: 'udp', port: '53', cidr: 'fd00::1/128' });
      const after = buildGni(await state.snapshot({ full: true }));
      assert.equal(groupIpv6Rules(after.securityGroups.find((g) => g.name === 'sg-000000a1')!).rules.length, 2);
    } finally {
      await store.close();
    }
  });
});

test('import gni: a Eucalyptus document (no ipv6 extension) imports as before', async () => {
  const doc = readDoc(MULTI_CLUSTER);
  const plan = planGniImport(doc);
  assert.deepEqual(plan.warnings.filter((w) => /ipv6|other family/.test(w)), []);
  assert.deepEqual(plan.groups.find((g) => g.id === 'sg-000000a1')?.rules.length, 3);
});
