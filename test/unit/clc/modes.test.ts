/**
 * The CLC's network modes (src/cloud-controller/modes/): the registry covers
 * NETWORK_MODES and agrees with the JSON Schema; an unknown Mode is refused
 * with its own code while the rest is still checked; EDGE's keys are checked
 * through the mode; keys of another mode are refused; the document hook is
 * what both GNI build paths (mapper and incremental encoder) call.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NETWORK_MODES, DEFAULT_NETWORK_MODE, type NetworkModeName } from '../../../src/shared/gni/mode.ts';
import { CLC_MODE_LIST, clcMode, declaredMode } from '../../../src/cloud-controller/modes/registry.ts';
import { EDGE_MODE } from '../../../src/cloud-controller/modes/edge.ts';
import type { ClcNetworkMode } from '../../../src/cloud-controller/modes/mode.ts';
import { otherModesKeys, validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { CONFIG_CODES } from '../../../src/cloud-controller/config/codes.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { GniEncoder } from '../../../src/cloud-controller/gni/encoder.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { syntheticSnapshot } from '../../fixtures/gni/synthetic.ts';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/network_configuration.schema.json', import.meta.url), 'utf8'));

const SUBNET = { Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' };
const VALID = { PublicIps: ['192.0.2.1-192.0.2.9'], Subnets: [SUBNET] };

const codesOf = (input: unknown) => validateNetworkConfiguration(input).diagnostics.map((d) => `${d.code} ${d.path}`);

test('the registry has exactly one CLC mode per NETWORK_MODES entry, each under its own name', () => {
  assert.deepEqual(
    CLC_MODE_LIST.map((m) => m.name),
    [...NETWORK_MODES],
  );
  for (const name of NETWORK_MODES) assert.equal(clcMode(name).name, name);
  assert.equal(clcMode('EDGE'), EDGE_MODE);
});

test('the schema agrees with the registry: Mode enum = NETWORK_MODES, top-level keys = Mode + every mode\'s keys, cluster keys = every mode\'s cluster keys', () => {
  assert.deepEqual(schema.properties.Mode.enum, [...NETWORK_MODES]);
  const keys = ['Mode', ...new Set(CLC_MODE_LIST.flatMap((m) => m.keys))];
  assert.deepEqual(Object.keys(schema.properties), keys);
  assert.deepEqual(Object.keys(schema.$defs.cluster.properties), [...new Set(CLC_MODE_LIST.flatMap((m) => m.clusterKeys))]);
  // The Mode-dependent rules name only keys of the mode they apply to.
  assert.deepEqual(schema.if, { properties: { Mode: { const: 'ROUTED' } }, required: ['Mode'] });
  for (const key of Object.keys(schema.then.properties)) assert.ok(clcMode('ROUTED').keys.includes(key), key);
  for (const key of Object.keys(schema.else.properties)) assert.ok(EDGE_MODE.keys.includes(key), key);
});

test('no mode lists a key twice or defines Mode; modes share only the keys whose meaning they share', () => {
  for (const m of CLC_MODE_LIST) {
    assert.equal(new Set(m.keys).size, m.keys.length, m.name);
    assert.equal(new Set(m.clusterKeys).size, m.clusterKeys.length, m.name);
    assert.ok(!m.keys.includes('Mode'));
    assert.ok(m.clusterKeys.includes('Name'), `${m.name}: a cluster is named`);
  }
  const shared = EDGE_MODE.keys.filter((k) => clcMode('ROUTED').keys.includes(k));
  assert.deepEqual(shared, ['InstanceDnsDomain', 'InstanceDnsServers', 'MacPrefix', 'PublicIps', 'Clusters']);
  assert.deepEqual(EDGE_MODE.clusterKeys.filter((k) => clcMode('ROUTED').clusterKeys.includes(k)), ['Name', 'MacPrefix']);
});

test('a document selects its mode with Mode; without Mode it is the default mode', () => {
  assert.equal(declaredMode({ ...VALID, Mode: 'EDGE' }).mode, EDGE_MODE);
  assert.deepEqual(declaredMode(VALID), { mode: clcMode(DEFAULT_NETWORK_MODE), known: true });
  assert.deepEqual(declaredMode({ ...VALID, Mode: 'VPCMIDO' }), { mode: clcMode(DEFAULT_NETWORK_MODE), known: false });
  assert.deepEqual(declaredMode({ ...VALID, Mode: 7 }), { mode: clcMode(DEFAULT_NETWORK_MODE), known: false });
  assert.deepEqual(declaredMode('not an object'), { mode: clcMode(DEFAULT_NETWORK_MODE), known: true });
});

test('an unknown Mode is refused with MODE_UNSUPPORTED naming the supported modes; nothing else is reported for a valid rest', () => {
  for (const mode of ['VPCMIDO', 'MANAGED', 'MANAGED-NOVLAN', 'edge']) {
    const result = validateNetworkConfiguration({ ...VALID, Mode: mode });
    assert.equal(result.ok, false, mode);
    assert.deepEqual(
      result.diagnostics.map((d) => [d.code, d.path, d.severity]),
      [['MODE_UNSUPPORTED', 'Mode', 'error']],
      mode,
    );
    assert.match(result.diagnostics[0]!.message, new RegExp(`Cannot use mode ${JSON.stringify(JSON.stringify(mode)).slice(1, -1)}: supported: "EDGE", "ROUTED"`));
  }
  assert.deepEqual(codesOf({ ...VALID, Mode: 1 }), ['TYPE_MISMATCH Mode']);
  // "" is unset, as Eucalyptus read it (eucalyptus-edge.md §6.2): the default mode, with a warning.
  const unset = validateNetworkConfiguration({ ...VALID, Mode: '' });
  assert.equal(unset.ok, true);
  assert.deepEqual(unset.diagnostics.map((d) => [d.code, d.path, d.severity]), [['VALUE_UNSET', 'Mode', 'warning']]);
  // The registry's meaning names the modes there are.
  assert.match(CONFIG_CODES['MODE_UNSUPPORTED']!.meaning, /"EDGE", "ROUTED"/);
});

test('with an unknown Mode the rest is still checked as the default mode\'s document', () => {
  assert.deepEqual(codesOf({ Mode: 'VPCMIDO', PublicIps: ['192.0.2.9-192.0.2.1'], Subnets: [SUBNET] }), ['MODE_UNSUPPORTED Mode', 'RANGE_REVERSED PublicIps[0]']);
});

test('EDGE\'s keys are checked by the EDGE mode, with or without Mode: EDGE', () => {
  const doc = { PublicIps: ['192.0.2.9-192.0.2.1'], Subnets: [{ ...SUBNET, Gateway: '10.112.0.1' }], MacPrefix: 'd1:00' };
  const own = EDGE_MODE.checks(doc).map((d) => `${d.code} ${d.path}`);
  assert.deepEqual(new Set(own), new Set(['MAC_PREFIX_MULTICAST MacPrefix', 'GATEWAY_OUTSIDE_SUBNET Subnets[0].Gateway', 'RANGE_REVERSED PublicIps[0]']));
  assert.deepEqual(new Set(codesOf(doc)), new Set(own));
  assert.deepEqual(codesOf({ ...doc, Mode: 'EDGE' }), codesOf(doc));
  // A valid EDGE document passes and explodes to its mode.
  const ok = validateNetworkConfiguration({ ...VALID, Mode: 'EDGE' });
  assert.equal(ok.ok, true);
  if (ok.ok) assert.equal(explode(ok.value, DEFAULT_EXPLODE_INPUTS).Mode, 'EDGE');
});

test('calls to validate go through the declared mode\'s checks', () => {
  const spy = mock.method(EDGE_MODE, 'checks');
  try {
    validateNetworkConfiguration({ ...VALID, Mode: 'EDGE' });
    validateNetworkConfiguration(JSON.stringify(VALID));
    assert.equal(spy.mock.callCount(), 2);
    assert.deepEqual(spy.mock.calls[0]!.arguments[0], { ...VALID, Mode: 'EDGE' });
  } finally {
    spy.mock.restore();
  }
});

test('a key of another mode is refused with UNKNOWN_KEY naming its mode; the document\'s own keys are not', () => {
  const routed = { name: 'ROUTED' as NetworkModeName, keys: ['Asn', 'PublicIps'], clusterKeys: ['Name'], checks: () => [], extendDocument: (b) => b } satisfies ClcNetworkMode;
  const modes = [EDGE_MODE, routed];
  const out = otherModesKeys({ Mode: 'EDGE', Asn: 64512, PublicIps: [], Surprise: 1 }, { mode: EDGE_MODE, modes });
  assert.deepEqual(
    out.map((d) => [d.code, d.path, d.severity]),
    [['UNKNOWN_KEY', 'Asn', 'error']],
  );
  assert.match(out[0]!.message, /belongs to mode ROUTED; this document's mode is EDGE/);
  assert.deepEqual(otherModesKeys({ Asn: 1, PublicIps: [] }, { mode: routed, modes }), []);
  assert.deepEqual(otherModesKeys({ ...VALID, MacPrefix: 'd0:0d' }, { mode: EDGE_MODE, modes: CLC_MODE_LIST }), []);
});

test('EDGE adds nothing to the document: the hook returns the base model itself', () => {
  const base = { configuration: { mode: 'EDGE', publicIps: [], instanceDnsServers: [], subnets: [], clusters: [] }, instances: [], securityGroups: [] };
  assert.equal(EDGE_MODE.extendDocument(base, { snapshot: syntheticSnapshot({ instances: 1, groups: 1, rulesPerGroup: 1, clusters: 1, nodesPerCluster: 1 }) }), base);
});

test('both build paths call the document\'s mode hook; a replaced section is serialized, the others keep their bytes', () => {
  const snap = syntheticSnapshot({ instances: 20, groups: 3, rulesPerGroup: 2, clusters: 2, nodesPerCluster: 2 });
  const encoder = new GniEncoder();
  const before = encoder.build(snap).encode(1).toString('utf8');
  assert.ok(!before.includes('203.0.113.99'));
  const hook = mock.method(EDGE_MODE, 'extendDocument', (base: Parameters<ClcNetworkMode['extendDocument']>[0]) => ({
    ...base,
    configuration: { ...base.configuration, publicIps: [...base.configuration.publicIps, '203.0.113.99'] },
  }));
  try {
    const incremental = encoder.build(snap);
    const scratch = buildGni(snap, { sequence: 1 });
    const text = incremental.encode(1).toString('utf8');
    assert.equal(text, serializeGni(scratch));
    assert.equal(incremental.doc.version, scratch.version);
    assert.ok(text.includes('<value>203.0.113.99</value>'));
    assert.equal(hook.mock.callCount(), 2);
    // Only the configuration differs from the EDGE document.
    const section = (t: string) => t.slice(t.indexOf('<vpcs/>'));
    assert.equal(section(text), section(before));
  } finally {
    hook.mock.restore();
  }
  assert.equal(encoder.build(snap).encode(1).toString('utf8'), before);
});
