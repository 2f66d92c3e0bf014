/**
 * The daemon's scheduling with FakeClock and the in-memory host: the first
 * sync is full, a changed file seen only by the poll triggers an incremental
 * sync, a failure is retried as a full sync after back-off, the periodic
 * resync is full, a burst of changes is coalesced, a dead dhcpd is noticed
 * between syncs, and stop() leaves the host as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FakeClock } from '../../../src/shared/clock.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { NetdDaemon } from '../../../src/netd/daemon.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import type { SyncOutcome } from '../../../src/netd/sync.ts';
import { FakeHost, group, inst, testGniXml } from '../../helpers/fake-host.ts';

const GNI = '/run/en/global_network_info.xml';
const CONFIG: NetdConfig = {
  ...DEFAULT_NETD_CONFIG,
  nodeName: 'node1',
  privateInterface: 'eth1',
  publicInterface: 'pub0',
  pollingFrequencySeconds: 1,
  resyncIntervalSeconds: 60,
  minSyncIntervalMs: 500,
};

function setup(config: NetdConfig = CONFIG) {
  const host = new FakeHost({
    links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }] },
  });
  const clock = new FakeClock();
  const syncs: { outcome: SyncOutcome; at: number }[] = [];
  const daemon = new NetdDaemon({
    host,
    config,
    runDir: '/run/en',
    gniFile: GNI,
    clock,
    logger: nullLogger(),
    fileEvents: false,
    // The poll compares content hashes of the fake file (the real one compares inode/size/mtime).
    stat: async (f) => {
      const t = host.files.get(f);
      return t === undefined ? undefined : createHash('sha1').update(t).digest('hex');
    },
    onSync: (outcome) => syncs.push({ outcome, at: clock.now() }),
  });
  return { host, clock, daemon, syncs };
}

let seq = 1;
function doc(ids: string[]): string {
  return testGniXml({
    nodes: [{ name: 'node1', instances: ids }],
    instances: ids.map((id, i) => inst(id, 11 + i, ['sg-0000000a'])),
    groups: [group('sg-0000000a', [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }])],
    sequence: seq++,
  });
}

async function events(host: FakeHost) {
  const { parseEvents } = await import('../../../src/netd/events.ts');
  return parseEvents(host.files.get('/run/en/netd-events.jsonl') ?? '');
}

test('the first sync is full and applies the document', async () => {
  const { host, clock, daemon, syncs } = setup();
  host.files.set(GNI, doc(['i-00000001']));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  assert.equal(syncs.length, 1);
  assert.equal(syncs[0]!.outcome.result, 'ok');
  const [e] = await events(host);
  assert.equal(e!.trigger, 'start');
  assert.equal(e!.full, true);
  assert.ok(host.iptables.filter.has('EDGENET-sg-0000000a'));
  await daemon.stop();
});

test('a change seen only by the poll triggers one incremental sync; nothing changes without it', async () => {
  const { host, clock, daemon, syncs } = setup();
  host.files.set(GNI, doc(['i-00000001']));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  await clock.advance(5000);
  assert.equal(syncs.length, 1, 'no change, no sync before the resync interval');
  host.files.set(GNI, doc(['i-00000001', 'i-00000002']));
  await clock.advance(1000);
  await daemon.idle();
  assert.equal(syncs.length, 2);
  const last = (await events(host)).at(-1)!;
  assert.equal(last.trigger, 'poll');
  assert.equal(last.full, false);
  assert.ok(last.writes > 0);
  await daemon.stop();
});

test('a burst of changes within the minimum interval is coalesced', async () => {
  const { host, clock, daemon, syncs } = setup({ ...CONFIG, minSyncIntervalMs: 5000 });
  host.files.set(GNI, doc(['i-00000001']));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  for (let i = 0; i < 4; i++) {
    host.files.set(GNI, doc(['i-00000001', `i-000000${10 + i}`]));
    await clock.advance(1000);
  }
  await clock.advance(1000);
  await daemon.idle();
  assert.equal(syncs.length, 2, 'four changes, one sync after the first');
  assert.ok(host.iptables.filter.has('EDGENET-sg-0000000a'));
  assert.match(host.dump(), /10\.10\.0\.12/, 'the last document won');
  await daemon.stop();
});

test('a failed sync is retried after back-off as a full sync', async () => {
  const { host, clock, daemon, syncs } = setup();
  host.files.set(GNI, doc(['i-00000001']));
  host.failNext('iptablesRestore');
  await daemon.start();
  await clock.advance(0);
  assert.equal(syncs.at(-1)!.outcome.result, 'error');
  assert.equal(daemon.healthy, false);
  await clock.advance(999);
  assert.equal(syncs.length, 1, 'not before the back-off');
  await clock.advance(1);
  await daemon.idle();
  assert.equal(syncs.length, 2);
  assert.equal(syncs[1]!.outcome.result, 'ok');
  const last = (await events(host)).at(-1)!;
  assert.equal(last.trigger, 'retry');
  assert.equal(last.full, true);
  assert.equal(daemon.healthy, true);
  await daemon.stop();
});

test('the periodic resync is full and repairs drift', async () => {
  const { host, clock, daemon, syncs } = setup({ ...CONFIG, resyncIntervalSeconds: 30 });
  host.files.set(GNI, doc(['i-00000001']));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  host.iptables.filter.get('EDGENET-sg-0000000a')!.rules = [];
  await clock.advance(30_000);
  await daemon.idle();
  assert.equal(syncs.length, 2);
  const last = (await events(host)).at(-1)!;
  assert.equal(last.full, true);
  assert.equal(last.trigger, 'periodic');
  assert.equal(host.iptables.filter.get('EDGENET-sg-0000000a')!.rules.length, 2);
  await daemon.stop();
});

test('an invalid document is reported and does not retry in a loop', async () => {
  const { host, clock, daemon, syncs } = setup();
  host.files.set(GNI, '<network-data');
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  await clock.advance(10_000);
  assert.equal(syncs.length, 1);
  assert.equal(syncs[0]!.outcome.result, 'invalid-document');
  assert.equal(host.writeCount, 0, 'nothing written to the host');
  await daemon.stop();
});

test('a dhcpd that died between syncs is noticed by the poll tick and restarted', async () => {
  const { host, clock, daemon, syncs } = setup();
  host.files.set(GNI, doc(['i-00000001']));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  const [pid] = [...host.processes.keys()];
  host.crash(pid!);
  await clock.advance(1000);
  await clock.advance(500);
  await daemon.idle();
  assert.equal(syncs.length, 2);
  assert.equal((await events(host)).at(-1)!.trigger, 'dhcpd');
  assert.equal(host.processes.size, 1);
  assert.notEqual([...host.processes.keys()][0], pid);
  await daemon.stop();
});

test('stop() leaves the host exactly as it is (no flush)', async () => {
  const { host, clock, daemon } = setup();
  host.files.set(GNI, doc(['i-00000001']));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  const before = host.dump();
  await daemon.stop();
  assert.equal(host.dump(), before);
  assert.equal(host.processes.size, 1, 'dhcpd keeps serving');
  assert.equal(clock.timerCount, 0, 'no timer left behind');
});

test('a dhcpd that keeps dying is restarted with a doubling back-off, reset once it stays up', async () => {
  const { host, clock, daemon, syncs } = setup();
  host.files.set(GNI, doc(['i-00000001']));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  const restartTimes: number[] = [];
  const started = clock.now();
  // Crash it every time it is up, for 40 s of poll ticks (1 s each).
  for (let s = 0; s < 40; s++) {
    for (const pid of [...host.processes.keys()]) host.crash(pid);
    const before = syncs.length;
    await clock.advance(1000);
    await daemon.idle();
    if (syncs.length > before) restartTimes.push(clock.now() - started);
  }
  // 1 s after the first death, then gaps of 1, 2, 4, 8, 16 s: restarts at 1, 2, 4, 8, 16, 32 s.
  assert.deepEqual(restartTimes, [1000, 2000, 4000, 8000, 16_000, 32_000]);
  assert.ok(syncs.slice(1).every((s) => s.outcome.status.trigger === 'dhcpd'));
  // The death at 33 s waits for 64 s; after that restart it stays up for more than a minute,
  // so it is healthy again and the next death is handled after 1 s.
  await clock.advance(30_000);
  await daemon.idle();
  assert.equal(host.processes.size, 1, 'restarted once its back-off ran out');
  await clock.advance(61_000);
  await daemon.idle();
  const before = syncs.length;
  for (const pid of [...host.processes.keys()]) host.crash(pid);
  await clock.advance(1000);
  await daemon.idle();
  assert.equal(syncs.length, before + 1, 'restarted at the first tick after a stable minute');
  await daemon.stop();
});
