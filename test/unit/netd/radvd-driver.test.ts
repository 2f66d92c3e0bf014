/**
 * apply/radvd.ts and the supervisor with it: the argv netd starts radvd with,
 * which live processes count as ours (argv naming our configuration and pid
 * file), the configuration check before a start and before a SIGHUP reload
 * (a refused one starts and signals nothing), why radvd died from its log,
 * and its registration next to dhcpd. On the fake host; the real radvd runs
 * in test/integration/netd-radvd.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeHost } from '../../helpers/fake-host.ts';
import { PROCESS_DRIVERS } from '../../../src/netd/apply/drivers.ts';
import { processLayout } from '../../../src/netd/apply/process-driver.ts';
import { RADVD_BINARY, radvdDriver, radvdFailureReason } from '../../../src/netd/apply/radvd.ts';
import { observeProcesses, reloadProcess, retireProcess, startProcess, writeProcessFiles, type SupervisorContext } from '../../../src/netd/apply/supervisor.ts';
import { planProcesses } from '../../../src/netd/plan/processes.ts';
import type { SupervisedProcess } from '../../../src/netd/render/types.ts';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import type { EdgenetError } from '../../../src/shared/errors.ts';

const RUN = '/run/en';
const L = processLayout(RUN, 'radvd');
const CONF = `${RUN}/netd/radvd.conf`;
const PID = `${RUN}/netd/radvd.pid`;
const ARGV = [RADVD_BINARY, '-C', CONF, '-p', PID, '-n', '-m', 'stderr'];
const CHECK = [RADVD_BINARY, '-c', '-C', CONF, '-m', 'stderr'];

function ctx(host: FakeHost, wait: (ms: number) => Promise<void> = async () => undefined, startCheckMs = 0): SupervisorContext {
  return { host, runDir: RUN, wait, startCheckMs, config: DEFAULT_NETD_CONFIG };
}

test('argv: radvd in the foreground with our configuration and pid file, logging to stderr; registered next to dhcpd', () => {
  assert.deepEqual(radvdDriver.argv({ config: DEFAULT_NETD_CONFIG, layout: L, interfaces: ['br0'] }), ARGV);
  assert.deepEqual(radvdDriver.checkArgv?.({ config: DEFAULT_NETD_CONFIG, layout: L }), CHECK);
  assert.deepEqual([...PROCESS_DRIVERS.keys()], ['bird', 'dhcpd', 'radvd']);
  assert.equal(PROCESS_DRIVERS.get('radvd'), radvdDriver);
  assert.deepEqual({ code: radvdDriver.diedCode, field: radvdDriver.statusField, files: radvdDriver.configFiles }, { code: 'RADVD_DIED', field: 'radvdFailure', files: ['radvd.conf'] });
});

test('ours: only a radvd naming our configuration and our pid file', () => {
  assert.equal(radvdDriver.owns(ARGV, L), true);
  assert.equal(radvdDriver.owns(['radvd', ...ARGV.slice(1)], L), true, 'found by basename too');
  const not: [string, string[]][] = [
    ['the host radvd', ['/usr/sbin/radvd', '-C', '/etc/radvd.conf', '-p', '/run/radvd.pid']],
    ['another run directory', ARGV.map((a) => a.replace('/run/en/', '/run/other/'))],
    ['our configuration, another pid file', [RADVD_BINARY, '-C', CONF, '-p', '/run/radvd.pid', '-n']],
    ['a config check', CHECK],
    ['dhcpd with the same files', ['/usr/sbin/dhcpd', ...ARGV.slice(1)]],
    ['a shell mentioning it', ['/bin/sh', '-c', ARGV.join(' ')]],
    ['no argv', []],
  ];
  for (const [why, argv] of not) assert.equal(radvdDriver.owns(argv, L), false, why);
});

test('start: the configuration is checked first; a refused one starts nothing and is removed so the next sync retries', async () => {
  const host = new FakeHost();
  await writeProcessFiles(ctx(host), 'radvd', [{ name: 'radvd.conf', content: 'good' }]);
  await startProcess(ctx(host), 'radvd', ['br0']);
  assert.deepEqual(host.checks, [CHECK]);
  const [pid, argv] = [...host.processes][0] ?? [];
  assert.deepEqual(argv, ARGV);
  assert.equal(host.files.get(PID), `${pid}\n`);
  assert.equal((await observeProcesses(host, { runDir: RUN })).get('radvd')?.pid, pid, 'found again through the pid file and argv');

  const bad = new FakeHost();
  bad.checkVerdict = () => ({ ok: false, output: `${CONF}:4 error: syntax error\n[Dec 04 20:38:02] radvd (19414): exiting, failed to read config file\n` });
  await writeProcessFiles(ctx(bad), 'radvd', [{ name: 'radvd.conf', content: 'bad' }]);
  await assert.rejects(startProcess(ctx(bad), 'radvd', ['br0']), (err: EdgenetError) => {
    assert.equal(err.code, 'PROCESS_CONFIG_REFUSED');
    assert.match(err.message, /radvd.conf:4 error: syntax error/);
    return true;
  });
  assert.equal(bad.processes.size, 0);
  assert.equal(bad.files.get(CONF), undefined, 'the refused file is gone');
  // So the planner writes it again (and the check runs again) instead of finding it unchanged.
  const entry: SupervisedProcess = { kind: 'radvd', run: true, interfaces: ['br0'], files: [{ name: 'radvd.conf', content: 'bad' }], reload: { kind: 'signal', signal: 'SIGHUP' }, summary: '' };
  assert.deepEqual(planProcesses([entry], await observeProcesses(bad, { runDir: RUN })).map((s) => s.kind), ['process-write-config', 'process-start']);
});

test('reload: checked, then SIGHUP to the same pid; a refused configuration is never signalled (radvd would exit on it)', async () => {
  const host = new FakeHost();
  await writeProcessFiles(ctx(host), 'radvd', [{ name: 'radvd.conf', content: 'v1' }]);
  await startProcess(ctx(host), 'radvd', ['br0']);
  const [pid] = [...host.processes.keys()];
  assert.ok(pid !== undefined);
  await writeProcessFiles(ctx(host), 'radvd', [{ name: 'radvd.conf', content: 'v2' }]);
  await reloadProcess(ctx(host), 'radvd', pid, 'SIGHUP');
  assert.deepEqual(host.checks, [CHECK, CHECK]);
  assert.deepEqual(host.writes.filter((w) => w.op === 'signal'), [{ op: 'signal', input: `${pid} SIGHUP` }]);

  host.checkVerdict = () => ({ ok: false, output: 'radvd.conf:9 error: syntax error\n' });
  await writeProcessFiles(ctx(host), 'radvd', [{ name: 'radvd.conf', content: 'v3' }]);
  await assert.rejects(reloadProcess(ctx(host), 'radvd', pid, 'SIGHUP'), (err: EdgenetError) => err.code === 'PROCESS_CONFIG_REFUSED');
  assert.equal(host.writes.filter((w) => w.op === 'signal').length, 1, 'no second SIGHUP');
  assert.deepEqual([...host.processes.keys()], [pid], 'still running (with its previous configuration)');
  assert.equal(host.files.get(CONF), undefined);
});

test('stop: the process, its pid file and its configuration go', async () => {
  const host = new FakeHost();
  await writeProcessFiles(ctx(host), 'radvd', [{ name: 'radvd.conf', content: 'v1' }]);
  await startProcess(ctx(host), 'radvd', ['br0']);
  const [pid] = [...host.processes.keys()];
  await retireProcess(ctx(host), 'radvd', pid as number);
  assert.equal(host.processes.size, 0);
  assert.equal(host.files.get(CONF), undefined);
  assert.equal(host.files.get(PID), undefined);
});

test('died at start: RADVD_DIED with the line of its log that says why', async () => {
  const host = new FakeHost();
  await writeProcessFiles(ctx(host), 'radvd', [{ name: 'radvd.conf', content: 'v1' }]);
  const log = [
    '[Dec 04 20:35:36] radvd (15707): version 2.19 started',
    '[Dec 04 20:35:36] radvd (15707): IPv6 forwarding setting is: 0, should be 1 or 2',
    '[Dec 04 20:35:36] radvd (15707): radvd pid file is locked: /run/en/netd/radvd.pid',
    '[Dec 04 20:35:36] radvd (15707): exiting',
  ].join('\n');
  const dies = async () => {
    for (const pid of host.processes.keys()) host.crash(pid);
    host.files.set(L.log, log);
  };
  await assert.rejects(startProcess(ctx(host, dies, 500), 'radvd', ['br0']), (err: EdgenetError) => {
    assert.equal(err.code, 'RADVD_DIED');
    assert.deepEqual(err.details?.processFailure, { kind: 'radvd', reason: 'radvd pid file is locked: /run/en/netd/radvd.pid', log: L.log });
    return true;
  });
});

test('radvdFailureReason: the cause, not the chatter; only the last run', () => {
  const run = (pid: number, ...lines: string[]) => [`[Dec 04 20:35:06] radvd (${pid}): version 2.19 started`, ...lines.map((l) => `[Dec 04 20:35:06] radvd (${pid}): ${l}`)].join('\n');
  const chatter = ['warning: AdvRDNSSLifetime <= 2*MaxRtrAdvInterval would allow stale DNS servers to be deleted faster', 'IPv6 forwarding setting is: 0, should be 1 or 2', 'IPv6 forwarding seems to be disabled, but continuing anyway'];
  // A parse error is printed without radvd's prefix, before its closing line.
  assert.equal(radvdFailureReason(`${run(1, ...chatter)}\n/run/en/netd/radvd.conf:11 error: syntax error\n${run(1).split('\n')[0]?.replace('version 2.19 started', 'exiting, failed to read config file')}`), '/run/en/netd/radvd.conf:11 error: syntax error');
  assert.equal(radvdFailureReason(run(2, ...chatter, 'exiting, failed to read config file')), 'exiting, failed to read config file');
  assert.equal(radvdFailureReason(`${run(3, 'can\'t create socket: Operation not permitted')}\n${run(4, ...chatter, 'exiting, 1 sigterm(s) received', 'sending stop adverts', 'removing /run/en/netd/radvd.pid', 'returning from radvd main')}`), undefined, 'a clean stop of the last run says nothing');
  assert.equal(radvdFailureReason(''), undefined);
});
