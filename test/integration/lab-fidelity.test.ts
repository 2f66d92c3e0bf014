/**
 * Issue 18 in the real lab (`edgenet lab up`, one lab for both tests):
 * - item 5: 20 instance ports with random MACs, each lower than the bridge's
 *   (what made an unpinned Linux bridge adopt it), attached to node n1's br0:
 *   the bridge MAC never changes, and every CC → NC delivery meanwhile
 *   completes within the normal latency measured before (the stall being
 *   fixed took 44 s);
 * - item 4: `edgenet netd flush` on a node whose netd is stopped (the docs'
 *   way: flush, then the next netd start lays everything down again) shows in
 *   `edgenet status` as flushed and not converged, with what to do, without
 *   any document change; after `edgenet lab start netd` the node converges.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { labDaemonEnv, labPlan, labPrefix } from '../../src/lab/plan.ts';
import { labNames, NODE_BRIDGE } from '../../src/lab/names.ts';
import { teardownByPrefix } from '../../src/lab/topology.ts';
import { requireLabState } from '../../src/lab/state.ts';
import { labApiFor, type ApiClient } from '../../src/lab/api.ts';
import { waitFor } from '../../src/shared/wait.ts';
import type { StatusView } from '../../src/cloud-controller/broadcast/status-view.ts';

const exec = createExec();
const name = `f${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-labf-${name}`);
const plan = labPlan(name, dir);
const N1 = plan.nodes[0]!;
const N1_NS = labNames.nodeNs(plan.prefix, N1.short);
let up = false;
let api: ApiClient;

const ANY_EXIT = Array.from({ length: 256 }, (_, i) => i);
const cli = (args: readonly string[]) => exec.run([process.execPath, EDGENET_BIN, ...args], { okExitCodes: ANY_EXIT, timeoutMs: 300_000 });
const lab = (args: readonly string[]) => cli(['lab', ...args, '--name', name, '--dir', dir]);
const inLab = (args: readonly string[]) => cli(['lab', 'exec', '--name', name, '--dir', dir, '--', ...args]);
const inNode = (argv: readonly string[], env?: Record<string, string>) =>
  exec.run(['ip', 'netns', 'exec', N1_NS, ...argv], { okExitCodes: ANY_EXIT, timeoutMs: 120_000, ...(env ? { env } : {}) });

async function status(): Promise<{ code: number; view: StatusView; text: string }> {
  const json = await inLab(['status', '--json']);
  const text = await inLab(['status']);
  return { code: json.exitCode, view: JSON.parse(json.stdout) as StatusView, text: text.stdout };
}
const nodeView = (view: StatusView, node: string) => view.clusters.flatMap((c) => c.nodes).find((n) => n.name === node);

before(async () => {
  if (!isRoot()) return;
  const r = await lab(['up']);
  assert.equal(r.exitCode, 0, r.stderr);
  up = true;
  api = labApiFor(await requireLabState(plan.stateFile, name));
});

after(async () => {
  if (!isRoot()) return;
  await lab(['down']).catch(() => undefined);
  await teardownByPrefix(labPrefix(name), { exec }).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

// --- item 5: the bridge MAC and CC → NC delivery -----------------------------

async function bridgeMac(): Promise<string> {
  const r = await exec.run(['ip', '-n', N1_NS, '-j', 'link', 'show', 'dev', NODE_BRIDGE]);
  return (JSON.parse(r.stdout) as { address: string }[])[0]!.address;
}

const macToInt = (mac: string) => BigInt(`0x${mac.replaceAll(':', '')}`);
const intToMac = (n: bigint) => n.toString(16).padStart(12, '0').match(/../g)!.join(':');

/** A random unicast MAC numerically lower than `than` (the port a bridge without a set MAC would adopt). */
function lowerUnicastMac(than: string): string {
  const limit = macToInt(than);
  for (;;) {
    // Clearing the group bit (bit 0 of the first octet) only lowers the value.
    const n = (BigInt(`0x${randomBytes(6).toString('hex')}`) % limit) & ~(1n << 40n);
    if (n !== 0n) return intToMac(n);
  }
}

interface Written {
  readonly sequence: number;
  readonly at: number;
}

/** The NC's `shared file written` lines (its JSON log): when each document reached node n1. */
async function ncWrites(): Promise<Written[]> {
  const text = await fs.readFile(N1.ncLog, 'utf8');
  const out: Written[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { message?: string; sequence?: number; timestamp?: string };
    if (entry.message === 'shared file written' && typeof entry.sequence === 'number' && entry.timestamp) out.push({ sequence: entry.sequence, at: Date.parse(entry.timestamp) });
  }
  return out;
}

const GROUP = 'fidelity';
let changes = 0;

/**
 * One document change through the admin API (authorize and revoke in turn)
 * and the time from the API's answer to the NC writing a document that
 * carries it (a sequence past the one current before the change).
 */
async function deliveryMs(timeoutMs: number): Promise<{ ms: number; sequence: number }> {
  const before = (await api.request<StatusView>('GET', '/v1/status')).current!.sequence;
  const verb = changes++ % 2 === 0 ? 'authorize' : 'revoke';
  const r = await api.request<{ changed: boolean }>('POST', `/v1/groups/${GROUP}/${verb}`, { protocol: 'tcp', port: '22' });
  assert.equal(r.changed, true, `${verb} changed the group`);
  const answered = Date.now();
  const written = await waitFor(async () => (await ncWrites()).find((w) => w.sequence > before), {
    timeoutMs,
    intervalMs: 50,
    what: `node ${N1.name}'s NC to write a document past sequence ${before}`,
  });
  return { ms: Math.max(0, written.at - answered), sequence: written.sequence };
}

test('20 instance ports with MACs below the bridge MAC: the bridge MAC never changes, every CC → NC delivery stays within its normal latency', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t) || !up) return;
  await api.request('POST', '/v1/groups', { name: GROUP });
  // An instance in the group keeps the group in every node's document.
  await api.request('POST', '/v1/instances', { cluster: plan.cluster, node: N1.name, groups: [GROUP] });

  const pinned = await bridgeMac();
  const assign = (await inNode(['cat', `/sys/class/net/${NODE_BRIDGE}/addr_assign_type`])).stdout.trim();
  t.diagnostic(`br0 MAC ${pinned}, addr_assign_type ${assign}`);

  const baseline: number[] = [];
  for (let i = 0; i < 5; i++) baseline.push((await deliveryMs(60_000)).ms);
  const bound = Math.max(3000, 5 * Math.max(...baseline));
  t.diagnostic(`baseline CC → NC deliveries (ms): ${baseline.join(', ')}; bound ${bound} ms`);

  const ports: string[] = [];
  const latencies: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const port = `vn_f${randomBytes(4).toString('hex')}`;
      const mac = lowerUnicastMac(await bridgeMac());
      ports.push(port);
      await exec.run(['ip', '-n', N1_NS, 'link', 'add', port, 'address', mac, 'type', 'veth', 'peer', 'name', `vf${port.slice(4)}`]);
      await exec.run(['ip', '-n', N1_NS, 'link', 'set', port, 'master', NODE_BRIDGE, 'up']);
      await exec.run(['ip', '-n', N1_NS, 'link', 'set', `vf${port.slice(4)}`, 'up']);
      assert.ok(macToInt(mac) < macToInt(pinned), `port ${port}'s MAC ${mac} is below the bridge's ${pinned}`);
      assert.equal(await bridgeMac(), pinned, `br0's MAC after attaching ${port} (${mac})`);
      // A stall fails the bound, not the wait: wait up to 60 s to report its length.
      const d = await deliveryMs(60_000);
      latencies.push(d.ms);
      assert.ok(d.ms <= bound, `delivery of sequence ${d.sequence} after attaching port ${i + 1} (${port}, ${mac}) took ${d.ms} ms (bound ${bound} ms; baseline ${baseline.join(', ')})`);
      assert.equal(await bridgeMac(), pinned, `br0's MAC after the delivery with ${ports.length} ports`);
    }
    t.diagnostic(`deliveries with 1..20 ports attached (ms): ${latencies.join(', ')}`);
  } finally {
    for (const port of ports) await exec.run(['ip', '-n', N1_NS, 'link', 'del', port], { okExitCodes: ANY_EXIT });
  }
  const left = await exec.run(['ip', '-n', N1_NS, '-br', 'link', 'show', 'master', NODE_BRIDGE]);
  assert.doesNotMatch(left.stdout, /vn_f/, 'the test ports are gone');
  assert.equal(await bridgeMac(), pinned, "br0's MAC after removing the ports");
});

// --- item 4: a flushed node in status ----------------------------------------

test('netd flush on a node (netd stopped): status shows it flushed and not converged with a hint, no document change; lab start netd converges it again', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t) || !up) return;
  const start = await waitFor(async () => {
    const s = await status();
    return s.code === 0 ? s : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250, what: 'the cloud to converge' });
  const sequence = start.view.current!.sequence;
  const rulesBefore = (await inNode(['iptables-save'])).stdout;
  assert.match(rulesBefore, /EDGENET/, 'netd laid down its chains on n1');

  let stopped = false;
  try {
    const stop = await lab(['stop', 'netd', '--node', N1.short]);
    assert.equal(stop.exitCode, 0, stop.stderr);
    stopped = true;
    const flush = await inNode([process.execPath, EDGENET_BIN, 'netd', 'flush', '--config', N1.netdConfFile], { ...labDaemonEnv(plan), EDGENET_RUN_DIR: N1.runDir });
    assert.equal(flush.exitCode, 0, `${flush.stdout}\n${flush.stderr}`);
    t.diagnostic(`flush: ${flush.stdout.trim().split('\n').join('; ')}`);
    assert.doesNotMatch((await inNode(['iptables-save'])).stdout, /EDGENET/, 'no edgenet chain is left on n1');

    const flushed = await waitFor(async () => {
      const s = await status();
      return nodeView(s.view, N1.name)?.result === 'flushed' ? s : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250, what: `status to show node ${N1.name} flushed` });
    const n1 = nodeView(flushed.view, N1.name)!;
    t.diagnostic(`n1 after flush: netd=${n1.netd} result=${n1.result} hint=${n1.hint}`);
    assert.equal(flushed.view.current!.sequence, sequence, 'no document was built meanwhile');
    assert.equal(n1.converged, false);
    assert.equal(flushed.code, 1, 'status exits non-zero');
    assert.ok(n1.hint, 'the node carries a hint');
    assert.match(n1.hint, /systemctl (re)?start edgenet-netd/);
    assert.match(flushed.text, /flushed/);
    assert.ok(flushed.text.includes(n1.hint), `status prints the hint:\n${flushed.text}`);
    assert.equal(nodeView(flushed.view, plan.nodes[1]!.name)!.converged, true, 'the other node is unaffected');

    const started = await lab(['start', 'netd', '--node', N1.short]);
    assert.equal(started.exitCode, 0, started.stderr);
    stopped = false;
    const again = await waitFor(async () => {
      const s = await status();
      return s.code === 0 ? s : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'the cloud to converge after netd starts again' });
    assert.equal(again.view.current!.sequence, sequence, 'converged on the same document');
    assert.deepEqual([nodeView(again.view, N1.name)!.netd, nodeView(again.view, N1.name)!.result], ['ok', 'ok']);
    assert.match((await inNode(['iptables-save'])).stdout, /EDGENET/, 'netd laid its chains down again');
  } finally {
    if (stopped) await lab(['start', 'netd', '--node', N1.short]).catch(() => undefined);
  }
});
