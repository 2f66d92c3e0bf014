/**
 * Hundreds of instances run and terminated in parallel through the HTTP API
 * of the real `edgenet clc` process never share a private IP, a MAC or an id —
 * also across a crash (kill -9) and restart, with released addresses held and
 * not reused, under both allocation strategies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startClc, tempDir, type ApiResult } from '../unit/clc/harness.ts';

const CONFIG = {
  InstanceDnsServers: ['10.0.0.2'],
  MacPrefix: 'd0:0d',
  PublicIps: ['192.0.2.1-192.0.2.200'],
  Clusters: [{ Name: 'P1', Subnet: { Name: 'p1', Subnet: '10.50.0.0', Netmask: '255.255.0.0', Gateway: '10.50.0.1' }, PrivateIps: ['10.50.0.10-10.50.3.250'] }],
};
const NODES = ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14'];

interface Instance {
  id: string;
  mac: string;
  privateIp: string;
  publicIp?: string;
  node: string;
}

function assertUnique(instances: readonly Instance[], what: string): void {
  for (const key of ['id', 'mac', 'privateIp'] as const) {
    const values = instances.map((i) => i[key]);
    assert.equal(new Set(values).size, values.length, `${what}: duplicate ${key}`);
  }
  const publics = instances.map((i) => i.publicIp).filter((p) => p !== undefined);
  assert.equal(new Set(publics).size, publics.length, `${what}: duplicate public IP`);
}

test('parallel run/terminate over HTTP: no address or MAC twice, also across a crash and restart', { timeout: 180_000 }, async () => {
  const { dir, cleanup } = tempDir();
  let clc = await startClc(dir);
  try {
    assert.equal((await api(clc, 'PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(CONFIG) })).status, 200);
    assert.equal((await api(clc, 'POST', '/v1/clusters', { name: 'P1', ccUrl: 'https://127.0.0.1:9/' , ccIp: '127.0.0.1' })).status, 201);
    for (const n of NODES) assert.equal((await api(clc, 'POST', '/v1/clusters/P1/nodes', { name: n, ncUrl: `https://${n}:8775/` })).status, 201);
    assert.equal((await api(clc, 'POST', '/v1/groups', { name: 'g' })).status, 201);

    const run = (i: number) => api<Instance>(clc, 'POST', '/v1/instances', { cluster: 'P1', node: NODES[i % NODES.length], groups: ['g'] });
    const ok = (results: ApiResult<Instance>[]) => {
      for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
      return results.map((r) => r.body);
    };

    // Phase 1: 300 parallel runs.
    let live = ok(await Promise.all(Array.from({ length: 300 }, (_, i) => run(i))));
    assertUnique(live, 'phase 1');

    // Phase 2: terminate half while running 150 more and allocating/associating public addresses, all at once.
    const victims = live.filter((_, i) => i % 2 === 0);
    const keep = live.filter((_, i) => i % 2 === 1);
    const [terminated, started, allocated] = await Promise.all([
      Promise.all(victims.map((v) => api(clc, 'DELETE', `/v1/instances/${v.id}`))),
      Promise.all(Array.from({ length: 150 }, (_, i) => run(i))),
      Promise.all(Array.from({ length: 60 }, () => api<{ ip: string }>(clc, 'POST', '/v1/addresses', {}))),
    ]);
    for (const t of terminated) assert.equal(t.status, 200);
    const fresh = ok(started);
    const heldIps = new Set(victims.map((v) => v.privateIp));
    for (const f of fresh) assert.equal(heldIps.has(f.privateIp), false, `${f.privateIp} was reused while held`);
    const publicIps = allocated.map((a) => {
      assert.equal(a.status, 201);
      return a.body.ip;
    });
    assert.equal(new Set(publicIps).size, 60);
    const assoc = await Promise.all(publicIps.map((ip, i) => api(clc, 'POST', `/v1/addresses/${ip}/associate`, { instance: keep[i]!.id })));
    for (const a of assoc) assert.equal(a.status, 200);
    live = [...keep, ...fresh];

    const listed = (await api<{ instances: Instance[] }>(clc, 'GET', '/v1/instances')).body.instances;
    assertUnique(listed, 'after phase 2');
    assert.deepEqual(listed.map((i) => i.id).sort(), live.map((i) => i.id).sort());
    const ipam = (await api(clc, 'GET', '/v1/ipam?cluster=P1')).body;
    assert.equal(ipam.pools[0].allocated, 300);
    assert.equal(ipam.pools[0].held, 150);

    // Crash and restart: every acknowledged change survives; holds survive.
    await clc.stop('SIGKILL');
    clc = await startClc(dir);
    const afterCrash = (await api<{ instances: Instance[] }>(clc, 'GET', '/v1/instances')).body.instances;
    assert.deepEqual(afterCrash.map((i) => i.id).sort(), live.map((i) => i.id).sort());
    assert.equal(afterCrash.filter((i) => i.publicIp !== undefined).length, 60);

    // Phase 3 (random strategy): 200 more in parallel plus 100 terminations.
    assert.equal((await api(clc, 'PUT', '/v1/properties/cloud.network.address_allocation', { value: 'random' })).status, 200);
    const more = live.slice(0, 100);
    const [moreTerminated, moreStarted] = await Promise.all([
      Promise.all(more.map((v) => api(clc, 'DELETE', `/v1/instances/${v.id}`))),
      Promise.all(Array.from({ length: 200 }, (_, i) => run(i))),
    ]);
    for (const t of moreTerminated) assert.equal(t.status, 200);
    const third = ok(moreStarted);
    for (const v of [...victims, ...more]) heldIps.add(v.privateIp);
    for (const f of third) assert.equal(heldIps.has(f.privateIp), false, `${f.privateIp} was reused while held`);
    const final = (await api<{ instances: Instance[] }>(clc, 'GET', '/v1/instances')).body.instances;
    assertUnique(final, 'final');
    assert.equal(final.length, 400);
    const finalIpam = (await api(clc, 'GET', '/v1/ipam?cluster=P1')).body;
    assert.equal(finalIpam.pools[0].allocated, 400);
    assert.equal(finalIpam.pools[0].held, 250);
    const holdSet = new Set(finalIpam.holds.map((h: { ip: string }) => h.ip));
    for (const i of final) assert.equal(holdSet.has(i.privateIp), false);
  } finally {
    await clc.stop();
    cleanup();
  }
});
