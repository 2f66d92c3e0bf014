/**
 * `edgenet import gni` of a dual-stack document (issue 14): the reconstructed
 * property gives each dual-stack cluster its Ipv6Prefix and Ipv6DnsServers
 * back (from the cluster's `ipv6` extension), so the CLC rebuilds the same
 * document — instance addresses included, which follow from the MACs — when
 * it runs with the document's clc-address as CLC_IPV6.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { planGniImport } from '../../../src/cloud-controller/import/gni-import-plan.ts';
import { reconstructProperty } from '../../../src/cloud-controller/import/reconstruct-property.ts';
import { importGni } from '../../../src/cloud-controller/import/import-gni.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { configurationIpv6 } from '../../../src/shared/gni/ipv6.ts';
import { withDatabase } from './fixtures.ts';

const XML = readFileSync(new URL('../../golden/gni/dual-stack/expected.xml', import.meta.url), 'utf8');
const stripVersion = (xml: string) => xml.replace(/ version="[0-9a-f]{16}"/, '');

test('reconstruct: a dual-stack cluster gets its IPv6 keys back on its inline subnet; an IPv4-only one gets none', () => {
  const parsed = parseGni(XML);
  assert.ok(parsed.ok);
  const { value } = reconstructProperty(parsed.value.configuration);
  assert.deepEqual(
    value.Clusters?.map((c) => [c.Name, c.Subnet?.Ipv6Prefix, c.Subnet?.Ipv6DnsServers]),
    [
      ['zone-a', '2001:db8:10::/64', ['2001:db8::53', 'fd00:172:31::53']],
      ['zone-b', undefined, undefined],
      ['zone-c', 'fd00:30::/64', undefined],
    ],
  );
  assert.ok(!('Ipv6Prefix' in (value.Clusters?.[1]?.Subnet ?? {})));
});

test('import then rebuild: the same dual-stack document', async () => {
  const parsed = parseGni(XML);
  assert.ok(parsed.ok);
  await withDatabase(async (location) => {
    const store = await Store.open(location);
    try {
      const plan = planGniImport(parsed.value, {});
      const { summary } = await importGni(store, plan, { now: 1_700_000_000_000 });
      const clcIpv6 = configurationIpv6(parsed.value.configuration);
      assert.equal(clcIpv6, 'fd00:172:31::2');
      assert.equal(summary.clcIpv6, clcIpv6, 'the summary names the CLC_IPV6 to set, as it names CLC_IP');
      const state = new CloudState({ store, clock: new FakeClock(), clcIp: parsed.value.configuration.enabledClcIp ?? '', ...(clcIpv6 ? { clcIpv6 } : {}) });
      const rebuilt = serializeGni(buildGni(await state.snapshot({ full: true }), { sequence: 1 }));
      assert.equal(stripVersion(rebuilt), stripVersion(XML));
    } finally {
      await store.close();
    }
  });
});
