/**
 * netd's liveness in `edgenet status` (issue 18 item 4): the heartbeat netd
 * writes, what the NC derives from it, the SOAP round trip, and the CLC's view
 * and text (a dead, hung or flushed netd is not converged and says what to do).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { netdLiveness, parseNetdHeartbeat, type NetdHeartbeat } from '../../../src/shared/netd-status.ts';
import { Heartbeat } from '../../../src/netd/heartbeat.ts';
import { flushedStatus } from '../../../src/netd/status.ts';
import { nodeReport } from '../../../src/node-controller/netd-report.ts';
import { statusView } from '../../../src/cloud-controller/broadcast/status-view.ts';
import { formatStatus } from '../../../src/cloud-controller/broadcast/status-format.ts';
import { netdHealth } from '../../../src/cloud-controller/broadcast/netd-health.ts';
import { bodyElement, envelope } from '../../../src/shared/soap/envelope.ts';
import { parseStatusReply, statusReplyInner, type NodeReport } from '../../../src/shared/soap/messages.ts';
import { FakeClock } from '../../../src/shared/clock.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const hb = (at: number, extra: Partial<NetdHeartbeat> = {}): NetdHeartbeat => ({ pid: 4242, startedAt: new Date(T0).toISOString(), at: new Date(at).toISOString(), intervalMs: 2000, ...extra });

test('netdLiveness: fresh, hung, dead by age, dead by pid, stopped, never started', () => {
  assert.deepEqual(netdLiveness({ now: T0 }), { liveness: 'never-started' });
  assert.deepEqual(netdLiveness({ heartbeat: hb(T0), now: T0 + 1500 }), { liveness: 'running', ageMs: 1500 });
  assert.equal(netdLiveness({ heartbeat: hb(T0), now: T0 + 1500, pidAlive: false }).liveness, 'dead', 'pid gone: dead at once');
  assert.equal(netdLiveness({ heartbeat: hb(T0), now: T0 + 20_000 }).liveness, 'stale');
  assert.equal(netdLiveness({ heartbeat: hb(T0), now: T0 + 20_000, pidAlive: true }).liveness, 'stale', 'alive but not beating: hung');
  assert.equal(netdLiveness({ heartbeat: hb(T0), now: T0 + 61_000 }).liveness, 'dead', 'no pid check: dead after a minute');
  assert.equal(netdLiveness({ heartbeat: hb(T0), now: T0 + 61_000, pidAlive: true }).liveness, 'stale', 'a live pid is never called dead');
  assert.equal(netdLiveness({ heartbeat: hb(T0, { stoppedAt: new Date(T0).toISOString() }), now: T0 + 100 }).liveness, 'stopped');
  assert.equal(netdLiveness({ heartbeat: hb(T0), now: T0 - 500 }).ageMs, 0, 'clock step backwards');
  assert.equal(parseNetdHeartbeat('{"pid":1}'), undefined);
  assert.equal(parseNetdHeartbeat('nope'), undefined);
  assert.deepEqual(parseNetdHeartbeat(JSON.stringify(hb(T0))), hb(T0));
});

test('Heartbeat: writes at start, every interval, and a stopped beat at stop', async () => {
  const clock = new FakeClock(T0);
  const writes: NetdHeartbeat[] = [];
  const beat = new Heartbeat({ file: '/run/x/netd-heartbeat.json', clock, intervalMs: 2000, pid: 77, write: async (_f, c) => void writes.push(JSON.parse(c) as NetdHeartbeat) });
  beat.start();
  await clock.advance(0);
  assert.equal(writes.length, 1);
  await clock.advance(2000);
  await clock.advance(2000);
  assert.deepEqual(writes.map((w) => Date.parse(w.at) - T0), [0, 2000, 4000]);
  assert.ok(writes.every((w) => w.pid === 77 && w.intervalMs === 2000 && w.stoppedAt === undefined));
  await beat.stop();
  assert.ok(writes.at(-1)!.stoppedAt, 'the last beat says it stopped');
  const count = writes.length;
  await clock.advance(10_000);
  assert.equal(writes.length, count, 'no beat after stop');
});

test('nodeReport: the NC reports netd liveness from the heartbeat next to the status file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-liveness-'));
  try {
    const statusFile = path.join(dir, 'netd-status.json');
    const held = { version: 'v3', sequence: 3, at: new Date(T0).toISOString() };
    const never = await nodeReport({ node: 'n1', statusFile, held, now: () => T0 });
    assert.equal(never.netdLiveness, 'never-started');
    await fs.writeFile(statusFile, JSON.stringify({ node: 'n1', result: 'ok', at: new Date(T0).toISOString(), appliedVersion: 'v3', appliedSequence: 3, steps: [] }));
    await fs.writeFile(path.join(dir, 'netd-heartbeat.json'), JSON.stringify(hb(T0)));
    const alive = await nodeReport({ node: 'n1', statusFile, held, now: () => T0 + 1000, pidAlive: () => true });
    assert.deepEqual([alive.netdLiveness, alive.netdPid, alive.netdHeartbeatAgeMs, alive.result], ['running', 4242, 1000, 'ok']);
    const killed = await nodeReport({ node: 'n1', statusFile, held, now: () => T0 + 1000, pidAlive: () => false });
    assert.equal(killed.netdLiveness, 'dead');
    // Our own pid, in our own pid namespace: the default check finds it alive; a free pid is dead.
    const ns = await fs.readlink('/proc/self/ns/pid').catch(() => undefined);
    if (ns) {
      await fs.writeFile(path.join(dir, 'netd-heartbeat.json'), JSON.stringify(hb(Date.now(), { pid: process.pid, pidNs: ns })));
      assert.equal((await nodeReport({ node: 'n1', statusFile, held })).netdLiveness, 'running');
      await fs.writeFile(path.join(dir, 'netd-heartbeat.json'), JSON.stringify(hb(Date.now(), { pid: 2 ** 22 + 1, pidNs: ns })));
      assert.equal((await nodeReport({ node: 'n1', statusFile, held })).netdLiveness, 'dead');
      await fs.writeFile(path.join(dir, 'netd-heartbeat.json'), JSON.stringify(hb(Date.now(), { pid: 2 ** 22 + 1, pidNs: 'pid:[1]' })));
      assert.equal((await nodeReport({ node: 'n1', statusFile, held })).netdLiveness, 'running', 'another pid namespace: the pid is not checked');
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('SOAP status reply carries the liveness fields', () => {
  const node: NodeReport = { name: 'n1', result: 'ok', netdLiveness: 'dead', netdPid: 12, netdHeartbeatAt: new Date(T0).toISOString(), netdHeartbeatAgeMs: 4100 };
  const back = parseStatusReply(bodyElement(envelope('R', statusReplyInner({ nodes: [node] })))).nodes[0]!;
  assert.deepEqual([back.netdLiveness, back.netdPid, back.netdHeartbeatAt, back.netdHeartbeatAgeMs], ['dead', 12, node.netdHeartbeatAt, 4100]);
});

const sender = { name: 'c1', ccUrl: 'https://cc/', failures: 0, delivered: { version: 'v3', sequence: 3, at: T0 } };
function view(reports: NodeReport[], statusError?: string) {
  return statusView({
    now: T0,
    current: { version: 'v3', sequence: 3, builtAt: T0 - 1000, bytes: 1 },
    history: new Map(),
    clusters: [{ sender, nodes: reports.map((r) => ({ name: r.name, url: `https://${r.name}/` })), reports: new Map(reports.map((r) => [r.name, r])), ...(statusError ? { statusError } : {}) }],
  });
}

test('status view: a dead, hung or stopped netd is not converged even on the current version, and status says what to do', () => {
  const applied = { result: 'ok', appliedVersion: 'v3', appliedSequence: 3 } as const;
  const v = view([
    { name: 'n1', ...applied, netdLiveness: 'running', netdHeartbeatAgeMs: 1200 },
    { name: 'n2', ...applied, netdLiveness: 'dead', netdHeartbeatAgeMs: 40_000 },
    { name: 'n3', ...applied, netdLiveness: 'stale', netdHeartbeatAgeMs: 20_000 },
    { name: 'n4', ...applied, netdLiveness: 'stopped' },
    { name: 'n5', ...applied },
  ]);
  const byName = new Map(v.clusters[0]!.nodes.map((n) => [n.name, n]));
  assert.deepEqual([...byName.values()].map((n) => [n.name, n.netd, n.converged]), [
    ['n1', 'ok', true],
    ['n2', 'netd-dead', false],
    ['n3', 'netd-stale', false],
    ['n4', 'netd-stopped', false],
    ['n5', 'unknown', true],
  ]);
  assert.equal(v.converged, false);
  const text = formatStatus(v);
  assert.match(text, /NETD/);
  assert.match(text, /n1 .*ok\s+ok 1\.2s\s+converged/);
  assert.match(text, /n2 .*DEAD 40s\s+NETD-DEAD/);
  assert.match(text, /netd not running on node n2 \(last heartbeat 40s ago\): systemctl start edgenet-netd/);
  assert.match(text, /netd on node n3 has not written its heartbeat for 20s/);
  assert.match(text, /netd was stopped on node n4/);
  assert.doesNotMatch(text, /node n1/);
});

test('status view: a flushed node shows flushed, not converged; an unreachable CC hides stale liveness', () => {
  const flushed = flushedStatus({ node: 'n1', version: 'v3', sequence: 3, appliedVersion: 'v3', appliedSequence: 3, result: 'ok', at: new Date(T0).toISOString(), steps: [] }, { node: 'n1', now: T0 });
  assert.equal(flushed.appliedVersion, undefined);
  assert.equal(flushed.result, 'flushed');
  const v = view([{ name: 'n1', result: flushed.result, deliveredVersion: 'v3', netdLiveness: 'running', netdHeartbeatAgeMs: 500 }]);
  const n1 = v.clusters[0]!.nodes[0]!;
  assert.deepEqual([n1.netd, n1.converged], ['flushed', false]);
  assert.match(formatStatus(v), /node n1 was flushed \(edgenet netd flush\): systemctl restart edgenet-netd/);
  const down = view([{ name: 'n1', result: 'ok', appliedVersion: 'v3', netdLiveness: 'dead' }], 'connect ECONNREFUSED');
  assert.equal(down.clusters[0]!.nodes[0]!.netd, 'unknown');
  assert.equal(netdHealth('n9', undefined).netd, 'unknown');
});
