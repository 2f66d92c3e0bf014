/**
 * The install guide's multi-cluster cloud end to end on the CLC and netd:
 * PARTI00 and PARTI01 share the flat subnet 10.111.0.0/16 with disjoint
 * PrivateIps (install guide 2014 and 2017 editions; eucalyptus-edge.md §6.2).
 * IPAM draws each cluster's instances from its own pool only; the document
 * carries both clusters on the one subnet with their own pools (and the
 * property's PublicGateway); netd renders a node of each cluster with only
 * its own instances local, nothing of the other cluster refused or left out,
 * and every instance of the cloud in the group's ipset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import { renderUntrusted } from '../../../src/netd/render/sanitize.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { fixture, rejectsCode } from './fixture.ts';

const GUIDE = JSON.parse(readFileSync(new URL('../../fixtures/config/eucalyptus/install-guide-4.4-multi-cluster.json', import.meta.url), 'utf8'));
const NODE_0 = '10.111.1.10';
const NODE_1 = '10.111.1.11';

async function guideCloud() {
  const f = await fixture();
  await f.properties.set('cloud.network.network_configuration', JSON.stringify({ ...GUIDE, PublicGateway: '10.111.101.1' }));
  await f.state.registerCluster({ name: 'PARTI00', ccUrl: 'https://10.111.1.2:8774/' });
  await f.state.registerCluster({ name: 'PARTI01', ccUrl: 'https://10.111.1.3:8774/' });
  await f.state.registerNode({ cluster: 'PARTI00', name: NODE_0, ncUrl: `https://${NODE_0}:8775/` });
  await f.state.registerNode({ cluster: 'PARTI01', name: NODE_1, ncUrl: `https://${NODE_1}:8775/` });
  const web = await f.state.createGroup({ name: 'web' });
  return { ...f, webId: web.id };
}

function renderNode(doc: GniDocument, node: string) {
  const r = renderUntrusted(doc, { node }, DEFAULT_NETD_CONFIG, { bridgeMac: '02:00:00:00:00:01', bridgeAddresses: [`${node}/16`] });
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.message}`);
  return r.state;
}

test('each cluster\'s instances get addresses from its own pool only, and each pool exhausts on its own', async () => {
  const f = await guideCloud();
  const run = (cluster: string, node: string) => f.state.runInstance({ cluster, node, groups: ['web'] });
  const a = [await run('PARTI00', NODE_0), await run('PARTI00', NODE_0)];
  const b = [await run('PARTI01', NODE_1), await run('PARTI01', NODE_1)];
  assert.deepEqual(a.map((i) => i.privateIp), ['10.111.101.94', '10.111.101.95']);
  assert.deepEqual(b.map((i) => i.privateIp), ['10.111.101.96', '10.111.101.97']);
  // Same MacPrefix in both clusters: MACs still differ, each is the prefix plus the (unique) id's bytes.
  const macs = [...a, ...b].map((i) => i.mac);
  assert.equal(new Set(macs).size, 4);
  assert.ok(macs.every((m) => m.startsWith('d0:0d:')));
  const err = await rejectsCode(run('PARTI00', NODE_0), 'ADDRESS_POOL_EXHAUSTED');
  assert.match(err.message, /cluster PARTI00/);
  await rejectsCode(f.state.runInstance({ cluster: 'PARTI00', node: NODE_0, groups: ['web'], privateIp: '10.111.101.96' }), 'ADDRESS_NOT_IN_POOL');
  await f.close();
});

test('the document carries both clusters on the shared subnet with their own pools; netd renders a node of each correctly', async () => {
  const f = await guideCloud();
  const a = await f.state.runInstance({ cluster: 'PARTI00', node: NODE_0, groups: ['web'] });
  const b = await f.state.runInstance({ cluster: 'PARTI01', node: NODE_1, groups: ['web'] });
  const doc = buildGni(await f.state.snapshot(), { sequence: 1 });
  const conf = doc.configuration;
  assert.equal(conf.publicGateway, '10.111.101.1');
  assert.deepEqual(conf.subnets, []);
  assert.deepEqual(
    conf.clusters.map((c) => [c.name, c.subnet, c.macPrefix, c.privateIps, c.nodes.map((n) => [n.name, n.instanceIds])]),
    [
      ['PARTI00', { name: '10.111.0.0', subnet: '10.111.0.0', netmask: '255.255.0.0', gateway: '10.111.0.1' }, 'd0:0d', ['10.111.101.94', '10.111.101.95'], [[NODE_0, [a.id]]]],
      ['PARTI01', { name: '10.111.0.0', subnet: '10.111.0.0', netmask: '255.255.0.0', gateway: '10.111.0.1' }, 'd0:0d', ['10.111.101.96', '10.111.101.97'], [[NODE_1, [b.id]]]],
    ],
  );

  for (const [node, local, other] of [[NODE_0, a, b], [NODE_1, b, a]] as const) {
    const s = renderNode(doc, node);
    // Nothing of the other cluster is refused as outside "its" subnet, duplicated or reserved.
    assert.deepEqual(s.refused ?? [], [], `${node}: ${JSON.stringify(s.refused)}`);
    assert.deepEqual(s.instances.map((i) => [i.id, i.privateIp, i.mac]), [[local.id, local.privateIp, local.mac]]);
    const set = (suffix: string) => s.ipsets.find((x) => x.name.endsWith(suffix));
    // The shared subnet is one private network (listed once), reached without SNAT from both clusters.
    assert.deepEqual(s.ipsets.find((x) => x.comment.startsWith('private networks'))?.members, ['10.111.0.0/16']);
    assert.deepEqual(s.ipsets.find((x) => x.comment.startsWith('private IPs of the instances on this node'))?.members, [local.privateIp]);
    // Group membership is cloud-wide: the other cluster's instance is a member on this node too.
    assert.deepEqual(set(`-${f.webId}`)?.members, [a.privateIp, b.privateIp].sort());
    // dhcpd serves only this node's instance, on the shared subnet with its gateway.
    const dhcpd = s.processes.find((p) => p.kind === 'dhcpd');
    const conf = dhcpd?.files.map((x) => x.content).join('\n') ?? '';
    assert.match(conf, /subnet 10\.111\.0\.0 netmask 255\.255\.0\.0/);
    assert.match(conf, /option routers 10\.111\.0\.1;/);
    assert.ok(conf.includes(local.mac) && conf.includes(local.privateIp!), `${node} serves ${local.id}`);
    assert.ok(!conf.includes(other.mac) && !conf.includes(other.privateIp!), `${node} does not serve ${other.id}`);
  }
  await f.close();
});
