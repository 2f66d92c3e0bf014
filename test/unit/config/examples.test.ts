/**
 * Every examples/network_configuration*.json is accepted without a single
 * diagnostic, and its exploded form (with DEFAULT_EXPLODE_INPUTS) equals the
 * reviewed golden file test/fixtures/config/exploded/<name>.json.
 * UPDATE_GOLDEN=1 rewrites the golden files (review the diff by hand).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';

const examples = new URL('../../../examples/', import.meta.url);
const golden = new URL('../../fixtures/config/exploded/', import.meta.url);
const files = readdirSync(examples).filter((f) => /^network_configuration.*\.json$/.test(f)).sort();

test('the required examples exist', () => {
  for (const name of ['network_configuration.json', 'network_configuration.named-subnets.json', 'network_configuration.multi-cluster.json', 'network_configuration.minimal.json']) {
    assert.ok(files.includes(name), `examples/${name} is missing`);
  }
});

for (const file of files) {
  test(`examples/${file} is valid and explodes to the golden document`, () => {
    const result = validateNetworkConfiguration(readFileSync(new URL(file, examples), 'utf8'));
    assert.deepEqual(result.diagnostics, []);
    assert.ok(result.ok);
    const exploded = explode(result.value, DEFAULT_EXPLODE_INPUTS);
    const goldenFile = new URL(file, golden);
    const text = `${JSON.stringify(exploded, null, 2)}\n`;
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(goldenFile, text);
    assert.ok(existsSync(goldenFile), `no golden file for ${file}; run with UPDATE_GOLDEN=1 and review it`);
    assert.deepEqual(exploded, JSON.parse(readFileSync(goldenFile, 'utf8')));
  });
}

test('the design example is the Eucalyptus EDGE one: cluster PARTI00, MacPrefix d0:0d, 10.111.0.0/16 via 10.111.0.1, ranges in both pools', () => {
  const doc = JSON.parse(readFileSync(new URL('network_configuration.json', examples), 'utf8'));
  const cluster = doc.Clusters[0];
  assert.equal(cluster.Name, 'PARTI00');
  assert.equal(cluster.MacPrefix, 'd0:0d');
  assert.deepEqual(cluster.Subnet, { Name: '10.111.0.0', Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' });
  assert.ok(doc.PublicIps.some((e: string) => e.includes('-')));
  assert.ok(cluster.PrivateIps.some((e: string) => e.includes('-')));
});
