/**
 * apply/bird.ts and the supervisor with it: the argv netd starts BIRD with,
 * which live processes count as ours (argv naming our configuration, pid file
 * and control socket), the `bird -p` check before a start and before a SIGHUP
 * reload (a refused configuration starts and signals nothing), why BIRD died
 * from its log, and its registration. On the fake host; the real BIRD runs in
 * test/integration/netd-bird.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeHost } from '../../helpers/fake-host.ts';
import { PROCESS_DRIVERS } from '../../../src/netd/apply/drivers.ts';
import { processLayout } from '../../../src/netd/apply/process-driver.ts';
import { BIRD_BINARY, birdControlSocket, birdDriver, birdFailureReason } from '../../../src/netd/apply/bird.ts';
import { observeProcesses, reloadProcess, startProcess, writeProcessFiles, type SupervisorContext } from '../../../src/netd/apply/supervisor.ts';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import type { EdgenetError } from '../../../src/shared/errors.ts';

const RUN = '/run/en';
const L = processLayout(RUN, 'bird');
const CONF = `${RUN}/netd/bird.conf`;
const PID = `${RUN}/netd/bird.pid`;
const CTL = `${RUN}/netd/bird.ctl`;
const ARGV = [BIRD_BINARY, '-f', '-c', CONF, '-s', CTL, '-P', PID];
const CHECK = [BIRD_BINARY, '-p', '-c', CONF];

function ctx(host: FakeHost, wait: (ms: number) => Promise<void> = async () => undefined, startCheckMs = 0): SupervisorContext {
  return { host, runDir: RUN, wait, startCheckMs, config: DEFAULT_NETD_CONFIG };
}

test('argv: bird in the foreground with our configuration, control socket and pid file; registered', () => {
  assert.deepEqual(birdDriver.argv({ config: DEFAULT_NETD_CONFIG, layout: L, interfaces: [] }), ARGV);
  assert.deepEqual(birdDriver.checkArgv?.({ config: DEFAULT_NETD_CONFIG, layout: L }), CHECK);
  assert.equal(birdControlSocket(L), CTL);
  assert.equal(PROCESS_DRIVERS.get('bird'), birdDriver);
  assert.deepEqual({ code: birdDriver.diedCode, field: birdDriver.statusField, files: birdDriver.configFiles }, { code: 'BIRD_DIED', field: 'birdFailure', files: ['bird.conf'] });
});

test('ours: only a bird naming our configuration, pid file and control socket', () => {
  assert.equal(birdDriver.owns(ARGV, L), true);
  assert.equal(birdDriver.owns(['bird', ...ARGV.slice(1)], L), true, 'found by basename too');
  const not: [string, string[]][] = [
    ['the host bird', ['/usr/sbin/bird', '-f', '-u', 'bird', '-g', 'bird']],
    ['another run directory', ARGV.map((a) => a.replace('/run/en/', '/run/other/'))],
    ['our configuration, another control socket', [BIRD_BINARY, '-f', '-c', CONF, '-s', '/run/bird/bird.ctl', '-P', PID]],
    ['our configuration, another pid file', [BIRD_BINARY, '-f', '-c', CONF, '-s', CTL, '-P', '/run/bird.pid']],
    ['a config check', [...CHECK, '-s', CTL, '-P', PID]],
    ['birdc on our socket', ['/usr/sbin/birdc', '-s', CTL, '-c', CONF, '-P', PID]],
    ['a shell mentioning it', ['/bin/sh', '-c', ARGV.join(' ')]],
    ['no argv', []],
  ];
  for (const [why, argv] of not) assert.equal(birdDriver.owns(argv, L), false, why);
});

test('start and reload: bird -p first; a refused configuration starts and signals nothing', async () => {
  const host = new FakeHost();
  await writeProcessFiles(ctx(host), 'bird', [{ name: 'bird.conf', content: 'v1' }]);
  await startProcess(ctx(host), 'bird', []);
  const [pid, argv] = [...host.processes][0] ?? [];
  assert.deepEqual(argv, ARGV);
  assert.ok(pid !== undefined);
  assert.equal((await observeProcesses(host, { runDir: RUN })).get('bird')?.pid, pid, 'found again through the pid file and argv');
  await writeProcessFiles(ctx(host), 'bird', [{ name: 'bird.conf', content: 'v2' }]);
  await reloadProcess(ctx(host), 'bird', pid, 'SIGHUP');
  assert.deepEqual(host.checks, [CHECK, CHECK]);
  assert.deepEqual(host.writes.filter((w) => w.op === 'signal'), [{ op: 'signal', input: `${pid} SIGHUP` }]);

  host.checkVerdict = () => ({ ok: false, output: `bird: ${CONF}:12:3 syntax error, unexpected CF_SYM_UNDEFINED\n` });
  await writeProcessFiles(ctx(host), 'bird', [{ name: 'bird.conf', content: 'v3' }]);
  await assert.rejects(reloadProcess(ctx(host), 'bird', pid, 'SIGHUP'), (err: EdgenetError) => {
    assert.equal(err.code, 'PROCESS_CONFIG_REFUSED');
    assert.match(err.message, /bird\.conf:12:3 syntax error/);
    return true;
  });
  assert.equal(host.writes.filter((w) => w.op === 'signal').length, 1, 'no second SIGHUP');
  assert.equal(host.files.get(CONF), undefined, 'the refused file is gone, so the next sync writes and checks it again');
});

test('died at start: BIRD_DIED with the line of its log that says why', async () => {
  const host = new FakeHost();
  await writeProcessFiles(ctx(host), 'bird', [{ name: 'bird.conf', content: 'v1' }]);
  const dies = async () => {
    for (const pid of host.processes.keys()) host.crash(pid);
    host.files.set(L.log, 'bird: I found another BIRD running.\n');
  };
  await assert.rejects(startProcess(ctx(host, dies, 500), 'bird', []), (err: EdgenetError) => {
    assert.equal(err.code, 'BIRD_DIED');
    assert.deepEqual(err.details?.processFailure, { kind: 'bird', reason: 'I found another BIRD running.', log: L.log });
    return true;
  });
});

test('birdFailureReason: what stopped the last run, not the chatter', () => {
  const run = (...l: string[]) => ['2026-12-05 06:06:13.535 <INFO> Started', ...l].join('\n');
  assert.equal(birdFailureReason(`bird: ${CONF}:2:36 syntax error, unexpected PROTOCOL\n`), `${CONF}:2:36 syntax error, unexpected PROTOCOL`);
  assert.equal(birdFailureReason(`${run('2026-12-05 06:07:00.000 <ERR> edgenet_peer4_172_31_0_1: Socket error: bind: Address in use')}\n`), 'edgenet_peer4_172_31_0_1: Socket error: bind: Address in use');
  assert.equal(birdFailureReason(`bird: old failure\n${run('2026-12-05 06:07:00.000 <INFO> Shutting down', '2026-12-05 06:07:00.001 <INFO> Shutdown completed')}`), undefined, 'a clean stop of the last run says nothing');
  assert.equal(birdFailureReason(''), undefined);
});
