/**
 * Backup, restore and held addresses through the real pipeline: the real
 * `edgenet clc` (broadcaster), one `edgenet cc`, two `edgenet nc` over mutual
 * TLS on 127.0.0.1, a fake netd per node (pipeline-harness.ts) that applies
 * whatever lands in the shared file and reports its generation.
 *
 * - A released private address is freed as soon as both nodes applied a
 *   document built after the release, with no other change in the cloud
 *   (issue 18 item 2: a periodic run's reused snapshot used to tie the next
 *   document to a release mark before the release).
 * - Backup (CLC running) → change → stop the CLC → `edgenet clc restore` →
 *   start the CLC: every node converges to the restored state (instances the
 *   restored CLC does not know are gone from every file) with no manual step,
 *   and a document of the superseded generation is then refused by the CC with
 *   a message naming both generations.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { requireRoot } from '../helpers/root.ts';
import { Lab, api, broadcast, cli, gniXml, waitFor } from './pipeline-harness.ts';
import { readGniHeader } from '../../src/shared/gni/header.ts';
import type { StatusView } from '../../src/cloud-controller/broadcast/status-view.ts';
import type { IpamView } from '../../src/cloud-controller/services/ipam.ts';

type Nc = Awaited<ReturnType<Lab['startNc']>>;
type Cc = Awaited<ReturnType<Lab['startCc']>>;

const lab = new Lab();
let clc: Awaited<ReturnType<Lab['startClc']>>;
let cc: Cc;
let nodes: Nc[] = [];
const CLUSTER = 'zone-r';
const DB = () => path.join(lab.dir, 'clc.db');

const CONFIG = {
  Mode: 'EDGE',
  InstanceDnsServers: ['10.1.1.254'],
  MacPrefix: 'd0:0d',
  PublicIps: ['198.51.100.2-198.51.100.50'],
  Clusters: [{ Name: CLUSTER, Subnet: { Name: CLUSTER, Subnet: '10.120.0.0', Netmask: '255.255.255.0', Gateway: '10.120.0.1' }, PrivateIps: ['10.120.0.10-10.120.0.200'] }],
};

const fileOf = (n: Nc) => fs.readFile(n.gniFile, 'utf8').catch(() => '');

async function everyNode(what: string, pred: (text: string) => boolean, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, async () => {
    for (const n of nodes) if (!pred(await fileOf(n))) return false;
    return true;
  }, timeoutMs);
}

async function converged(what: string): Promise<StatusView> {
  let last: StatusView | undefined;
  return waitFor(what, async () => {
    const v = (last = await api<StatusView>(clc, 'GET', '/v1/status').catch(() => undefined));
    // Applied = the current version on both nodes (not `converged`, which also asks for netd's liveness: the netd here is fake).
    const applied = v?.current !== undefined && v.clusters.length === 1 && v.clusters[0]!.nodes.length === 2 && v.clusters[0]!.nodes.every((n) => n.appliedVersion === v.current!.version);
    return applied ? v : undefined;
  }, 30_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`);
  });
}

async function run(node: string): Promise<{ id: string; privateIp: string }> {
  return api(clc, 'POST', '/v1/instances', { cluster: CLUSTER, node, owner: '000000000001', groups: ['web'] });
}

before(async () => {
  if (process.getuid?.() !== 0 && process.env.CI !== 'true') return;
  await lab.makeCerts(Lab.ONE_PER_ROLE);
  nodes = await lab.startFakeNodes(['127.0.0.11', '127.0.0.12']);
  cc = await lab.startCc('cc-r');
  clc = await lab.startClc();
  await api(clc, 'PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(CONFIG) });
  // Periodic runs every second: between changes they take snapshots and reuse the document.
  await api(clc, 'PUT', '/v1/properties/cloud.network.broadcast_interval', { value: '1' });
  await api(clc, 'POST', '/v1/clusters', { name: CLUSTER, ccUrl: cc.url, ccIp: '127.0.0.1' });
  for (const n of nodes) await api(clc, 'POST', `/v1/clusters/${CLUSTER}/nodes`, { name: n.name, ncUrl: n.url });
  await api(clc, 'POST', '/v1/groups', { name: 'web', owner: '000000000001', description: 'restore test' });
});

after(async () => {
  await lab.cleanup();
});

test('a released address is freed once both nodes applied a document without it, with no other change', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const inst = await run(nodes[0]!.name);
  await everyNode('instance on every node', (x) => x.includes(`name="${inst.id}"`));
  await converged('converged with the instance');
  // Let periodic runs happen (each takes a snapshot and reuses the document: no new sequence).
  const before = (await api<StatusView>(clc, 'GET', '/v1/status')).current!.sequence;
  await new Promise((resolve) => setTimeout(resolve, 2500)); // the condition here IS time passing: ≥ 2 periodic runs of 1 s
  assert.equal((await api<StatusView>(clc, 'GET', '/v1/status')).current!.sequence, before, 'periodic runs drew no sequence');
  await api(clc, 'DELETE', `/v1/instances/${inst.id}`);
  const held = await api<IpamView>(clc, 'GET', `/v1/ipam?cluster=${CLUSTER}`);
  assert.ok(held.holds.some((h) => h.ip === inst.privateIp), 'held right after the release');
  await everyNode('instance gone from every node', (x) => x.length > 0 && !x.includes(`name="${inst.id}"`));
  await converged('converged without the instance');
  // No other change from here on: the hold must end on its own, far before address_hold_timeout (300 s).
  const freed = await waitFor('address freed', async () => {
    const v = await api<IpamView>(clc, 'GET', `/v1/ipam?cluster=${CLUSTER}`);
    return v.holds.some((h) => h.ip === inst.privateIp) ? undefined : v;
  }, 10_000);
  assert.equal(freed.pools[0]!.held, 0);
});

test('backup, change, restore: every node converges to the restored state; the superseded generation is refused', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const kept = await run(nodes[0]!.name);
  await api(clc, 'POST', '/v1/groups/web/authorize', { owner: '000000000001', protocol: 'tcp', port: '22', cidr: '192.0.2.0/24' });
  await everyNode('kept instance and rule everywhere', (x) => x.includes(`name="${kept.id}"`) && x.includes('192.0.2.0/24'));
  const backupFile = path.join(lab.dir, 'backup.db');
  const b = await cli(['clc', 'backup', backupFile, '--db', DB(), '--json']);
  assert.equal(b.exitCode, 0, b.stderr);
  const backup = JSON.parse(b.stdout) as { generation: number; sequence: number };

  // Changes after the backup: an instance on each node and another rule.
  const lost = [await run(nodes[0]!.name), await run(nodes[1]!.name)];
  await api(clc, 'POST', '/v1/groups/web/authorize', { owner: '000000000001', protocol: 'tcp', port: '8080', cidr: '203.0.113.0/24' });
  await everyNode('changes everywhere', (x) => lost.every((i) => x.includes(`name="${i.id}"`)) && x.includes('203.0.113.0/24'));
  const superseded = readGniHeader(await fileOf(nodes[0]!))!;
  assert.equal(superseded.generation, backup.generation);
  assert.ok(superseded.sequence! > backup.sequence);

  // Restore refuses while the CLC has the database open.
  const busy = await cli(['clc', 'restore', backupFile, '--db', DB(), '--json']);
  assert.equal(busy.exitCode, 1);
  assert.match(busy.stdout + busy.stderr, /DB_IN_USE/);

  await clc.kill('SIGTERM');
  const r = await cli(['clc', 'restore', backupFile, '--db', DB(), '--json']);
  assert.equal(r.exitCode, 0, r.stderr);
  const restored = JSON.parse(r.stdout) as { generation: number; previousGeneration: number };
  assert.ok(restored.generation > backup.generation);
  await fs.rm(path.join(lab.dir, 'clc.port')); // the stopped CLC's port: startClc waits for the new one
  clc = await lab.startClc();

  // No manual step: the nodes take the restored state although its sequences are lower.
  await everyNode('restored state on every node', (x) => {
    const h = readGniHeader(x);
    return h?.generation === restored.generation && x.includes(`name="${kept.id}"`) && lost.every((i) => !x.includes(`name="${i.id}"`)) && !x.includes('203.0.113.0/24') && x.includes('192.0.2.0/24');
  });
  const view = await converged('converged on the restored CLC');
  for (const n of view.clusters[0]!.nodes) assert.equal(n.appliedVersion, view.current!.version, n.name);

  // A document of the superseded generation (an old CLC still running) is refused, naming both generations.
  const asClc = lab.client('clc', 'cc');
  const err = await broadcast(asClc, cc.url, { xml: gniXml({ version: 'old0000000000000', sequence: superseded.sequence! + 100, generation: superseded.generation }), nodes: nodes.map((n) => ({ name: n.name, url: n.url })) }).then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string },
  );
  assert.ok(err, 'the CC must refuse the superseded generation');
  assert.equal(err.code, 'STALE_GENERATION');
  assert.ok(err.message.includes(`generation ${superseded.generation}`) && err.message.includes(`generation ${restored.generation}`), err.message);
  // And nothing changed on the nodes.
  for (const n of nodes) assert.equal(readGniHeader(await fileOf(n))?.generation, restored.generation);
});
