/**
 * End to end through the real pipeline: admin API → CLC → SOAP → CC → SOAP →
 * NC → shared file → netd → kernel → packets, in a lab of network namespaces
 * (src/lab). The scenarios of the Eucalyptus QA suites (eucalyptus-edge.md
 * §6.2): same / different groups, same / different nodes, private and public
 * addresses, CIDR and source-group authorizations, a tcp port range
 * authorized then revoked, a deleted source group, an elastic IP associated,
 * moved and disassociated, metadata from an instance, and netd restarted while
 * changes happen.
 *
 * Every wait is bounded: after a change the test waits until a document built
 * after it is applied on every node (edgenet status), then probes with real
 * packets (a few attempts with growing timeouts for "allowed"; "blocked" must
 * stay blocked over two attempts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import type { InstanceView } from '../../src/cloud-controller/services/instances.ts';
import type { StatusView } from '../../src/cloud-controller/broadcast/status-view.ts';
import { labUp, waitForConvergedAfter, waitForConvergence, type LabDeps } from '../../src/lab/up.ts';
import { labDown } from '../../src/lab/down.ts';
import { labApiFor, type ApiClient } from '../../src/lab/api.ts';
import { labVmAdd, labTopology } from '../../src/lab/vm.ts';
import { labStartDaemon, labStopDaemon } from '../../src/lab/restart.ts';
import { httpGet, probeExpecting, startServices, waitForServices, type ProbeResult } from '../../src/lab/probe.ts';
import type { Service } from '../../src/lab/matrix.ts';
import type { LabState } from '../../src/lab/state.ts';
import type { Topology } from '../../src/lab/topology.ts';

const name = `e${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-e2e-${name}`);
const deps: LabDeps = { exec: createExec(), env: process.env, log: (l) => process.stderr.write(`# ${l}\n`) };
const PORTS = [22, 80, 8000, 8001, 8002, 8003];
const tcp = (port: number): Service => ({ proto: 'tcp', port });

let state: LabState;
let api: ApiClient;
let topo: Topology;
const vms = new Map<string, InstanceView>();

async function changed<T>(call: () => Promise<T>): Promise<T> {
  const since = Date.now();
  const result = await call();
  await waitForConvergedAfter(api, since, { timeoutMs: 90_000 });
  return result;
}

async function runVm(label: string, node: 0 | 1, groups: string[]): Promise<InstanceView> {
  const plan = state.plan;
  const view = await api.request<InstanceView>('POST', '/v1/instances', { cluster: plan.cluster, node: plan.nodes[node]!.name, groups });
  const { instance } = await labVmAdd(state, api, { id: view.id, timeoutMs: 120_000 }, deps);
  startServices(topo.netns, instance.ns, { name: label, tcpPorts: PORTS });
  await waitForServices(topo.netns, instance.ns, PORTS);
  vms.set(label, view);
  return view;
}

const vm = (label: string) => vms.get(label)!;
const nsOf = (label: string) => topo.instanceNs(vm(label).id);

async function expectReach(from: string, to: string, service: Service, expected: ProbeResult, ip = vm(to).privateIp!): Promise<void> {
  const fromNs = from === 'client' ? topo.clientNs! : nsOf(from);
  const seen = await probeExpecting(topo.netns, { from: fromNs, ip, service }, expected);
  assert.equal(seen, expected, `${from} → ${to} (${ip}) ${service.proto}${'port' in service ? `/${service.port}` : ''}`);
}

async function waitForEcho(url: string): Promise<string> {
  for (let i = 0; i < 60; i++) {
    const r = await httpGet(topo.netns, nsOf('a1'), url, 2);
    if (r?.status === 200) return r.body.trim();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return '';
}

before(async () => {
  if (!isRoot()) return;
  state = await labUp({ name, dir, convergeTimeoutMs: 120_000 }, deps);
  api = labApiFor(state);
  topo = labTopology(state, deps);
  for (const g of ['g1', 'g2']) await api.request('POST', '/v1/groups', { name: g });
  // a1, a2 on n1 and b1 on n2 in g1; c1 on n2 in g2.
  await Promise.all([runVm('a1', 0, ['g1']), runVm('a2', 0, ['g1']), runVm('b1', 1, ['g1']), runVm('c1', 1, ['g2'])]);
  await waitForConvergence(api, { timeoutMs: 90_000 });
});

after(async () => {
  if (!isRoot()) return;
  await labDown({ name, dir }, deps);
});

test('same group: instances reach each other on one node and across nodes (private addresses)', { timeout: 180_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await expectReach('a1', 'a2', tcp(22), 'allowed');
  await expectReach('a1', 'b1', tcp(22), 'allowed');
  await expectReach('b1', 'a1', tcp(8001), 'allowed');
  await expectReach('b1', 'a2', { proto: 'icmp' }, 'allowed');
});

test('different groups are blocked until a rule admits them, by CIDR then by source group', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await expectReach('a1', 'c1', tcp(22), 'blocked');
  await expectReach('c1', 'a1', tcp(22), 'blocked');
  await expectReach('b1', 'c1', tcp(22), 'blocked'); // same node, different groups

  const byCidr = { protocol: 'tcp', port: '22', cidr: `${vm('a1').privateIp}/32` };
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', byCidr));
  await expectReach('a1', 'c1', tcp(22), 'allowed');
  await expectReach('a2', 'c1', tcp(22), 'blocked');
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', byCidr));
  await expectReach('a1', 'c1', tcp(22), 'blocked');

  const byGroup = { protocol: 'tcp', port: '22', sourceGroup: 'g1' };
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', byGroup));
  await expectReach('a1', 'c1', tcp(22), 'allowed');
  await expectReach('b1', 'c1', tcp(22), 'allowed');
  await expectReach('c1', 'a1', tcp(22), 'blocked'); // ingress only: g1 admits nothing from g2
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', byGroup));
  await expectReach('b1', 'c1', tcp(22), 'blocked');
});

test('a tcp port range opens exactly those ports; its revoke closes them', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const range = { protocol: 'tcp', port: '8000-8002', cidr: '0.0.0.0/0' };
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', range));
  for (const port of [8000, 8001, 8002]) await expectReach('a1', 'c1', tcp(port), 'allowed');
  await expectReach('a1', 'c1', tcp(8003), 'blocked');
  await expectReach('a1', 'c1', tcp(22), 'blocked');
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', range));
  for (const port of [8000, 8001, 8002]) await expectReach('a1', 'c1', tcp(port), 'blocked');
});

test('deleting a group used as a source leaves the other rules working', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await api.request('POST', '/v1/groups', { name: 'g3' });
  const fromG3 = { protocol: 'tcp', port: '22', sourceGroup: 'g3' };
  const fromB1 = { protocol: 'tcp', port: '22', cidr: `${vm('b1').privateIp}/32` };
  await api.request('POST', '/v1/groups/g2/authorize', fromG3);
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', fromB1));
  await expectReach('b1', 'c1', tcp(22), 'allowed');
  await changed(() => api.request('DELETE', '/v1/groups/g3'));
  await expectReach('b1', 'c1', tcp(22), 'allowed');
  await expectReach('a1', 'c1', tcp(22), 'blocked');
  const view = await api.request<StatusView>('GET', '/v1/status');
  for (const node of view.clusters.flatMap((c) => c.nodes)) assert.equal(node.result, 'ok', `${node.name}: ${node.lastError ?? ''}`);
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', fromB1));
});

test('an elastic IP: associated, reached from the client, moved to another node, disassociated', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await changed(() => api.request('POST', '/v1/groups/g1/authorize', { protocol: 'tcp', port: '80', cidr: '0.0.0.0/0' }));
  const { ip } = await api.request<{ ip: string }>('POST', '/v1/addresses', {});
  const hasAddress = async (node: 'n1' | 'n2') => (await topo.netns.execIn(topo.nodeNs(node), ['ip', '-4', '-o', 'addr', 'show', 'dev', 'pub0'])).stdout.includes(` ${ip}/32 `);

  await changed(() => api.request('POST', `/v1/addresses/${ip}/associate`, { instance: vm('a1').id }));
  await expectReach('client', 'a1', tcp(80), 'allowed', ip);
  await expectReach('client', 'a1', tcp(22), 'blocked', ip);
  assert.match((await httpGet(topo.netns, topo.clientNs!, `http://${ip}/`, 5))?.body ?? '', /hello from a1/);
  assert.equal(await hasAddress('n1'), true);
  // The instance's outgoing traffic leaves with its public address (SNAT); a client-side server echoes the source.
  const echo = "require('http').createServer((q, s) => s.end(q.socket.remoteAddress)).listen(8080, '" + state.plan.clientIp + "')";
  const server = topo.netns.startIn(topo.clientNs!, [process.execPath, '-e', echo]);
  try {
    const seen = await waitForEcho(`http://${state.plan.clientIp}:8080/`);
    assert.equal(seen, ip, 'a1 reaches the outside with its public address');
  } finally {
    server.kill('SIGKILL');
  }

  // Moving: disassociate, then associate with an instance on the other node.
  await api.request('POST', `/v1/addresses/${ip}/disassociate`, {});
  await changed(() => api.request('POST', `/v1/addresses/${ip}/associate`, { instance: vm('b1').id }));
  const moved = await httpGet(topo.netns, topo.clientNs!, `http://${ip}/`, 5);
  assert.match(moved?.body ?? '', /hello from b1/);
  assert.equal(await hasAddress('n1'), false, 'the /32 left n1');
  assert.equal(await hasAddress('n2'), true, 'the /32 is on n2');

  await changed(() => api.request('POST', `/v1/addresses/${ip}/disassociate`, {}));
  await expectReach('client', 'b1', tcp(80), 'blocked', ip);
  assert.equal(await hasAddress('n2'), false, 'the /32 is gone after disassociation');
  await api.request('DELETE', `/v1/addresses/${ip}`);
});

test('metadata from inside an instance answers for that instance', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const get = async (p: string) => (await httpGet(topo.netns, nsOf('c1'), `http://169.254.169.254/latest/meta-data/${p}`, 5))?.body;
  assert.equal(await get('instance-id'), vm('c1').id);
  assert.equal(await get('local-ipv4'), vm('c1').privateIp);
  assert.equal(await get('mac'), vm('c1').mac);
  assert.equal(await get('security-groups'), 'g2');
  assert.equal(await get('placement/availability-zone'), state.plan.cluster);
  assert.equal((await httpGet(topo.netns, nsOf('a1'), 'http://169.254.169.254/latest/meta-data/instance-id', 5))?.body, vm('a1').id);
});

test("a node's netd restarted while changes happen converges to the latest state", { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t)) return;
  state = await labStopDaemon(state, { role: 'netd', node: 'n2' });
  // Changes while n2's netd is down: the NC still receives them, nothing applies them.
  await api.request('POST', '/v1/groups/g2/authorize', { protocol: 'tcp', port: '8003', cidr: '0.0.0.0/0' });
  await api.request('POST', '/v1/groups/g2/authorize', { protocol: 'icmp', icmp: '-1:-1', sourceGroup: 'g1' });
  const since = Date.now();
  await expectReach('a1', 'c1', tcp(8003), 'blocked');
  state = await labStartDaemon(state, { role: 'netd', node: 'n2' }, deps);
  await waitForConvergedAfter(api, since - 5_000, { timeoutMs: 120_000 });
  await expectReach('a1', 'c1', tcp(8003), 'allowed');
  await expectReach('a2', 'c1', { proto: 'icmp' }, 'allowed');
  // The restart did not disturb what was already there.
  await expectReach('a1', 'b1', tcp(22), 'allowed');
  await expectReach('a1', 'c1', tcp(22), 'blocked');
});
