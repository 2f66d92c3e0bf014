/**
 * A second kind of supervised daemon plugs in through the driver registry
 * alone: a test-only driver (`beacond`, reloaded by SIGHUP) and a desired
 * entry for it are all it takes for the generic planner, supervisor and flush
 * to write its file, start it, reload it on a change, leave it alone when
 * nothing changed, stop it when it must not run, and flush it — on the fake
 * host, next to the real dhcpd driver — and for the daemon to notice it died.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, group, inst, testGniXml } from '../../helpers/fake-host.ts';
import { desiredFromFile, planFor } from '../../../src/netd/sync.ts';
import { applySteps } from '../../../src/netd/apply/apply.ts';
import { PROCESS_DRIVERS, driverRegistry } from '../../../src/netd/apply/drivers.ts';
import type { ProcessDriver } from '../../../src/netd/apply/process-driver.ts';
import { describeStep } from '../../../src/netd/plan/steps.ts';
import { flushHost } from '../../../src/netd/flush.ts';
import { netdNames } from '../../../src/netd/names.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import type { DesiredState, SupervisedProcess } from '../../../src/netd/render/types.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import type { ErrorCode } from '../../../src/shared/error-codes.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { NetdDaemon } from '../../../src/netd/daemon.ts';
import { parseEvents } from '../../../src/netd/events.ts';

const RUN = '/run/en';
const GNI = `${RUN}/global_network_info.xml`;
const CONF = `${RUN}/netd/beacond.conf`;
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', privateInterface: 'eth1', publicInterface: 'pub0' };

const beacond: ProcessDriver = {
  kind: 'beacond',
  configFiles: ['beacond.conf'],
  // A real driver registers its code in src/shared/error-codes.ts; a test-only one borrows the type.
  diedCode: 'BEACOND_DIED' as ErrorCode,
  argv: ({ layout, interfaces }) => ['/usr/sbin/beacond', '-c', layout.file('beacond.conf'), '-p', layout.pid, ...interfaces],
  owns: (argv, layout) => argv[0] === '/usr/sbin/beacond' && argv[2] === layout.file('beacond.conf'),
};

const DRIVERS = driverRegistry([...PROCESS_DRIVERS.values(), beacond]);

function entry(content: string, run = true): SupervisedProcess {
  return { kind: 'beacond', run, interfaces: ['br0'], files: [{ name: 'beacond.conf', content }], reload: { kind: 'signal', signal: 'SIGHUP' }, summary: 'test daemon' };
}

async function desiredWith(host: FakeHost, p: SupervisedProcess): Promise<DesiredState> {
  const d = await desiredFromFile({ host, config: CONFIG, gniFile: GNI });
  assert.ok(d.ok, 'the document renders');
  // Sorted by kind, as render keeps them.
  return { ...d.state, processes: [p, ...d.state.processes].sort((a, b) => a.kind.localeCompare(b.kind)) };
}

async function sync(host: FakeHost, desired: DesiredState): Promise<string[]> {
  const plan = await planFor({ host, config: CONFIG, runDir: RUN, desired, full: false, drivers: DRIVERS });
  await applySteps(plan.steps, { host, runDir: RUN, drivers: DRIVERS, config: CONFIG, now: () => 0, wait: async () => undefined });
  return plan.steps.map(describeStep);
}

const beacondPids = (host: FakeHost) => [...host.processes].filter(([, argv]) => argv[0] === '/usr/sbin/beacond').map(([pid]) => pid);

test('a driver registered only in the registry is written, started, reloaded, left alone, stopped and flushed like dhcpd', async () => {
  const host = new FakeHost({
    links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }], pub0: [{ address: '192.0.2.5', prefixlen: 24 }] },
  });
  host.files.set(GNI, testGniXml({ nodes: [{ name: 'node1', instances: ['i-00000001'] }], instances: [inst('i-00000001', 11, ['sg-0000000a'])], groups: [group('sg-0000000a')], sequence: 1 }));

  // First sync: both kinds get their file and are started, each on the bridge.
  const first = await sync(host, await desiredWith(host, entry('v1')));
  assert.deepEqual(first.filter((s) => /^(beacond|dhcpd) /.test(s)), ['beacond config write', 'beacond start on br0', 'dhcpd config write', 'dhcpd start on br0']);
  assert.equal(host.files.get(CONF), 'v1');
  const [pid] = beacondPids(host);
  assert.ok(pid !== undefined, 'beacond runs');
  assert.deepEqual(host.processes.get(pid), ['/usr/sbin/beacond', '-c', CONF, '-p', `${RUN}/netd/beacond.pid`, 'br0']);
  assert.equal(host.files.get(`${RUN}/netd/beacond.pid`), `${pid}\n`);

  // Nothing changed: nothing planned at all (the process is recognised through its pid file and argv).
  assert.deepEqual(await sync(host, await desiredWith(host, entry('v1'))), []);

  // A changed file: written, then a SIGHUP to the same pid (its reload policy), no restart.
  const writesBefore = host.writes.length;
  assert.deepEqual(await sync(host, await desiredWith(host, entry('v2'))), ['beacond config write', `beacond reload (pid ${pid}, SIGHUP)`]);
  assert.equal(host.files.get(CONF), 'v2');
  assert.deepEqual(beacondPids(host), [pid], 'same process');
  assert.deepEqual(host.writes.slice(writesBefore).filter((w) => w.op !== 'start'), [{ op: 'signal', input: `${pid} SIGHUP` }]);

  // It died: the next sync starts it again without rewriting its unchanged file.
  host.crash(pid);
  assert.deepEqual(await sync(host, await desiredWith(host, entry('v2'))), ['beacond start on br0']);
  const [again] = beacondPids(host);
  assert.ok(again !== undefined && again !== pid);

  // Must not run: stopped, its file and pid file removed; dhcpd is untouched.
  assert.deepEqual(await sync(host, await desiredWith(host, entry('v2', false))), [`beacond stop (pid ${again})`]);
  assert.deepEqual(beacondPids(host), []);
  assert.equal(host.files.get(CONF), undefined);
  assert.equal(host.files.get(`${RUN}/netd/beacond.pid`), undefined);
  assert.equal([...host.processes.values()].filter((a) => a[0] === CONFIG.dhcpDaemon).length, 1, 'dhcpd keeps running');

  // Flush stops every kind the registry knows.
  await sync(host, await desiredWith(host, entry('v3')));
  assert.equal(beacondPids(host).length, 1);
  const flushed = await flushHost(host, { isOurs: netdNames(CONFIG.prefix).isOurs, runDir: RUN, publicInterface: 'pub0', pool: [], now: () => 0, wait: async () => undefined, drivers: DRIVERS });
  assert.deepEqual(flushed.filter((s) => s.name === 'process-stop').map((s) => s.description.replace(/\d+/, 'N')), ['beacond stop (pid N)', 'dhcpd stop (pid N)']);
  assert.equal(host.processes.size, 0);
  assert.equal(host.files.get(CONF), undefined);
});

test('a kind no driver is registered for fails its step with a named code instead of being ignored', async () => {
  const host = new FakeHost();
  await assert.rejects(
    applySteps([{ kind: 'process-start', process: 'nosuchd', interfaces: [] }], { host, runDir: RUN, now: () => 0, wait: async () => undefined }),
    (err: Error & { code?: string }) => err.code === 'APPLY_FAILED' && /PROCESS_DRIVER_MISSING/.test(err.message),
  );
});

test('the daemon watches every registered kind: a dead beacond asks for a sync under its own name', async () => {
  const host = new FakeHost({ links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }], addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }] } });
  host.files.set(GNI, testGniXml({ nodes: [{ name: 'node1', instances: [] }], instances: [], groups: [], sequence: 1 }));
  const clock = new FakeClock();
  const triggers: string[] = [];
  const config = { ...CONFIG, publicInterface: '', pollingFrequencySeconds: 1, minSyncIntervalMs: 500 };
  const daemon = new NetdDaemon({ host, config, runDir: RUN, gniFile: GNI, clock, logger: nullLogger(), fileEvents: false, stat: async () => 'same', drivers: DRIVERS, onSync: (o) => triggers.push(o.status.trigger ?? '') });
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  // A beacond netd started once (its pid file is there) whose process is gone.
  host.files.set(`${RUN}/netd/beacond.pid`, '4242\n');
  await clock.advance(1000);
  await clock.advance(500);
  await daemon.idle();
  await daemon.stop();
  assert.deepEqual(triggers, ['start', 'beacond']);
  assert.equal(parseEvents(host.files.get(`${RUN}/netd-events.jsonl`) ?? '').at(-1)?.trigger, 'beacond');
});
