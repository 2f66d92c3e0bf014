/**
 * Every configuration example of Eucalyptus's own tests and install guide that
 * we have, each with its source and Eucalyptus's verdict, through the function
 * `edgenet property validate` calls (validateNetworkConfiguration). An accepted
 * example must have no error (warnings are listed exactly); a refused one must
 * be refused with the named code at the named path; VPCMIDO (and MANAGED)
 * documents, which Eucalyptus accepted in modes edgenet does not implement,
 * get MODE_UNSUPPORTED. One example is refused on purpose although Eucalyptus
 * accepted it (a multicast MacPrefix in an explode-only unit test: no instance
 * could use the MACs it makes); it is marked and explained. One CLI run covers the install guide's two-cluster
 * example end to end.
 *
 * Sources (eucalyptus/eucalyptus, clc/modules/cluster-manager/src/test/java/
 * com/eucalyptus/network/config/): NetworkConfigurationTest.groovy ("NCT") and
 * NetworkConfigurationsTest.groovy ("NCsT"); the install guide's "Configure
 * EDGE Network Mode" page, 2017 edition (4.4; as kept in
 * Corymbia/eucalyptus-documentation content/install_guide/eucalyptus/
 * configuring_euca/configure_network_modes/nw_edge/_index.md) and the 2014
 * example (4.0; the same two-cluster document as quoted, tabs included, in
 * eucalyptus/architecture's eucanetd driver design page); and
 * ../shared/reference/eucalyptus-edge.md §3.1 and §6.2 for the behaviours
 * those pages describe. NCsT's testConfiguredPrivateIPsForCluster builds
 * partial models (no PublicIps, clusters without a subnet) rather than
 * property documents, so it has no row here; its rule (a cluster without a
 * list takes the top-level one) is in explode.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';

type Verdict =
  | { readonly verdict: 'accept'; readonly warnings: readonly string[] }
  | { readonly verdict: 'refuse'; readonly expect: string }
  | { readonly verdict: 'mode-unsupported' }
  /** Eucalyptus accepted it, edgenet refuses on purpose: the value could not work (`why`). */
  | { readonly verdict: 'accept-but-unusable'; readonly expect: string; readonly why: string };

interface Example {
  readonly name: string;
  readonly doc: unknown;
  readonly eucalyptus: Verdict;
}

const fixture = (name: string) => new URL(`../../fixtures/config/eucalyptus/${name}`, import.meta.url);
const text = (name: string) => readFileSync(fixture(name), 'utf8');
const GUIDE_PUBLIC_WARNINGS = [0, 1, 2, 3].map((i) => `PUBLIC_IN_PRIVATE_SUBNET PublicIps[${i}]`);
const SUBNET_1 = { Name: '1.0.0.0', Subnet: '1.0.0.0', Netmask: '255.255.0.0', Gateway: '1.0.0.1' };
const CLUSTER_1 = { Name: 'edgecluster0', MacPrefix: 'd0:0d', Subnet: { Subnet: '1.0.0.0', Netmask: '255.255.0.0', Gateway: '1.0.0.1' }, PrivateIps: ['1.0.0.33', '1.0.0.34'] };
const MIDO_GATEWAYS = { EucanetdHost: 'a', Gateways: [{ GatewayHost: 'b', GatewayIP: '10.0.0.1', GatewayInterface: 'foo' }], PublicNetworkCidr: '0.0.0.0/0', PublicGatewayIP: '10.0.0.1' };

const EXAMPLES: readonly Example[] = [
  // NCT testFullParse (4.1.1+: Mode and PublicGateway): parsed into the full model.
  {
    name: 'NCT testFullParse',
    doc: {
      Mode: 'EDGE', InstanceDnsDomain: 'eucalyptus.internal', InstanceDnsServers: ['1.2.3.4'], MacPrefix: 'd0:0d',
      PublicIps: ['10.111.200.1-10.111.200.2'], PublicGateway: '10.111.0.1', PrivateIps: ['1.0.0.33-1.0.0.34'],
      Subnets: [SUBNET_1], Clusters: [{ ...CLUSTER_1, Subnet: SUBNET_1 }],
    },
    eucalyptus: { verdict: 'accept', warnings: ['PRIVATE_IPS_UNUSED PrivateIps'] },
  },
  // NCT testMinimalTopLevelParse: only PublicIps and one cluster with an inline subnet.
  { name: 'NCT testMinimalTopLevelParse', doc: { PublicIps: ['10.111.200.1-10.111.200.2'], Clusters: [CLUSTER_1] }, eucalyptus: { verdict: 'accept', warnings: [] } },
  // NCT testMinimalClusterLevelParse: the cluster names the top-level subnet.
  {
    name: 'NCT testMinimalClusterLevelParse',
    doc: { MacPrefix: 'd0:0d', PublicIps: ['10.111.200.1-10.111.200.2'], PrivateIps: ['1.0.0.33-1.0.0.34'], Subnets: [SUBNET_1], Clusters: [{ Name: 'edgecluster0', Subnet: { Name: '1.0.0.0' } }] },
    eucalyptus: { verdict: 'accept', warnings: [] },
  },
  // NCT testNoClusterLevelParse: no clusters, one top-level subnet.
  {
    name: 'NCT testNoClusterLevelParse',
    doc: { MacPrefix: 'd0:0d', PublicIps: ['10.111.200.1-10.111.200.2'], PrivateIps: ['1.0.0.33-1.0.0.34'], Subnets: [SUBNET_1] },
    eucalyptus: { verdict: 'accept', warnings: [] },
  },
  // NCT testValidateClusterMacPrefix: "d0:0d:" on a cluster.
  { name: 'NCT testValidateClusterMacPrefix', doc: { PublicIps: ['10.111.200.1-10.111.200.2'], Clusters: [{ ...CLUSTER_1, MacPrefix: 'd0:0d:' }] }, eucalyptus: { verdict: 'refuse', expect: 'MAC_PREFIX_INVALID Clusters[0].MacPrefix' } },
  // NCT testValidateTopLevelMacPrefix: "d0:0d:" at the top level.
  {
    name: 'NCT testValidateTopLevelMacPrefix',
    doc: { MacPrefix: 'd0:0d:', PublicIps: ['10.111.200.1-10.111.200.2'], PrivateIps: ['1.0.0.33-1.0.0.34'], Subnets: [SUBNET_1], Clusters: [{ Name: 'edgecluster0', Subnet: { Name: '1.0.0.0' } }] },
    eucalyptus: { verdict: 'refuse', expect: 'MAC_PREFIX_INVALID MacPrefix' },
  },
  // NCT testValidateInstanceDnsDomain: a leading dot.
  { name: 'NCT testValidateInstanceDnsDomain', doc: { InstanceDnsDomain: '.eucalyptus.internal', PublicIps: ['10.111.200.1-10.111.200.2'], Clusters: [CLUSTER_1] }, eucalyptus: { verdict: 'refuse', expect: 'DOMAIN_INVALID InstanceDnsDomain' } },
  // NCT testValidateTopLevelSubnetSubnet: subnet address with host bits set.
  {
    name: 'NCT testValidateTopLevelSubnetSubnet',
    doc: { PublicIps: ['10.111.200.1-10.111.200.2'], PrivateIps: ['1.0.0.33-1.0.0.34'], Subnets: [{ Name: 'subnet0', Subnet: '1.0.0.1', Netmask: '255.255.0.0', Gateway: '1.0.0.1' }], Clusters: [{ Name: 'edgecluster0', Subnet: { Name: 'subnet0' } }] },
    eucalyptus: { verdict: 'refuse', expect: 'SUBNET_UNALIGNED Subnets[0].Subnet' },
  },
  // NCT testValidateTopLevelSubnetNetmask: non-contiguous netmask.
  {
    name: 'NCT testValidateTopLevelSubnetNetmask',
    doc: { PublicIps: ['10.111.200.1-10.111.200.2'], PrivateIps: ['1.0.0.33-1.0.0.34'], Subnets: [{ Subnet: '1.0.0.0', Netmask: '255.255.0.1', Gateway: '1.0.0.1' }], Clusters: [{ Name: 'edgecluster0', Subnet: { Name: '1.0.0.0' } }] },
    eucalyptus: { verdict: 'refuse', expect: 'NETMASK_NONCONTIGUOUS Subnets[0].Netmask' },
  },
  // NCT testValidateTopLevelSubnetGateway: gateway outside the subnet.
  {
    name: 'NCT testValidateTopLevelSubnetGateway',
    doc: { PublicIps: ['10.111.200.1-10.111.200.2'], PrivateIps: ['1.0.0.33-1.0.0.34'], Subnets: [{ Subnet: '1.0.0.0', Netmask: '255.255.0.0', Gateway: '1.1.0.1' }], Clusters: [{ Name: 'edgecluster0', Subnet: { Name: '1.0.0.0' } }] },
    eucalyptus: { verdict: 'refuse', expect: 'GATEWAY_OUTSIDE_SUBNET Subnets[0].Gateway' },
  },
  // NCT (4.4) unknown property: Jackson refuses `Unrecognized field "PublicIpss"` (eucalyptus-edge.md §3.1).
  { name: 'NCT unknown property PublicIpss', doc: { PublicIpss: ['10.111.200.1-10.111.200.2'], Clusters: [CLUSTER_1] }, eucalyptus: { verdict: 'refuse', expect: 'UNKNOWN_KEY PublicIpss' } },
  // NCT testVpcMidoParse: VPCMIDO with a gateway list (accepted by Eucalyptus; not an edgenet mode).
  { name: 'NCT testVpcMidoParse', doc: { Mode: 'VPCMIDO', MacPrefix: 'd0:0d', PublicIps: ['10.111.200.1-10.111.200.2'], Mido: MIDO_GATEWAYS }, eucalyptus: { verdict: 'mode-unsupported' } },
  // NCT testVpcMidoSingleGatewayParse: VPCMIDO with the old single-gateway keys.
  {
    name: 'NCT testVpcMidoSingleGatewayParse',
    doc: { Mode: 'VPCMIDO', MacPrefix: 'd0:0d', PublicIps: ['10.111.200.1-10.111.200.2'], Mido: { EucanetdHost: 'a', GatewayHost: 'b', GatewayIP: '10.0.0.1', GatewayInterface: 'foo', PublicNetworkCidr: '0.0.0.0/0', PublicGatewayIP: '10.0.0.1' } },
    eucalyptus: { verdict: 'mode-unsupported' },
  },
  // NCT testVpcMidoInvalidParse: VPCMIDO without Mido (Eucalyptus: 'Missing required property "Mido"').
  { name: 'NCT testVpcMidoInvalidParse', doc: { Mode: 'VPCMIDO', MacPrefix: 'd0:0d', PublicIps: ['10.111.200.1-10.111.200.2'] }, eucalyptus: { verdict: 'mode-unsupported' } },
  // NCsT testExplodeFull: no clusters, one subnet (the public addresses lie inside it: edgenet warns).
  // Its MacPrefix ab:cd has the multicast bit set: Eucalyptus never checked it (eucalyptus-edge.md §6.2)
  // and this test only explodes it, but every instance MAC built from it would be a multicast address,
  // which netd refuses (MAC_NOT_UNICAST) and no NIC can use. The same document with d0:0d is accepted.
  {
    name: 'NCsT testExplodeFull with MacPrefix d0:0d',
    doc: {
      InstanceDnsDomain: 'eucalyptus.internal', InstanceDnsServers: ['10.1.1.254'], MacPrefix: 'd0:0d',
      PublicIps: ['10.111.103.26', '10.111.103.27', '10.111.103.28', '10.111.103.29'], PrivateIps: ['10.111.103.30', '10.111.103.36', '10.111.103.38', '10.111.103.42'],
      Subnets: [{ Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' }],
    },
    eucalyptus: { verdict: 'accept', warnings: GUIDE_PUBLIC_WARNINGS },
  },
  {
    name: 'NCsT testExplodeFull',
    doc: {
      InstanceDnsDomain: 'eucalyptus.internal', InstanceDnsServers: ['10.1.1.254'], MacPrefix: 'ab:cd',
      PublicIps: ['10.111.103.26', '10.111.103.27', '10.111.103.28', '10.111.103.29'], PrivateIps: ['10.111.103.30', '10.111.103.36', '10.111.103.38', '10.111.103.42'],
      Subnets: [{ Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' }],
    },
    eucalyptus: { verdict: 'accept-but-unusable', expect: 'MAC_PREFIX_MULTICAST MacPrefix', why: 'ab:cd makes multicast instance MACs' },
  },
  // NCsT testExplodeMinimal: only PublicIps and a subnet; the derived pool is the whole subnet.
  {
    name: 'NCsT testExplodeMinimal',
    doc: { PublicIps: ['10.111.103.26', '10.111.103.27', '10.111.103.28', '10.111.103.29'], Subnets: [{ Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' }] },
    eucalyptus: { verdict: 'accept', warnings: GUIDE_PUBLIC_WARNINGS },
  },
  // NCsT testValidateSingleSubnet: no clusters and no subnet.
  { name: 'NCsT testValidateSingleSubnet', doc: { PublicIps: ['10.111.103.26'] }, eucalyptus: { verdict: 'refuse', expect: 'SUBNETS_SINGLE_REQUIRED Subnets' } },
  // NCsT testValidateSingleSubnetIPRanges: top-level private IP outside the single subnet.
  {
    name: 'NCsT testValidateSingleSubnetIPRanges',
    doc: { PublicIps: ['10.111.103.26'], PrivateIps: ['10.1.1.1'], Subnets: [{ Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' }] },
    eucalyptus: { verdict: 'refuse', expect: 'PRIVATE_IP_OUTSIDE_SUBNET PrivateIps[0]' },
  },
  // NCsT testValidateClusterSubnetIPRanges: a cluster's private IP outside its subnet.
  {
    name: 'NCsT testValidateClusterSubnetIPRanges',
    doc: { PublicIps: ['10.111.103.26'], PrivateIps: ['10.1.1.1'], Clusters: [{ Name: 'cluster1', PrivateIps: ['10.1.1.1'], Subnet: { Name: '10.111.0.0', Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' } }] },
    eucalyptus: { verdict: 'refuse', expect: 'PRIVATE_IP_OUTSIDE_SUBNET Clusters[0].PrivateIps[0]' },
  },
  // Install guide 2017 (4.4), single cluster PARTI00 on a flat network.
  { name: 'install guide 4.4: one cluster', doc: text('install-guide-4.4-single-cluster.json'), eucalyptus: { verdict: 'accept', warnings: GUIDE_PUBLIC_WARNINGS } },
  // Install guide 2017 (4.4), PARTI00 and PARTI01 sharing 10.111.0.0/16 with disjoint PrivateIps.
  { name: 'install guide 4.4: two clusters, one subnet', doc: text('install-guide-4.4-multi-cluster.json'), eucalyptus: { verdict: 'accept', warnings: GUIDE_PUBLIC_WARNINGS } },
  // Install guide 2014 (4.0): the same two-cluster document, as it was printed (tabs in the lists).
  { name: 'install guide 2014: two clusters, one subnet', doc: text('install-guide-2014-multi-cluster.json'), eucalyptus: { verdict: 'accept', warnings: GUIDE_PUBLIC_WARNINGS } },
  // Install guide 2017: its template ships "" values; left as shipped they were unset for Eucalyptus
  // (Groovy truth skips them, explode falls back to the default; eucalyptus-edge.md §6.2).
  {
    name: 'install guide 4.4 template values left as ""',
    doc: { ...JSON.parse(text('install-guide-4.4-single-cluster.json')), InstanceDnsDomain: '', MacPrefix: '' },
    eucalyptus: { verdict: 'accept', warnings: ['VALUE_UNSET InstanceDnsDomain', 'VALUE_UNSET MacPrefix', ...GUIDE_PUBLIC_WARNINGS] },
  },
  // Jackson maps null to an unset field (eucalyptus-edge.md §6.2).
  {
    name: 'null values are unset',
    doc: { ...JSON.parse(text('install-guide-4.4-single-cluster.json')), MacPrefix: null, PrivateIps: null },
    eucalyptus: { verdict: 'accept', warnings: ['VALUE_UNSET MacPrefix', ...GUIDE_PUBLIC_WARNINGS, 'VALUE_UNSET PrivateIps'] },
  },
];

const codes = (diagnostics: readonly { code: string; path: string }[]) => diagnostics.map((d) => `${d.code} ${d.path}`);

for (const ex of EXAMPLES) {
  test(`${ex.name}: Eucalyptus's verdict is ${ex.eucalyptus.verdict}, and edgenet's too`, () => {
    const result = validateNetworkConfiguration(ex.doc);
    const v = ex.eucalyptus;
    switch (v.verdict) {
      case 'accept':
        assert.equal(result.ok, true, codes(result.diagnostics).join('\n'));
        assert.deepEqual(codes(result.diagnostics), v.warnings);
        assert.ok(result.diagnostics.every((d) => d.severity === 'warning'));
        break;
      case 'refuse':
        assert.equal(result.ok, false);
        assert.ok(codes(result.diagnostics).includes(v.expect), `expected ${v.expect}; got ${codes(result.diagnostics).join(', ')}`);
        break;
      case 'accept-but-unusable':
        assert.equal(result.ok, false, v.why);
        assert.deepEqual(codes(result.diagnostics.filter((d) => d.severity === 'error')), [v.expect], v.why);
        break;
      case 'mode-unsupported':
        assert.equal(result.ok, false);
        assert.equal(codes(result.diagnostics)[0], 'MODE_UNSUPPORTED Mode');
        break;
    }
  });
}

test('the install guide\'s two clusters explode to their own pools on the one shared subnet (same MAC prefix: MACs come from unique instance ids)', () => {
  const result = validateNetworkConfiguration(text('install-guide-4.4-multi-cluster.json'));
  assert.ok(result.ok);
  const cfg = explode(result.value, DEFAULT_EXPLODE_INPUTS);
  assert.deepEqual(
    cfg.Clusters.map((c) => [c.Name, c.MacPrefix, `${c.Subnet.Subnet}/${c.Subnet.Netmask} via ${c.Subnet.Gateway}`, c.PrivateIps]),
    [
      ['PARTI00', 'd0:0d', '10.111.0.0/255.255.0.0 via 10.111.0.1', ['10.111.101.94', '10.111.101.95']],
      ['PARTI01', 'd0:0d', '10.111.0.0/255.255.0.0 via 10.111.0.1', ['10.111.101.96', '10.111.101.97']],
    ],
  );
});

test('NCT testFullParse\'s PublicGateway is kept through explode', () => {
  const full = EXAMPLES[0]!;
  const result = validateNetworkConfiguration(full.doc);
  assert.ok(result.ok);
  assert.equal(explode(result.value, DEFAULT_EXPLODE_INPUTS).PublicGateway, '10.111.0.1');
  assert.deepEqual(codes(validateNetworkConfiguration({ ...(full.doc as object), PublicGateway: '10.111.0' }).diagnostics), ['IP_INVALID PublicGateway', 'PRIVATE_IPS_UNUSED PrivateIps']);
});

test('"" and null are unset through explode: the defaults apply as if the keys were absent', () => {
  const guide = JSON.parse(text('install-guide-4.4-single-cluster.json'));
  const unset = validateNetworkConfiguration({ ...guide, InstanceDnsDomain: '', MacPrefix: null });
  const absent = validateNetworkConfiguration({ ...guide, InstanceDnsDomain: undefined, MacPrefix: undefined });
  assert.ok(unset.ok && absent.ok);
  const exploded = explode(unset.value, { ...DEFAULT_EXPLODE_INPUTS, macPrefix: 'aa:00' });
  assert.deepEqual(exploded, explode(absent.value, { ...DEFAULT_EXPLODE_INPUTS, macPrefix: 'aa:00' }));
  assert.equal(exploded.MacPrefix, 'aa:00');
  assert.equal(exploded.InstanceDnsDomain, 'eucalyptus.internal');
});

test('a cluster with "PrivateIps": [] gets its whole subnet minus network, broadcast and gateway, not the top-level list (eucalyptus-edge.md §6.2)', () => {
  const result = validateNetworkConfiguration({
    PublicIps: ['192.0.2.1'],
    PrivateIps: ['10.111.0.10-10.111.0.20'],
    Clusters: [{ Name: 'PARTI00', Subnet: { Subnet: '10.111.0.0', Netmask: '255.255.255.0', Gateway: '10.111.0.1' }, PrivateIps: [] }],
  });
  assert.ok(result.ok, codes(result.diagnostics).join(', '));
  assert.deepEqual(codes(result.diagnostics), ['PRIVATE_IPS_UNUSED PrivateIps']);
  assert.deepEqual(explode(result.value, DEFAULT_EXPLODE_INPUTS).Clusters[0]!.PrivateIps, ['10.111.0.2-10.111.0.254']);
});

test('clusters on one subnet with overlapping pools are refused; a partial subnet overlap stays CLUSTER_SUBNET_OVERLAP', () => {
  const guide = JSON.parse(text('install-guide-4.4-multi-cluster.json'));
  guide.Clusters[1].PrivateIps = ['10.111.101.95-10.111.101.97'];
  assert.deepEqual(codes(validateNetworkConfiguration(guide).diagnostics).filter((c) => !c.startsWith('PUBLIC_IN')), ['CLUSTER_POOL_OVERLAP Clusters[1].PrivateIps']);
  // [] on one cluster: the whole subnet, which holds the other cluster's pool.
  guide.Clusters[1].PrivateIps = [];
  assert.deepEqual(codes(validateNetworkConfiguration(guide).diagnostics).filter((c) => !c.startsWith('PUBLIC_IN')), ['CLUSTER_POOL_OVERLAP Clusters[1].PrivateIps']);
  // Both inheriting one top-level list.
  const inherit = { ...guide, PrivateIps: ['10.111.101.94-10.111.101.97'], Clusters: guide.Clusters.map(({ PrivateIps: _p, ...c }: { PrivateIps: unknown }) => c) };
  assert.deepEqual(codes(validateNetworkConfiguration(inherit).diagnostics).filter((c) => !c.startsWith('PUBLIC_IN')), ['CLUSTER_POOL_OVERLAP Clusters[1].PrivateIps']);
  guide.Clusters[1].PrivateIps = ['10.111.200.2'];
  guide.Clusters[1].Subnet = { Subnet: '10.111.128.0', Netmask: '255.255.128.0', Gateway: '10.111.128.1' };
  assert.deepEqual(codes(validateNetworkConfiguration(guide).diagnostics).filter((c) => !c.startsWith('PUBLIC_IN')), ['CLUSTER_SUBNET_OVERLAP Clusters[1].Subnet']);
});

test('edgenet property validate on the install guide\'s two-cluster example: valid, exit 0, four warnings', async () => {
  const bin = new URL('../../../bin/edgenet.mjs', import.meta.url).pathname;
  const file = fixture('install-guide-4.4-multi-cluster.json').pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'property', 'validate', file]);
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.ok(lines.slice(0, 4).every((l) => / PUBLIC_IN_PRIVATE_SUBNET: .*\(warning\)$/.test(l)), stdout);
  assert.match(lines[4] ?? '', /: valid \(0 errors, 4 warnings\)$/);
});
