/**
 * ROUTED's document (modes/routed.ts extendDocument): the configuration
 * `routed` extension (gateways), each ROUTED cluster's `routed` extension
 * (addressing), each registered node's `bgp` extension (cloud → cluster →
 * node), an instance's `routed` extension (user data); round trip through the
 * GNI writer and reader; sections the mode does not touch stay the same
 * objects (the encoder keeps their bytes), and the incremental encoder agrees
 * with a build from scratch; an EDGE property's document is untouched; and
 * the example property goes through `property set` into a valid document.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';
import type { NetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';
import type { CloudSnapshot, SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import { ROUTED_MODE } from '../../../src/cloud-controller/modes/routed.ts';
import { mapGni } from '../../../src/cloud-controller/gni/map.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { GniEncoder } from '../../../src/cloud-controller/gni/encoder.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { validateGni } from '../../../src/shared/gni/validate.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { MAX_EXTENSION_VALUE_CHARS } from '../../../src/shared/gni/extension.ts';
import { clusterRoutedAddressing, configurationRouted, instanceUserData, nodeBgpText } from '../../../src/shared/gni/routed.ts';
import { clusterIpv6 } from '../../../src/shared/gni/ipv6.ts';
import { readSnapshot } from '../../../src/cloud-controller/snapshot/read-snapshot.ts';
import { syntheticSnapshot } from '../../fixtures/gni/synthetic.ts';
import { fixture } from './fixture.ts';

const EXAMPLE = readFileSync(new URL('../../../examples/network_configuration.routed.json', import.meta.url), 'utf8');

function routedConfig() {
  const v = validateNetworkConfiguration(EXAMPLE);
  assert.ok(v.ok, JSON.stringify(v.diagnostics));
  return explode(v.value as NetworkConfiguration, DEFAULT_EXPLODE_INPUTS);
}

/** The example's c1 (dual, 3 nodes: two with overrides) and c2 (IPv6-only) registered; c3 is not. */
function routedSnapshot(instances: (SnapshotInstance & { userData?: string })[] = []): CloudSnapshot {
  return {
    config: routedConfig(),
    clcIp: '10.0.0.1',
    clusters: [
      {
        name: 'c1',
        ccUrl: 'https://10.0.0.6:8774/',
        ccIp: '10.0.0.6',
        nodes: ['172.31.0.11', '172.31.0.12', 'node-c'].map((name) => ({ name, ncUrl: `https://${name}:8775/` })),
      },
      { name: 'c2', ccUrl: 'https://10.0.0.16:8774/', ccIp: '10.0.0.16', nodes: [{ name: '172.31.1.11', ncUrl: 'https://172.31.1.11:8775/' }] },
    ],
    instances,
    groups: [{ id: 'sg-00000001', name: 'default', ownerId: '000000000001', rules: [] }],
  };
}

const inst = (id: string, patch: Partial<SnapshotInstance> & { userData?: string } = {}) => ({
  id,
  ownerId: '000000000001',
  cluster: 'c1',
  node: '172.31.0.11',
  mac: `d0:0d:${id.slice(2, 4)}:${id.slice(4, 6)}:${id.slice(6, 8)}:${id.slice(8, 10)}`,
  privateIp: '10.50.0.10',
  groups: ['sg-00000001'],
  ...patch,
});

/** Serialize, parse (which validates) and return the document as a reader sees it. */
function roundTrip(content: ReturnType<typeof mapGni>): GniDocument {
  const doc = buildGniOf(content);
  const parsed = parseGni(serializeGni(doc));
  assert.ok(parsed.ok, JSON.stringify(parsed.diagnostics));
  assert.deepEqual(parsed.value.configuration, doc.configuration);
  assert.deepEqual(parsed.value.instances, doc.instances);
  return parsed.value;
}

function buildGniOf(content: ReturnType<typeof mapGni>): GniDocument {
  return { version: 'test', ...content };
}

test('the document carries the gateways, each cluster\'s addressing and every registered node\'s merged BGP settings', () => {
  const content = mapGni(routedSnapshot([inst('i-0a0b0c0d', { privateIp: '10.50.0.10' })]));
  assert.deepEqual(validateGni(content).filter((d) => d.severity === 'error'), []);
  const doc = roundTrip(content);
  const conf = doc.configuration;
  assert.equal(conf.mode, 'ROUTED');
  assert.deepEqual(configurationRouted(conf), { ipv4: '169.254.0.1', ipv6: 'fe80::1' });
  // The gateways are written even when they are the defaults: the document says what netd must hold.
  assert.deepEqual(conf.extensions?.map((e) => e.name), ['routed']);
  assert.deepEqual(conf.instanceDnsServers, ['198.51.100.53']);
  assert.deepEqual(
    conf.clusters.map((c) => [c.name, c.subnet, c.privateIps, clusterRoutedAddressing(c), clusterIpv6(c)]),
    [
      ['c1', { name: '169.254.0.0', subnet: '169.254.0.0', netmask: '255.255.0.0', gateway: '169.254.0.1' }, ['10.50.0.10-10.50.0.200', '10.50.1.0-10.50.1.15'], 'dual', { prefix: '2001:db8:50::/64', dnsServers: ['2001:db8:ffff::53'] }],
      ['c2', { name: '169.254.0.0', subnet: '169.254.0.0', netmask: '255.255.0.0', gateway: '169.254.0.1' }, [], 'ipv6', { prefix: '2001:db8:51::/64', dnsServers: ['2001:db8:ffff::53'] }],
    ],
  );
  // ipv6 stays the first extension of a cluster, routed follows.
  assert.deepEqual(conf.clusters[0]!.extensions?.map((e) => e.name), ['ipv6', 'routed']);
  const [c1, c2] = conf.clusters;
  const bgp = (name: string) => nodeBgpText([...c1!.nodes, ...c2!.nodes].find((n) => n.name === name)!);
  assert.deepEqual(bgp('172.31.0.11'), { localAs: '65011', routerId: '172.31.0.11', peers: ['172.31.0.1 65000', '2001:db8:31::1 65000'], communities: ['65001:100'], password: 's3cret' });
  assert.deepEqual(bgp('172.31.0.12'), { localAs: '65001', peers: ['172.31.0.254 65000', '2001:db8:31::254 65000'], communities: ['65001:100'], password: 's3cret' });
  // A registered node the property does not list gets the cluster's settings, without a router id.
  assert.deepEqual(bgp('node-c'), { localAs: '65001', peers: ['172.31.0.1 65000', '2001:db8:31::1 65000'], communities: ['65001:100'], password: 's3cret' });
  // c2: the cluster's LocalAsn and empty Communities over the cloud's.
  assert.deepEqual(bgp('172.31.1.11'), { localAs: '65002', peers: ['172.31.0.1 65000', '2001:db8:31::1 65000'], communities: [], password: 's3cret' });
  assert.deepEqual(doc.instances[0]!.extensions?.map((e) => e.name), ['ipv6']);
});

test('an IPv6-only cluster\'s instance carries no privateIp, only its EUI-64 address, and the document is valid', () => {
  const { privateIp: _none, ...v6only } = inst('i-0a0b0c1d', { cluster: 'c2', node: '172.31.1.11' });
  const content = mapGni(routedSnapshot([v6only, inst('i-0a0b0c0d')]));
  assert.deepEqual(validateGni(content).filter((d) => d.severity === 'error'), []);
  const doc = roundTrip(content);
  const i = doc.instances.find((x) => x.name === 'i-0a0b0c1d')!;
  assert.equal(i.privateIp, undefined);
  assert.deepEqual(i.extensions, [{ name: 'ipv6', properties: [{ name: 'address', values: ['2001:db8:51:0:d20d:aff:fe0b:c1d'] }] }]);
  assert.deepEqual(doc.configuration.clusters.find((c) => c.name === 'c2')!.nodes[0]!.instanceIds, ['i-0a0b0c1d']);
});

test('sections the mode leaves alone are the same objects; the instances section changes only for user data', () => {
  const snapshot = routedSnapshot([inst('i-0a0b0c0d')]);
  const base = { configuration: mapGni({ ...snapshot, config: undefined }).configuration, instances: [], securityGroups: [] };
  // No ROUTED configuration (the property unset): the base itself.
  assert.equal(ROUTED_MODE.extendDocument(base, { snapshot: { ...snapshot, config: undefined } }), base);
  const content = mapGni(snapshot);
  const again = ROUTED_MODE.extendDocument(content, { snapshot });
  assert.notEqual(again.configuration, content.configuration);
  assert.equal(again.instances, content.instances);
  assert.equal(again.securityGroups, content.securityGroups);
});

test('an instance with user data carries it in its routed extension, split into values a document holds; others carry none', () => {
  const big = Buffer.alloc(16 * 1024, 7).toString('base64'); // EC2's limit, 21,848 base64 characters
  const content = mapGni(routedSnapshot([inst('i-0a0b0c0d', { userData: 'I2Nsb3VkLWNvbmZpZwo=' }), inst('i-0a0b0c0e', { privateIp: '10.50.0.11' }), inst('i-0a0b0c0f', { privateIp: '10.50.0.12', userData: big })]));
  assert.deepEqual(validateGni(content).filter((d) => d.severity === 'error'), []);
  const doc = roundTrip(content);
  const byName = new Map(doc.instances.map((i) => [i.name, i]));
  assert.equal(instanceUserData(byName.get('i-0a0b0c0d')!), 'I2Nsb3VkLWNvbmZpZwo=');
  assert.equal(instanceUserData(byName.get('i-0a0b0c0e')!), undefined);
  assert.deepEqual(byName.get('i-0a0b0c0e')!.extensions?.map((e) => e.name), ['ipv6']);
  assert.equal(instanceUserData(byName.get('i-0a0b0c0f')!), big);
  const values = byName.get('i-0a0b0c0f')!.extensions!.find((e) => e.name === 'routed')!.properties[0]!.values;
  assert.equal(values.length, Math.ceil(big.length / MAX_EXTENSION_VALUE_CHARS));
});

test('the incremental encoder gives the same bytes as a build from scratch, across changes', () => {
  const encoder = new GniEncoder();
  const steps = [
    routedSnapshot([inst('i-0a0b0c0d')]),
    routedSnapshot([inst('i-0a0b0c0d'), inst('i-0a0b0c0e', { privateIp: '10.50.0.11', node: '172.31.0.12' })]),
    routedSnapshot([inst('i-0a0b0c0d', { userData: 'aGVsbG8=' }), inst('i-0a0b0c0e', { privateIp: '10.50.0.11', node: '172.31.0.12' })]),
    routedSnapshot([inst('i-0a0b0c0e', { privateIp: '10.50.0.11', node: '172.31.0.12' })]),
  ];
  for (const [i, s] of steps.entries()) {
    const text = encoder.build(s).encode(i + 1).toString('utf8');
    assert.equal(text, serializeGni(buildGni(structuredClone(s), { sequence: i + 1 })), `step ${i}`);
  }
});

test('an EDGE property\'s document is untouched by ROUTED and carries no routed or bgp extension', () => {
  const snap = syntheticSnapshot({ instances: 5, groups: 2, rulesPerGroup: 1, clusters: 2, nodesPerCluster: 2 });
  const base = mapGni(snap);
  assert.equal(ROUTED_MODE.extendDocument(base, { snapshot: snap }), base);
  const text = serializeGni(buildGni(snap));
  assert.ok(!/name="(routed|bgp)"/.test(text));
});

test('the example goes through property set into a valid ROUTED document (instances on the dual-stack cluster)', async () => {
  const f = await fixture();
  try {
    await f.properties.set('cloud.network.network_configuration', EXAMPLE);
    await f.state.registerCluster({ name: 'c1', ccUrl: 'https://10.0.0.6:8774/' });
    await f.state.registerNode({ cluster: 'c1', name: '172.31.0.11', ncUrl: 'https://172.31.0.11:8775/' });
    await f.state.registerNode({ cluster: 'c1', name: '172.31.0.12', ncUrl: 'https://172.31.0.12:8775/' });
    await f.state.createGroup({ name: 'web' });
    await f.state.runInstance({ cluster: 'c1', node: '172.31.0.11', groups: ['web'] });
    const snapshot = await f.store.read((db) => readSnapshot(db, '10.0.0.1'));
    assert.equal(snapshot.config?.Mode, 'ROUTED');
    const doc = buildGni(snapshot);
    const parsed = parseGni(serializeGni(doc));
    assert.ok(parsed.ok, JSON.stringify(parsed.diagnostics));
    const c1 = parsed.value.configuration.clusters[0]!;
    assert.equal(clusterRoutedAddressing(c1), 'dual');
    assert.deepEqual(c1.nodes.map((n) => nodeBgpText(n)?.localAs), ['65011', '65001']);
    const [i] = parsed.value.instances;
    assert.match(i!.privateIp ?? '', /^10\.50\.0\.\d+$/);
    assert.ok(i!.extensions?.some((e) => e.name === 'ipv6'));
  } finally {
    await f.close();
  }
});
