/**
 * explode(): the defaults of eucalyptus-edge.md §3.4, rule by rule, and
 * explodeInputsFromProperties().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EXPLODE_INPUTS, explode, explodeInputsFromProperties } from '../../../src/cloud-controller/config/explode.ts';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import type { ExplodeInputs, NetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';

const SUBNET = { Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' };
const SUBNET_B = { Subnet: '10.112.0.0', Netmask: '255.255.0.0', Gateway: '10.112.0.1' };

/** Explodes a document after checking that it is valid (explode's precondition). */
function ex(doc: NetworkConfiguration, inputs: ExplodeInputs = DEFAULT_EXPLODE_INPUTS) {
  const v = validateNetworkConfiguration(doc);
  assert.ok(v.ok, JSON.stringify(v.diagnostics));
  return explode(v.value, inputs);
}

test('DEFAULT_EXPLODE_INPUTS are the Eucalyptus property defaults', () => {
  assert.deepEqual({ ...DEFAULT_EXPLODE_INPUTS, nameservers: [...DEFAULT_EXPLODE_INPUTS.nameservers] }, { macPrefix: 'd0:0d', instanceSubdomain: '.eucalyptus', nameservers: [] });
});

test('MacPrefix precedence: cluster, then top level, then cloud.vmstate.mac_prefix', () => {
  const inputs = { ...DEFAULT_EXPLODE_INPUTS, macPrefix: 'aa:bb' };
  const clusters = [
    { Name: 'own', MacPrefix: 'D2:01', Subnet: SUBNET },
    { Name: 'inherits', Subnet: SUBNET_B },
  ];
  const withTop = ex({ PublicIps: ['192.0.2.1'], MacPrefix: 'd0:0e', Clusters: clusters }, inputs);
  assert.equal(withTop.MacPrefix, 'd0:0e');
  assert.deepEqual(withTop.Clusters.map((c) => c.MacPrefix), ['d2:01', 'd0:0e']);
  const withoutTop = ex({ PublicIps: ['192.0.2.1'], Clusters: clusters }, inputs);
  assert.equal(withoutTop.MacPrefix, 'aa:bb');
  assert.deepEqual(withoutTop.Clusters.map((c) => c.MacPrefix), ['d2:01', 'aa:bb']);
  assert.equal(ex({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'x', Subnet: SUBNET }] }).Clusters[0]?.MacPrefix, 'd0:0d');
});

test('the derived pool is the whole subnet minus network, broadcast and gateway (testExplodeMinimal)', () => {
  const out = ex({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'PARTI00', Subnet: SUBNET }] });
  assert.deepEqual(out.Clusters[0]?.PrivateIps, ['10.111.0.2-10.111.255.254']);
  // A gateway in the middle splits the range in two.
  const mid = ex({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'c', Subnet: { Subnet: '10.0.0.0', Netmask: '255.255.255.0', Gateway: '10.0.0.100' } }] });
  assert.deepEqual(mid.Clusters[0]?.PrivateIps, ['10.0.0.1-10.0.0.99', '10.0.0.101-10.0.0.254']);
  const last = ex({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'c', Subnet: { Subnet: '10.0.0.0', Netmask: '255.255.255.252', Gateway: '10.0.0.2' } }] });
  assert.deepEqual(last.Clusters[0]?.PrivateIps, ['10.0.0.1']);
});

test('private pools: the cluster list, else the top-level list, else derived; an empty list counts as absent', () => {
  const out = ex({
    PublicIps: ['192.0.2.1'],
    PrivateIps: ['10.111.5.1-10.111.5.9'],
    Subnets: [{ Name: 'a', ...SUBNET }, { Name: 'b', ...SUBNET_B }],
    Clusters: [
      { Name: 'inherits', Subnet: { Name: 'a' } },
      { Name: 'own', Subnet: { Name: 'b' }, PrivateIps: [' 10.112.0.5 - 10.112.0.9 ', '10.112.1.1'] },
    ],
  });
  assert.deepEqual(out.Clusters.map((c) => c.PrivateIps), [['10.111.5.1-10.111.5.9'], ['10.112.0.5-10.112.0.9', '10.112.1.1']]);
  const empty = ex({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'c', Subnet: SUBNET, PrivateIps: [] }] });
  assert.deepEqual(empty.Clusters[0]?.PrivateIps, ['10.111.0.2-10.111.255.254']);
});

test('cluster subnets: inline, by Name, or the single top-level subnet; Name defaults to the subnet address', () => {
  const single = ex({ PublicIps: ['192.0.2.1'], Subnets: [SUBNET], Clusters: [{ Name: 'c' }] });
  assert.deepEqual(single.Clusters[0]?.Subnet, { Name: '10.111.0.0', ...SUBNET });
  assert.deepEqual(single.Subnets, [{ Name: '10.111.0.0', ...SUBNET }]);
  const named = ex({ PublicIps: ['192.0.2.1'], Subnets: [{ Name: 'a', ...SUBNET }, { Name: 'b', ...SUBNET_B }], Clusters: [{ Name: 'c', Subnet: { Name: 'b' } }] });
  assert.deepEqual(named.Clusters[0]?.Subnet, { Name: 'b', ...SUBNET_B });
  assert.equal(named.Subnets.length, 2, 'top-level subnets are kept as configured');
  const inline = ex({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'c', Subnet: { Name: 'mine', ...SUBNET_B } }] });
  assert.deepEqual(inline.Clusters[0]?.Subnet, { Name: 'mine', ...SUBNET_B });
});

test('DNS defaults: instance_subdomain without its leading dot + .internal; nameservers unless a lone 127.0.0.1', () => {
  const doc = { PublicIps: ['192.0.2.1'], Subnets: [SUBNET] };
  assert.equal(ex(doc).InstanceDnsDomain, 'eucalyptus.internal');
  assert.equal(ex(doc, { ...DEFAULT_EXPLODE_INPUTS, instanceSubdomain: '..cloud' }).InstanceDnsDomain, 'cloud.internal');
  assert.equal(ex({ ...doc, InstanceDnsDomain: 'my.domain' }).InstanceDnsDomain, 'my.domain');
  assert.deepEqual(ex(doc, { ...DEFAULT_EXPLODE_INPUTS, nameservers: ['127.0.0.1'] }).InstanceDnsServers, []);
  assert.deepEqual(ex(doc, { ...DEFAULT_EXPLODE_INPUTS, nameservers: ['10.0.0.2', '127.0.0.1'] }).InstanceDnsServers, ['10.0.0.2', '127.0.0.1']);
  assert.deepEqual(ex({ ...doc, InstanceDnsServers: ['10.9.9.9'] }, { ...DEFAULT_EXPLODE_INPUTS, nameservers: ['10.0.0.2'] }).InstanceDnsServers, ['10.9.9.9']);
});

test('Mode is EDGE, public IPs are canonical, and clusters are not invented without registeredClusters', () => {
  const out = ex({ PublicIps: ['192.0.2.1 -192.0.2.5', '192.0.2.9'], Subnets: [SUBNET] });
  assert.equal(out.Mode, 'EDGE');
  assert.deepEqual(out.PublicIps, ['192.0.2.1-192.0.2.5', '192.0.2.9']);
  assert.deepEqual(out.Clusters, []);
});

test('registered clusters missing from the document get entries from the single top-level subnet', () => {
  const out = ex({ PublicIps: ['192.0.2.1'], PrivateIps: ['10.111.9.1-10.111.9.9'], Subnets: [SUBNET] }, { ...DEFAULT_EXPLODE_INPUTS, registeredClusters: ['PARTI00'] });
  assert.deepEqual(out.Clusters, [{ Name: 'PARTI00', MacPrefix: 'd0:0d', Subnet: { Name: '10.111.0.0', ...SUBNET }, PrivateIps: ['10.111.9.1-10.111.9.9'] }]);
  // A configured cluster is not duplicated; without a single top-level subnet nobody is materialised.
  const configured = ex({ PublicIps: ['192.0.2.1'], Subnets: [SUBNET], Clusters: [{ Name: 'PARTI00' }] }, { ...DEFAULT_EXPLODE_INPUTS, registeredClusters: ['PARTI00'] });
  assert.equal(configured.Clusters.length, 1);
  const none = ex({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'a', Subnet: SUBNET }] }, { ...DEFAULT_EXPLODE_INPUTS, registeredClusters: ['b'] });
  assert.deepEqual(none.Clusters.map((c) => c.Name), ['a']);
});

test('explode refuses a document whose cluster subnet cannot be resolved', () => {
  assert.throws(() => explode({ PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'c', Subnet: { Name: 'nope' } }] }, DEFAULT_EXPLODE_INPUTS), { code: 'INVALID_CONFIGURATION' });
});

test('explodeInputsFromProperties reads the three related properties', () => {
  const props: Record<string, unknown> = {
    'cloud.vmstate.mac_prefix': 'd0:0e',
    'cloud.vmstate.instance_subdomain': '.cloud',
    'system.dns.nameserveraddress': '10.0.0.2, 10.0.0.3,',
  };
  assert.deepEqual(explodeInputsFromProperties((n) => props[n]), { macPrefix: 'd0:0e', instanceSubdomain: '.cloud', nameservers: ['10.0.0.2', '10.0.0.3'] });
  assert.deepEqual(explodeInputsFromProperties(() => undefined), { macPrefix: 'd0:0d', instanceSubdomain: '.eucalyptus', nameservers: [] });
});
