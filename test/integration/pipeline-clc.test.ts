/**
 * The whole pipeline with real processes over real HTTPS on 127.0.0.1: the
 * real `edgenet clc` (with the broadcaster plugin), two `edgenet cc`, four
 * `edgenet nc`, certificates from `edgenet certs`, a fake netd per node.
 * API changes reach every node's file; `edgenet status` shows convergence and
 * a down node as lagging; a CC that was down catches up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { requireRoot } from '../helpers/root.ts';
import { Lab, api, cli, waitFor } from './pipeline-harness.ts';
import type { StatusView } from '../../src/cloud-controller/broadcast/status-view.ts';

type Nc = Awaited<ReturnType<Lab['startNc']>>;
type Cc = Awaited<ReturnType<Lab['startCc']>>;

const lab = new Lab();
let clc: Awaited<ReturnType<Lab['startClc']>>;
let ccs: Cc[] = [];
let nodes: Nc[] = [];

const CONFIG = {
  Mode: 'EDGE',
  InstanceDnsServers: ['10.1.1.254'],
  MacPrefix: 'd0:0d',
  PublicIps: ['198.51.100.2-198.51.100.50'],
  Clusters: [
    { Name: 'zone-a', Subnet: { Name: 'zone-a', Subnet: '10.100.0.0', Netmask: '255.255.255.0', Gateway: '10.100.0.1' }, PrivateIps: ['10.100.0.10-10.100.0.200'] },
    { Name: 'zone-b', Subnet: { Name: 'zone-b', Subnet: '10.100.1.0', Netmask: '255.255.255.0', Gateway: '10.100.1.1' }, PrivateIps: ['10.100.1.10-10.100.1.200'] },
  ],
};

async function fileHas(n: Nc, text: string): Promise<boolean> {
  return (await fs.readFile(n.gniFile, 'utf8').catch(() => '')).includes(text);
}

async function allHave(list: Nc[], text: string) {
  await waitFor(`${text} on ${list.map((n) => n.name).join(',')}`, async () => {
    for (const n of list) if (!(await fileHas(n, text))) return false;
    return true;
  });
}

/** `edgenet status --json` and `edgenet status` (the real CLI, one run each). */
async function status(): Promise<{ code: number; textCode: number; view: StatusView; text: string }> {
  const [json, text] = await Promise.all([
    cli(['status', '--json', '--url', clc.api, '--token', clc.token]),
    cli(['status', '--url', clc.api, '--token', clc.token]),
  ]);
  return { code: json.exitCode, textCode: text.exitCode, view: JSON.parse(json.stdout) as StatusView, text: text.stdout };
}

/** Polls GET /v1/status (cheap) until `pred` holds. */
async function viewWhere(what: string, pred: (v: StatusView) => boolean): Promise<StatusView> {
  return waitFor(what, async () => {
    const v = await api<StatusView>(clc, 'GET', '/v1/status');
    return pred(v) ? v : undefined;
  });
}

const node = (v: StatusView, name: string) => v.clusters.flatMap((c) => c.nodes).find((x) => x.name === name);

async function run(node: string, cluster: string): Promise<string> {
  const inst = await api<{ id: string }>(clc, 'POST', '/v1/instances', { cluster, node, owner: '000000000001', groups: ['web'] });
  return inst.id;
}

before(async () => {
  if (process.getuid?.() !== 0 && process.env.CI !== 'true') return;
  await lab.makeCerts(Lab.ONE_PER_ROLE);
  nodes = await lab.startFakeNodes(['10.99.0.1', '10.99.0.2', '10.99.0.3', '10.99.0.4']);
  ccs = await Promise.all([lab.startCc('cc-a'), lab.startCc('cc-b')]);
  clc = await lab.startClc();
  await api(clc, 'PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(CONFIG) });
  for (const [i, zone] of ['zone-a', 'zone-b'].entries()) {
    await api(clc, 'POST', '/v1/clusters', { name: zone, ccUrl: ccs[i]!.url, ccIp: '127.0.0.1' });
    for (const n of nodes.slice(i * 2, i * 2 + 2)) await api(clc, 'POST', `/v1/clusters/${zone}/nodes`, { name: n.name, ncUrl: n.url });
  }
  await api(clc, 'POST', '/v1/groups', { name: 'web', owner: '000000000001', description: 'pipeline test' });
});

after(async () => {
  await lab.cleanup();
});

test('an API change reaches every node file and edgenet status shows every node converged', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const id = await run('10.99.0.1', 'zone-a');
  await allHave(nodes, `name="${id}"`);
  await viewWhere('every node converged', (v) => v.converged);
  const s = await status();
  assert.equal(s.code, 0);
  assert.equal(s.textCode, 0);
  assert.equal(s.view.converged, true);
  assert.equal(s.view.clusters.length, 2);
  for (const c of s.view.clusters) {
    assert.equal(c.nodes.length, 2);
    for (const n of c.nodes) {
      assert.equal(n.converged, true);
      assert.equal(n.appliedSequence, s.view.current!.sequence);
      assert.equal(n.deliveredVersion, s.view.current!.version);
      assert.equal(n.lagSequences, 0);
      assert.equal(n.result, 'ok');
    }
  }
  assert.match(s.text, /all nodes converged/);
  assert.match(s.text, /10\.99\.0\.4 .*converged/);
  const metrics = await (await fetch(`http://127.0.0.1:${clc.metricsPort}/metrics`)).text();
  assert.match(metrics, /edgenet_clc_broadcasts_sent_total\{cluster="zone-a"\} [1-9]/);
  assert.match(metrics, /edgenet_clc_document_build_seconds_count [1-9]/);
});

test('a node controller that is down shows as lagging, then converges when it returns', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const down = nodes[3]!;
  await down.kill('SIGKILL');
  const id = await run('10.99.0.3', 'zone-b');
  await allHave(nodes.slice(0, 3), `name="${id}"`);
  await viewWhere('10.99.0.4 unreachable', (v) => node(v, down.name)?.result === 'unreachable');
  const lagging = await status();
  assert.equal(lagging.code, 1, 'edgenet status exits 1 when not converged');
  assert.equal(lagging.view.converged, false);
  for (const other of nodes.slice(0, 3)) assert.equal(node(lagging.view, other.name)?.converged, true, other.name);
  const n4 = lagging.view.clusters.flatMap((c) => c.nodes).find((x) => x.name === down.name)!;
  assert.ok(n4.lagSequences >= 1);
  assert.ok(n4.lastError);
  assert.match(lagging.text, /10\.99\.0\.4 .*LAGGING/);
  assert.match(lagging.text, /NOT converged/);
  await lab.restart(down, lab.ncArgs(down));
  await allHave([down], `name="${id}"`);
  await viewWhere('converged again', (v) => v.converged);
  assert.equal((await status()).code, 0);
});

test('a cluster controller that was down catches up after it restarts', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const cc = ccs[0]!;
  await cc.kill('SIGKILL');
  const id = await run('10.99.0.2', 'zone-a');
  await allHave(nodes.slice(2), `name="${id}"`);
  const view = await viewWhere('zone-a broadcast failing', (v) => {
    const c = v.clusters.find((x) => x.name === 'zone-a')!;
    return c.failures > 0 && c.lastError !== undefined;
  });
  assert.equal(view.converged, false);
  assert.equal(await fileHas(nodes[0]!, `name="${id}"`), false);
  await lab.restart(cc, cc.args);
  await allHave(nodes.slice(0, 2), `name="${id}"`); // the CLC's retry (or periodic re-broadcast) delivers it
  await viewWhere('converged after CC restart', (v) => v.converged);
});
