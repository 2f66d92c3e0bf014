/**
 * End to end with IPv6 rules (issue 14): admin API → CLC → SOAP → CC → SOAP →
 * NC → shared file → netd → ip6tables in the node namespace → IPv6 packets,
 * in the dual-stack lab (src/lab; `edgenet lab up` is dual-stack by default:
 * cluster PARTI00 has Ipv6Prefix 2001:db8:10::/64, the client sits on
 * 2001:db8:ffff::/64 and routes the cluster /64 via the nodes).
 *
 * a1 runs on n1 in g1, c1 on n2 in g2. Each change is followed by a wait for a
 * document built after it to be applied on every node (edgenet status), then
 * for the ip6tables rule itself in c1's node namespace, then real packets
 * (a few attempts with growing timeouts for "allowed"; "blocked" must stay
 * blocked over two attempts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { waitFor } from '../../src/shared/wait.ts';
import type { InstanceView } from '../../src/cloud-controller/services/instances.ts';
import type { GroupView } from '../../src/cloud-controller/services/groups.ts';
import { labUp, waitForConvergedAfter, waitForConvergence, type LabDeps } from '../../src/lab/up.ts';
import { labDown } from '../../src/lab/down.ts';
import { labApiFor, type ApiClient } from '../../src/lab/api.ts';
import { labVmAdd, labTopology } from '../../src/lab/vm.ts';
import { startServices, waitForServices } from '../../src/lab/probe.ts';
import type { LabState } from '../../src/lab/state.ts';
import type { Topology } from '../../src/lab/topology.ts';
import { expect6, globalAddresses, pings6, tcpConnects, v6Of } from '../helpers/ipv6-probe.ts';

const name = `e${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-e2e-${name}`);
const deps: LabDeps = { exec: createExec(), env: process.env, log: (l) => process.stderr.write(`# ${l}\n`) };
const PORTS = [22, 80];

let state: LabState;
let api: ApiClient;
let topo: Topology;
const vms = new Map<string, InstanceView>();
const groups = new Map<string, GroupView>();

async function changed<T>(call: () => Promise<T>): Promise<T> {
  const since = Date.now();
  const result = await call();
  await waitForConvergedAfter(api, since, { timeoutMs: 90_000 });
  return result;
}

const vm = (label: string) => vms.get(label)!;
const nsOf = (label: string) => topo.instanceNs(vm(label).id);
const v6 = (label: string) => v6Of(vm(label).mac, state.plan.ipv6!.prefix);
const nodeNsOf = (label: string) => topo.nodeNs(state.plan.nodes.find((n) => n.name === vm(label).node)!.short);

async function runVm(label: string, node: 0 | 1, groupNames: string[]): Promise<void> {
  const plan = state.plan;
  const view = await api.request<InstanceView>('POST', '/v1/instances', { cluster: plan.cluster, node: plan.nodes[node]!.name, groups: groupNames });
  const { instance } = await labVmAdd(state, api, { id: view.id, timeoutMs: 120_000 }, deps);
  vms.set(label, view);
  startServices(topo.netns, instance.ns, { name: label, tcpPorts: PORTS });
  await waitForServices(topo.netns, instance.ns, PORTS);
  const want = `${v6(label)}/64`;
  await waitFor(async () => (await globalAddresses(topo.netns, instance.ns)).includes(want), { what: `${label} to configure ${want} by SLAAC`, timeoutMs: 60_000, intervalMs: 250 });
}

/** The ip6tables filter rules of a group's chain in the node namespace of `label`. */
async function groupRules6(label: string, groupName: string): Promise<string[]> {
  const id = groups.get(groupName)!.id;
  const r = await topo.netns.execIn(nodeNsOf(label), ['ip6tables-save', '-t', 'filter']);
  return r.stdout.split('\n').filter((l) => l.startsWith('-A ') && l.split(' ')[1]!.includes(id));
}

/** Waits until the group chain on `label`'s node has (present) or lacks (absent) a rule matching `re`. */
async function awaitRule6(label: string, groupName: string, re: RegExp, present: boolean): Promise<void> {
  await waitFor(async () => (await groupRules6(label, groupName)).some((l) => re.test(l)) === present, {
    what: `ip6tables rule ${re} ${present ? 'in' : 'gone from'} ${groupName}'s chain on ${vm(label).node}`,
    timeoutMs: 30_000,
    intervalMs: 200,
  }).catch(async (err) => {
    throw new Error(`${String(err)}\n${(await groupRules6(label, groupName)).join('\n')}`);
  });
}

const reach = (from: string, to: string, port: number, want: boolean) =>
  expect6((s) => tcpConnects(topo.netns, from === 'client' ? topo.clientNs! : nsOf(from), v6(to), port, s), want);

before(async () => {
  if (!isRoot()) return;
  state = await labUp({ name, dir, convergeTimeoutMs: 120_000 }, deps);
  api = labApiFor(state);
  topo = labTopology(state, deps);
  for (const g of ['g1', 'g2']) groups.set(g, await api.request<GroupView>('POST', '/v1/groups', { name: g }));
  await Promise.all([runVm('a1', 0, ['g1']), runVm('c1', 1, ['g2'])]);
  await waitForConvergence(api, { timeoutMs: 90_000 });
});

after(async () => {
  if (!isRoot()) return;
  await labDown({ name, dir }, deps);
});

test('the lab is dual-stack and each instance holds the EUI-64 address of its MAC', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t)) return;
  assert.ok(state.plan.ipv6, 'the lab plan has an IPv6 half (dual-stack by default)');
  for (const label of ['a1', 'c1']) {
    assert.deepEqual(await globalAddresses(topo.netns, nsOf(label), 'eth0', true), [`${v6(label)}/64`], `${label}: one global address, v6Of(prefix, mac)`);
  }
  // Different groups and no rule: IPv6 is dropped like IPv4.
  assert.equal(await reach('a1', 'c1', 80, false), false, 'a1 → c1 [v6]:80 blocked');
  assert.equal(await reach('client', 'c1', 80, false), false, 'client → c1 [v6]:80 blocked');
});

test('an IPv6 CIDR rule authorized through the API reaches ip6tables and admits exactly its traffic; its revoke removes it', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const anyV6 = { protocol: 'tcp', port: '80', cidr: '::/0' };
  const rule80 = /-p tcp .*--dport 80 .*-j ACCEPT/;
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', anyV6));
  await awaitRule6('c1', 'g2', rule80, true);
  assert.ok(await reach('a1', 'c1', 80, true), 'a1 → c1 [v6]:80 admitted by ::/0');
  assert.ok(await reach('client', 'c1', 80, true), 'client → c1 [v6]:80 admitted (public IPv6: the global address, no NAT)');
  assert.equal(await reach('a1', 'c1', 22, false), false, 'port 22 stays closed');
  assert.equal(await expect6((s) => tcpConnects(topo.netns, nsOf('a1'), vm('c1').privateIp!, 80, s), false), false, 'the IPv6 rule admits no IPv4');
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', anyV6));
  await awaitRule6('c1', 'g2', rule80, false);
  assert.equal(await reach('a1', 'c1', 80, false), false, 'revoked: a1 → c1 [v6]:80 dropped');
  assert.equal(await reach('client', 'c1', 80, false), false, 'revoked: client → c1 [v6]:80 dropped');

  // A narrower IPv6 CIDR: the client's /128 only.
  const clientOnly = { protocol: 'tcp', port: '80', cidr: `${state.plan.ipv6!.clientIp}/128` };
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', clientOnly));
  await awaitRule6('c1', 'g2', new RegExp(`-s ${state.plan.ipv6!.clientIp}(/128)? .*--dport 80 .*-j ACCEPT`), true);
  assert.ok(await reach('client', 'c1', 80, true), 'the client inside the /128');
  assert.equal(await reach('a1', 'c1', 80, false), false, 'a1 outside the /128');
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', clientOnly));
  await awaitRule6('c1', 'g2', /--dport 80 /, false);
  assert.equal(await reach('client', 'c1', 80, false), false, 'revoked');
});

test('a source-group rule admits the members\' IPv6 addresses; an icmpv6 rule admits echo requests', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const fromG1 = { protocol: 'tcp', port: '22', sourceGroup: 'g1' };
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', fromG1));
  await awaitRule6('c1', 'g2', /--dport 22 .*-j ACCEPT/, true);
  assert.ok(await reach('a1', 'c1', 22, true), 'g1 member a1 → c1 [v6]:22');
  assert.equal(await reach('client', 'c1', 22, false), false, 'the client is not a g1 member');
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', fromG1));
  await awaitRule6('c1', 'g2', /--dport 22 /, false);
  assert.equal(await reach('a1', 'c1', 22, false), false, 'revoked');

  const echo = { protocol: 'icmpv6', icmp: '128:-1', sourceGroup: 'g1' };
  assert.equal(await expect6((s) => pings6(topo.netns, nsOf('a1'), v6('c1'), s), false), false, 'no rule: ping -6 dropped');
  await changed(() => api.request('POST', '/v1/groups/g2/authorize', echo));
  await awaitRule6('c1', 'g2', /ipv6-icmp.*--icmpv6-type 128.*-j ACCEPT/, true);
  assert.ok(await expect6((s) => pings6(topo.netns, nsOf('a1'), v6('c1'), s), true), 'ping -6 a1 → c1 admitted');
  await changed(() => api.request('POST', '/v1/groups/g2/revoke', echo));
  await awaitRule6('c1', 'g2', /icmpv6-type 128/, false);
  assert.equal(await expect6((s) => pings6(topo.netns, nsOf('a1'), v6('c1'), s), false), false, 'revoked: ping -6 dropped');
});
