/** The JSON Schema file itself: 2020-12, closed objects everywhere, and path conversion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pointerToPath } from '../../../src/cloud-controller/config/schema.ts';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/network_configuration.schema.json', import.meta.url), 'utf8'));

test('the schema is JSON Schema 2020-12', () => {
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

test('every object in the schema forbids unknown keys', () => {
  const objects: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
    if (typeof node !== 'object' || node === null) return;
    const rec = node as Record<string, unknown>;
    if (rec['type'] === 'object') {
      objects.push(at);
      assert.equal(rec['additionalProperties'], false, `${at} allows unknown keys`);
    }
    for (const [k, v] of Object.entries(rec)) walk(v, `${at}/${k}`);
  };
  walk(schema, '#');
  assert.deepEqual(objects.sort(), ['#', '#/$defs/bgp', '#/$defs/bgpPeer', '#/$defs/cluster', '#/$defs/clusterSubnet', '#/$defs/instanceGateway', '#/$defs/nodeBgp', '#/$defs/routedNode', '#/$defs/subnet']);
});

test('the schema describes every key of the property', () => {
  assert.deepEqual(Object.keys(schema.properties).sort(), ['Bgp', 'Clusters', 'InstanceDnsDomain', 'InstanceDnsServers', 'InstanceGateway', 'MacPrefix', 'Mode', 'PrivateIps', 'PublicGateway', 'PublicIps', 'Subnets']);
  assert.deepEqual(Object.keys(schema.$defs.subnet.properties).sort(), ['Gateway', 'Ipv6DnsServers', 'Ipv6Prefix', 'Name', 'Netmask', 'Subnet']);
  assert.deepEqual(Object.keys(schema.$defs.clusterSubnet.properties).sort(), ['Gateway', 'Ipv6DnsServers', 'Ipv6Prefix', 'Name', 'Netmask', 'Subnet']);
  assert.deepEqual(Object.keys(schema.$defs.cluster.properties).sort(), ['Bgp', 'Ipv4Pool', 'Ipv6Prefix', 'MacPrefix', 'Name', 'Nodes', 'PrivateIps', 'Subnet']);
  // ROUTED: a router id is one node's, so only a node's Bgp has it.
  assert.deepEqual(Object.keys(schema.$defs.bgp.properties), ['LocalAsn', 'Peers', 'Communities', 'Password']);
  assert.deepEqual(Object.keys(schema.$defs.nodeBgp.properties), ['LocalAsn', 'RouterId', 'Peers', 'Communities', 'Password']);
  assert.deepEqual(Object.keys(schema.$defs.bgpPeer.properties), ['Address', 'Asn']);
  assert.deepEqual(Object.keys(schema.$defs.instanceGateway.properties), ['Ipv4', 'Ipv6']);
  assert.deepEqual(Object.keys(schema.$defs.routedNode.properties), ['Name', 'Bgp']);
});

test('JSON pointers become the property notation', () => {
  assert.equal(pointerToPath(''), '');
  assert.equal(pointerToPath('/PublicIps/2'), 'PublicIps[2]');
  assert.equal(pointerToPath('/Clusters/0/Subnet/Gateway'), 'Clusters[0].Subnet.Gateway');
  assert.equal(pointerToPath('/a~1b/c~0d'), 'a/b.c~d');
});
