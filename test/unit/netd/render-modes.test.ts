/**
 * The mode seam on the node: render() dispatches on the document's mode
 * through netd/modes/registry.ts; every known mode has a netd implementation;
 * a mode netd does not implement is refused with UNSUPPORTED_MODE (a failed
 * result, so the caller keeps the previous state), never rendered as EDGE;
 * through a sync, such a document changes nothing on the host.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import { syncOnce, type SyncDeps } from '../../../src/netd/sync.ts';
import { FakeHost, group, inst, testGniXml } from '../../helpers/fake-host.ts';
import { edgeMode } from '../../../src/netd/modes/edge.ts';
import { routedMode } from '../../../src/netd/modes/routed.ts';
import { ROUTED_NODE, routedDoc } from '../../helpers/routed-doc.ts';
import { modeNameOf, netdMode } from '../../../src/netd/modes/registry.ts';
import { render } from '../../../src/netd/render/render.ts';
import type { HostFacts } from '../../../src/netd/render/types.ts';
import { NETWORK_MODES, isNetworkMode } from '../../../src/shared/gni/mode.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';

const NODE = '10.0.0.21';
const HOST: HostFacts = { bridgeMac: '02:00:00:00:00:01', bridgeAddresses: ['10.10.0.2/16'] };

function doc(mode: string | undefined): GniDocument {
  return {
    version: 'v1',
    sequence: 3,
    configuration: {
      ...(mode === undefined ? {} : { mode }),
      publicIps: ['203.0.113.10-203.0.113.20'], enabledClcIp: '10.0.0.5', instanceDnsDomain: 'eucalyptus.internal',
      instanceDnsServers: ['10.0.0.2'], subnets: [],
      clusters: [{
        name: 'zone-a', subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' }, macPrefix: 'd0:0d',
        privateIps: ['10.10.1.2-10.10.2.254'],
        nodes: [{ name: NODE, instanceIds: ['i-00000001'] }],
      }],
    },
    instances: [{ name: 'i-00000001', ownerId: '1', macAddress: 'd0:0d:00:00:00:05', privateIp: '10.10.1.5', publicIp: '203.0.113.11', securityGroups: ['sg-0000000a'] }],
    securityGroups: [{ name: 'sg-0000000a', ownerId: '1', ingressRules: [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }] }],
  };
}

test('every known mode has a netd implementation under its own name', () => {
  for (const name of NETWORK_MODES) assert.equal(netdMode(name)?.name, name);
});

test('mode names: only the listed ones are modes (no prototype keys, no case folding)', () => {
  assert.equal(isNetworkMode('EDGE'), true);
  for (const name of ['edge', 'VPCMIDO', 'constructor', 'toString', '__proto__', '']) {
    assert.equal(isNetworkMode(name), false, name);
    assert.equal(netdMode(name), undefined, name);
  }
});

test('a document without a mode is EDGE (Eucalyptus 4.0 documents name none)', () => {
  assert.equal(modeNameOf(doc(undefined)), 'EDGE');
  assert.equal(modeNameOf(doc('EDGE')), 'EDGE');
  const implicit = render(doc(undefined), { node: NODE }, DEFAULT_NETD_CONFIG, HOST);
  const explicit = render(doc('EDGE'), { node: NODE }, DEFAULT_NETD_CONFIG, HOST);
  assert.ok(explicit.ok && implicit.ok);
  assert.deepEqual(implicit.state, explicit.state);
});

test('render() gives exactly what the EDGE mode renders', () => {
  const d = doc('EDGE');
  const r = render(d, { node: NODE }, DEFAULT_NETD_CONFIG, HOST);
  assert.ok(r.ok);
  assert.deepEqual(r.state, edgeMode.render({ doc: d, node: NODE, config: DEFAULT_NETD_CONFIG, host: HOST }));
  assert.deepEqual(r.state.instances.map((i) => i.id), ['i-00000001']);
});

test('render() gives exactly what the ROUTED mode renders (no bridge, routed ports)', () => {
  const d = routedDoc({ instances: [{ id: 'i-a0000001', mac: 'd0:0d:a0:00:00:01', ipv4: '10.50.0.11', ipv6: true }] });
  const r = render(d, { node: ROUTED_NODE }, DEFAULT_NETD_CONFIG, {});
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.state, routedMode.render({ doc: d, node: ROUTED_NODE, config: DEFAULT_NETD_CONFIG, host: {} }));
  assert.equal(r.state.bridge, undefined);
  assert.deepEqual(r.state.routed?.ports.map((p) => p.interface), ['vn_i-a0000001']);
  // The EDGE renderer would have refused nothing and bridged it: the document's mode decided.
  assert.notDeepEqual(r.state, edgeMode.render({ doc: { ...d, configuration: { ...d.configuration, mode: 'EDGE' } }, node: ROUTED_NODE, config: DEFAULT_NETD_CONFIG, host: HOST }));
});

test('a mode netd does not implement is refused with UNSUPPORTED_MODE, naming the mode', () => {
  for (const mode of ['VPCMIDO', 'edge', 'routed']) {
    const r = render(doc(mode), { node: NODE }, DEFAULT_NETD_CONFIG, HOST);
    assert.equal(r.ok, false, mode);
    if (r.ok) continue;
    assert.equal(r.code, 'UNSUPPORTED_MODE');
    assert.match(r.message, new RegExp(`"${mode}"`));
  }
});

test('the refusal comes before anything else is checked (a node absent from the document is not the reason given)', () => {
  const r = render(doc('VPCMIDO'), { node: '10.9.9.9' }, DEFAULT_NETD_CONFIG, HOST);
  assert.equal(r.ok ? 'ok' : r.code, 'UNSUPPORTED_MODE');
});

test('a sync of a document in an unknown mode changes nothing on the host and is reported', async () => {
  const host = new FakeHost({
    links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }], pub0: [{ address: '192.0.2.5', prefixlen: 24 }] },
  });
  const file = '/run/en/global_network_info.xml';
  let t = 1_700_000_000_000;
  const deps: SyncDeps = {
    host, config: { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', privateInterface: 'eth1', publicInterface: 'pub0' },
    runDir: '/run/en', gniFile: file, now: () => (t += 1), wait: async () => undefined,
  };
  const cloud = { nodes: [{ name: 'node1', instances: ['i-00000001'] }], instances: [inst('i-00000001', 11, ['sg-0000000a'], '198.51.100.11')], groups: [group('sg-0000000a')] };
  host.files.set(file, testGniXml({ ...cloud, sequence: 1 }));
  const applied = await syncOnce(deps, { trigger: 'file', full: true });
  assert.equal(applied.result, 'ok');
  const good = host.dump();
  const writes = host.writeCount;

  const edge = testGniXml({ ...cloud, instances: [], nodes: [{ name: 'node1', instances: [] }], sequence: 2 });
  assert.ok(edge.includes('<property name="mode"><value>EDGE</value></property>'));
  host.files.set(file, edge.replace('<property name="mode"><value>EDGE</value></property>', '<property name="mode"><value>VPCMIDO</value></property>'));
  const o = await syncOnce(deps, { trigger: 'file', full: true });
  assert.equal(o.result, 'invalid-document');
  assert.match(o.error ?? '', /VPCMIDO/);
  assert.equal(o.status.appliedSequence, applied.status.appliedSequence, 'the last good state stays the applied one');
  assert.equal(host.dump(), good);
  assert.equal(host.writeCount, writes);
});
