/**
 * The dual-stack golden (issue 14, test/golden/gni/dual-stack/): what the
 * `ipv6` extension carries (shared/gni/ipv6.ts readers), that a Eucalyptus
 * 4.4 reader sees exactly the IPv4 document (the extensions are all that
 * differs from the same snapshot without IPv6), that both XML engines read
 * it alike, and that IPv4-only documents stay as they were even with
 * CLC_IPV6 set. gni.golden.test.ts also runs its byte, parse-back, 4.4
 * acceptance and order checks on this scenario.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';
import type { ExplodedNetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { GniEncoder } from '../../../src/cloud-controller/gni/encoder.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { clusterIpv6, configurationIpv6, instanceIpv6 } from '../../../src/shared/gni/ipv6.ts';
import { eucanetd44Refusals } from '../../helpers/eucanetd44.ts';
import { GNI_ENGINES } from '../../helpers/gni-oracle/fast-xml-parser-engine.ts';

const here = dirname(fileURLToPath(import.meta.url));

function load(name: string): CloudSnapshot {
  const raw = JSON.parse(readFileSync(join(here, name, 'snapshot.json'), 'utf8')) as Record<string, unknown>;
  return { ...raw, config: raw.config ?? undefined } as CloudSnapshot;
}

/** The same snapshot with every IPv6 setting removed (and CLC_IPV6 unset). */
function ipv4Only(s: CloudSnapshot): CloudSnapshot {
  const config = s.config as ExplodedNetworkConfiguration;
  const { clcIpv6: _, ...rest } = s;
  return {
    ...rest,
    config: { ...config, Clusters: config.Clusters.map((c) => ({ ...c, Subnet: { Name: c.Subnet.Name, Subnet: c.Subnet.Subnet, Netmask: c.Subnet.Netmask, Gateway: c.Subnet.Gateway } })) },
  };
}

const EXTENSION = /\s*<edgenet:extension [^>]*name="ipv6">.*?<\/edgenet:extension>/g;
const withoutVersion = (xml: string) => xml.replace(/ version="[0-9a-f]{16}"/, '');

test('dual-stack: the ipv6 extension carries the prefixes, name servers, CLC address and EUI-64 addresses', () => {
  const doc = buildGni(load('dual-stack'), { sequence: 1 });
  assert.equal(configurationIpv6(doc.configuration), 'fd00:172:31::2');
  assert.deepEqual(
    doc.configuration.clusters.map((c) => [c.name, clusterIpv6(c)]),
    [
      ['zone-a', { prefix: '2001:db8:10::/64', dnsServers: ['2001:db8::53', 'fd00:172:31::53'] }],
      ['zone-b', undefined],
      ['zone-c', { prefix: 'fd00:30::/64', dnsServers: [] }],
    ],
  );
  // d0:0d:1a:2b:3c:4d → interface id d20d:1aff:fe2b:3c4d (ff:fe inserted, universal/local bit flipped).
  assert.deepEqual(
    doc.instances.map((i) => [i.name, instanceIpv6(i)]),
    [
      ['i-1a2b3c4d', '2001:db8:10:0:d20d:1aff:fe2b:3c4d'],
      ['i-5e6f7a8b', '2001:db8:10:0:d20d:5eff:fe6f:7a8b'],
      ['i-b0000001', undefined],
      ['i-c0000001', 'fd00:30::d20f:c0ff:fe00:1'],
    ],
  );
});

test('dual-stack: a 4.4 reader sees the IPv4 document: without its extensions it is the IPv4-only build', () => {
  const dual = serializeGni(buildGni(load('dual-stack'), { sequence: 1 }));
  const plain = serializeGni(buildGni(ipv4Only(load('dual-stack')), { sequence: 1 }));
  assert.ok(dual.includes('name="ipv6"'));
  assert.ok(!plain.includes('edgenet:extension'));
  assert.equal(withoutVersion(dual.replace(EXTENSION, '')), withoutVersion(plain));
  assert.deepEqual(eucanetd44Refusals(dual), []);
});

test('dual-stack: the fast-xml-parser oracle reads the same model as the production engine', () => {
  const xml = readFileSync(join(here, 'dual-stack', 'expected.xml'), 'utf8');
  const a = parseGni(xml, { engine: GNI_ENGINES['fast-xml-parser'] });
  const b = parseGni(xml, { engine: GNI_ENGINES.scan });
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.value, b.value);
  assert.equal(instanceIpv6(a.value.instances[0]!), '2001:db8:10:0:d20d:1aff:fe2b:3c4d');
});

test('IPv4-only property: CLC_IPV6 set changes nothing (no clc-address without a dual-stack cluster)', () => {
  for (const name of ['one-cluster', 'two-clusters', 'elastic-ips']) {
    const s = load(name);
    assert.equal(serializeGni(buildGni({ ...s, clcIpv6: 'fd00:172:31::2' }, { sequence: 1 })), readFileSync(join(here, name, 'expected.xml'), 'utf8'), name);
  }
  const noConfig = load('no-config');
  assert.equal(serializeGni(buildGni({ ...noConfig, clcIpv6: 'fd00:172:31::2' }, { sequence: 1 })), readFileSync(join(here, 'no-config', 'expected.xml'), 'utf8'));
});

test('encoder: a property change that adds, moves or removes a prefix re-maps the cached instances', () => {
  const dual = load('dual-stack');
  const plain = ipv4Only(dual);
  const moved: CloudSnapshot = {
    ...dual,
    config: {
      ...(dual.config as ExplodedNetworkConfiguration),
      Clusters: (dual.config as ExplodedNetworkConfiguration).Clusters.map((c) => (c.Name === 'zone-a' ? { ...c, Subnet: { ...c.Subnet, Ipv6Prefix: '2001:db8:99::/64' } } : c)),
    },
  };
  const encoder = new GniEncoder();
  // Same instance objects throughout (as the snapshot cache keeps them): only the configuration changes.
  for (const s of [plain, { ...dual, instances: plain.instances }, { ...moved, instances: plain.instances }, { ...plain, instances: plain.instances }]) {
    const built = encoder.build(s).encode(1).toString('utf8');
    assert.equal(built, serializeGni(buildGni(s, { sequence: 1 })));
  }
  assert.match(encoder.build({ ...moved, instances: plain.instances }).encode(1).toString('utf8'), /2001:db8:99:0:d20d:1aff:fe2b:3c4d/);
});
