/**
 * "4.4 acceptance": the checker of what a Eucalyptus 4.4 eucanetd refuses
 * (test/helpers/eucanetd44.ts, from Eucalyptus 4.4.2 net/euca_gni.c
 * gni_validate and friends) shown to accept a real 4.4-shaped document and to
 * refuse each mandatory field taken away; and the CLC mapper's choices for the
 * fields 4.4 requires (src/cloud-controller/gni/map.ts): DNS servers default
 * to what Eucalyptus sent, unregistered clusters are left out, a registered
 * cluster without a CC address stops the build. The golden, builder and
 * incremental tests run the checker over every document they build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eucanetd44Refusals } from '../../helpers/eucanetd44.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import type { CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';
import { syntheticSnapshot } from '../../fixtures/gni/synthetic.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/gni/${name}`, import.meta.url)), 'utf8');

// The constructed 4.4 EDGE example of eucalyptus-edge.md §2.3a.
const EXAMPLE = fixture('euca44-example.xml');

test('4.4 acceptance: the reference 4.4 EDGE example is accepted', () => {
  assert.deepEqual(eucanetd44Refusals(EXAMPLE), []);
});

test('4.4 acceptance: a 4.0 document (no mode) is refused by 4.4 (euca_gni.c gni_netmode_validate)', () => {
  // eucalyptus-edge.md §2.3a: "The 4.0 equivalent has no mode".
  assert.deepEqual(eucanetd44Refusals(fixture('euca40-example.xml')), ['mode "" is not EDGE or VPCMIDO (gni_netmode_validate)']);
});

/** Each mandatory field of euca_gni.c 4.4.2 taken away from the example, and the refusal it causes. */
const MUTATIONS: readonly { what: string; from: string | RegExp; to: string; refusal: RegExp }[] = [
  { what: 'no DNS servers', from: /<property name="instanceDNSServers">.*<\/property>\n/, to: '', refusal: /^no instanceDNSServers$/ },
  { what: 'a 0.0.0.0 DNS server', from: '<value>10.0.0.2</value>', to: '<value>0.0.0.0</value>', refusal: /instanceDNSServers\[0\] "0.0.0.0" is zero/ },
  { what: 'an empty DNS domain', from: '<value>eucalyptus.internal</value>', to: '<value></value>', refusal: /^no instanceDNSDomain$/ },
  { what: 'no CLC address', from: /<property name="enabledCLCIp">.*<\/property>\n/, to: '', refusal: /^no enabledCLCIp$/ },
  { what: 'an unknown mode', from: '<value>EDGE</value>', to: '<value>MANAGED</value>', refusal: /gni_netmode_validate/ },
  { what: 'a cluster without enabledCCIp', from: /<property name="enabledCCIp">.*<\/property>\n/, to: '', refusal: /cluster zone-a: no enabledCCIp/ },
  { what: 'a cluster without macPrefix', from: /<property name="macPrefix">.*<\/property>\n/, to: '', refusal: /cluster zone-a: no macPrefix/ },
  { what: 'a cluster without private IPs', from: /<property name="privateIps">.*<\/property>\n/, to: '', refusal: /cluster zone-a: no private_ips/ },
  { what: 'a cluster subnet without gateway', from: /<property name="gateway">.*<\/property>\n/, to: '', refusal: /private_subnet: gateway zero or missing/ },
  { what: 'an instance without groups', from: /<securityGroups><value>sg-0a0b0c0d<\/value><\/securityGroups>/, to: '<securityGroups/>', refusal: /instance i-1a2b3c4d: no secgroups/ },
  { what: 'an instance without owner', from: /<ownerId>000000000001<\/ownerId>\n(\s*)<macAddress>/, to: '<macAddress>', refusal: /instance i-1a2b3c4d: no accountId/ },
  { what: 'a VPC element in EDGE (EUCA-13321)', from: '<vpcs/>', to: '<vpcs><vpc name="vpc-1"/></vpcs>', refusal: /VPC elements found in EDGE mode gni/ },
];

for (const m of MUTATIONS) {
  test(`4.4 acceptance: refused — ${m.what}`, () => {
    const xml = EXAMPLE.replace(m.from, m.to);
    assert.notEqual(xml, EXAMPLE, 'the mutation applies');
    const refusals = eucanetd44Refusals(xml);
    assert.equal(refusals.length, 1, refusals.join('\n'));
    assert.match(refusals[0]!, m.refusal);
  });
}

test('4.4 acceptance: what 4.4 only logs is accepted (no MAC, no public IP, a group without rules or members)', () => {
  const xml = EXAMPLE.replace(/<macAddress>.*<\/macAddress>\n/, '').replace(/<publicIp>.*<\/publicIp>\n/, '').replace('</securityGroups>\n</network-data>', '<securityGroup name="sg-peer"><ownerId>000000000002</ownerId><ingressRules/><egressRules/></securityGroup></securityGroups>\n</network-data>');
  assert.notEqual(xml, EXAMPLE);
  assert.deepEqual(eucanetd44Refusals(xml), []);
});

const cloud = (): CloudSnapshot => syntheticSnapshot({ instances: 12, groups: 3, rulesPerGroup: 2, clusters: 2, nodesPerCluster: 2 });

test('mapper: no DNS server configured anywhere → 127.0.0.1, what Eucalyptus 4.4 sent (NetworkInfoBroadcasts.buildNetworkConfiguration)', () => {
  const s = cloud();
  const doc = buildGni({ ...s, config: { ...s.config!, InstanceDnsServers: [] } }, {});
  assert.deepEqual(doc.configuration.instanceDnsServers, ['127.0.0.1']);
  assert.deepEqual(eucanetd44Refusals(serializeGni(doc)), []);
  const configured = buildGni({ ...s, config: { ...s.config!, InstanceDnsServers: ['192.0.2.53', '192.0.2.54'] } }, {});
  assert.deepEqual(configured.configuration.instanceDnsServers, ['192.0.2.53', '192.0.2.54']);
});

test('mapper: a configured cluster whose CC is not registered is left out; its registered neighbours keep their enabledCCIp', () => {
  const s = cloud();
  const doc = buildGni({ ...s, clusters: s.clusters.slice(1) }, {});
  assert.deepEqual(doc.configuration.clusters.map((c) => [c.name, c.enabledCcIp]), [[s.clusters[1]!.name, s.clusters[1]!.ccIp]]);
  assert.ok(doc.instances.every((i) => !(i.privateIp ?? '').startsWith('10.1.')), 'no instance of the left-out cluster');
  assert.deepEqual(eucanetd44Refusals(serializeGni(doc)), []);
});

test('mapper: a registered cluster without a CC address stops the build with CLUSTER_WITHOUT_CC_ADDRESS', () => {
  const s = cloud();
  const broken = { ...s, clusters: s.clusters.map((c, i) => (i === 1 ? { ...c, ccIp: '' } : c)) };
  assert.throws(
    () => buildGni(broken, {}),
    (err: unknown) => err instanceof EdgenetError && err.code === 'CLUSTER_WITHOUT_CC_ADDRESS' && err.details?.['cluster'] === s.clusters[1]!.name,
  );
});
