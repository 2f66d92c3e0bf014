/**
 * Every daemon as a real process (issue 10, Lifecycle): started the way its
 * unit starts it, on loopback and temp dirs (netd in the netd lab's node
 * namespace, with a real dhcpd): SIGHUP never kills and logs what it
 * reloaded; SIGTERM ends the process within 5 s with exit 0 and the lines
 * "stopping" and "<daemon> stopped" — netd leaves dhcpd serving. Exit code 2
 * for a configuration error, 1 for `netd --once` that did not apply.
 * Conditions are awaited on the log, never slept for.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createExec, type Process } from '../../src/shared/exec.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { initCa, issueCert } from '../../src/shared/tls/certs.ts';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createNetdLab, instance, sg, waitFor, type NetdLab } from '../helpers/netd-lab.ts';

const exec = createExec();
let dir: string;
let certs: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'h1sig-'));
  certs = path.join(dir, 'certs');
  await initCa(exec, certs);
  for (const [name, role] of [['clc', 'clc'], ['cc', 'cc'], ['nc', 'nc']] as const) await issueCert(exec, { dir: certs, name, role, ips: ['127.0.0.1'], dnsNames: [] });
});

after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

interface Daemon {
  readonly proc: Process;
  readonly log: string;
  exitedAt?: number;
  exit?: { code: number | undefined; signal: string | undefined };
}

function start(name: string, argv: readonly string[], env: Record<string, string> = {}, prefix: readonly string[] = []): Daemon {
  const log = path.join(dir, `${name}-${randomBytes(3).toString('hex')}.log`);
  const proc = exec.start([...prefix, process.execPath, EDGENET_BIN, ...argv], { logFile: log, env: { ...(process.env as Record<string, string>), EDGENET_LOG_FORMAT: 'json', ...env } });
  const d: Daemon = { proc, log };
  void proc.exited.then((e) => {
    d.exitedAt = Date.now();
    d.exit = e;
  });
  return d;
}

async function logText(d: Daemon): Promise<string> {
  return fs.readFile(d.log, 'utf8').catch(() => '');
}

/** Waits for one log line matching every pattern (JSON field order is not fixed). */
async function waitLog(d: Daemon, re: RegExp | readonly RegExp[], what: string, timeoutMs = 30_000): Promise<void> {
  const all = Array.isArray(re) ? re : [re as RegExp];
  const found = (text: string) => text.split('\n').some((line) => all.every((r) => r.test(line)));
  await waitFor(what, async () => (found(await logText(d)) ? true : d.exit ? Promise.reject(new Error(`exited ${JSON.stringify(d.exit)} before ${what}:\n${await logText(d)}`)) : undefined), timeoutMs, 50).catch(async (err) => {
    throw new Error(`${String(err)}\nlog:\n${await logText(d)}`);
  });
}

/** SIGHUP: still alive and the reload line; SIGTERM: exit 0 within 5 s with both lines. */
async function hupThenTerm(d: Daemon, name: string, hupLine: RegExp | readonly RegExp[]): Promise<void> {
  d.proc.kill('SIGHUP');
  await waitLog(d, hupLine, `${name}: SIGHUP logged`);
  assert.equal(d.exit, undefined, `${name} survives SIGHUP`);
  const sent = Date.now();
  d.proc.kill('SIGTERM');
  const exit = await Promise.race([d.proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref())]);
  if (exit === 'timeout') {
    d.proc.kill('SIGKILL');
    assert.fail(`${name} still running 5 s after SIGTERM:\n${await logText(d)}`);
  }
  assert.ok(Date.now() - sent < 5000);
  assert.deepEqual(exit, { code: 0, signal: undefined }, `${name} exit:\n${await logText(d)}`);
  const text = await logText(d);
  assert.match(text, new RegExp(`SIGTERM: ${name} stopping`));
  assert.match(text, new RegExp(`"message":"${name} stopped"`));
  // The exit came from the daemon closing everything, not from the stop deadline
  // (a dhcpd piped to netd, a keep-alive socket or a timer left open).
  assert.doesNotMatch(text, /handles stayed open|did not stop within/);
}

test('clc: SIGHUP reloads (nothing changed), SIGTERM stops within 5 s with exit 0', async () => {
  const d = start('clc', ['clc', '--db', path.join(dir, 'clc.db'), '--token-file', path.join(dir, 'token'), '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--certs', certs], { EDGENET_CLC_METADATA_LISTEN: 'off', EDGENET_CLC_EC2_LISTEN: 'off' });
  try {
    await waitLog(d, /cloud controller listening/, 'clc listening');
    await hupThenTerm(d, 'clc', /SIGHUP: nothing to reload/);
  } finally {
    d.proc.kill('SIGKILL');
  }
});

test('cc: SIGHUP applies a new LOG_LEVEL from the file; SIGTERM with a keep-alive client stops within 5 s', async () => {
  const conf = path.join(dir, 'cc.conf');
  await fs.writeFile(conf, `LISTEN=127.0.0.1:0\nMETRICS_LISTEN=127.0.0.1:0\nCERTS_DIR=${certs}\nSTATE_DIR=${path.join(dir, 'cc')}\nLOG_LEVEL=info\n`);
  const d = start('cc', ['cc', '--config', conf]);
  try {
    await waitLog(d, /cluster controller listening/, 'cc listening');
    const metricsPort = Number(/"metricsPort":(\d+)/.exec(await logText(d))?.[1]);
    // A client that keeps its connection open must not hold the CC up.
    const health = (await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`, { keepalive: true })).json()) as Record<string, unknown>;
    assert.equal(health.status, 'ok');
    assert.equal(health.component, 'cc');
    assert.equal(typeof health.version, 'string');
    await fs.writeFile(conf, (await fs.readFile(conf, 'utf8')).replace('LOG_LEVEL=info', 'LOG_LEVEL=debug\nNC_FANOUT=3'));
    await hupThenTerm(d, 'cc', [/SIGHUP: configuration reloaded/, /"applied":\["LOG_LEVEL"\]/, /"needRestart":\["NC_FANOUT"\]/]);
  } finally {
    d.proc.kill('SIGKILL');
  }
});

test('nc: SIGHUP with a broken file keeps running on the old configuration; SIGTERM stops within 5 s', async () => {
  const conf = path.join(dir, 'nc.conf');
  await fs.writeFile(conf, `LISTEN=127.0.0.1:0\nMETRICS_LISTEN=127.0.0.1:0\nCERTS_DIR=${certs}\nRUN_DIR=${path.join(dir, 'nc')}\nNODE_NAME=127.0.0.1\n`);
  const d = start('nc', ['nc', '--config', conf]);
  try {
    await waitLog(d, /node controller listening/, 'nc listening');
    await fs.appendFile(conf, 'MAX_REQUEST_BYTES=tiny\n');
    await hupThenTerm(d, 'nc', [/SIGHUP: reload failed; keeping the running configuration/, /MAX_REQUEST_BYTES/]);
  } finally {
    d.proc.kill('SIGKILL');
  }
});

test('a daemon without its certificate says so with the path and exits 2', async () => {
  const d = start('cc-nocert', ['cc', '--certs', path.join(dir, 'nowhere'), '--listen', '127.0.0.1:0', '--metrics-listen', 'off', '--state-dir', path.join(dir, 'cc2')]);
  const exit = await d.proc.exited;
  assert.equal(exit.code, 2, await logText(d));
  assert.match(await logText(d), new RegExp(`${path.join(dir, 'nowhere', 'ca.crt').replace(/[.]/g, '\\.')} does not exist`));
  const bad = start('nc-badconf', ['nc', '--listen', 'not-an-address']);
  assert.equal((await bad.proc.exited).code, 2);
  assert.match(await logText(bad), /LISTEN: CONFIG_BAD_VALUE/);
});

// ---------------------------------------------------------------------------
// netd: in the netd lab (its node namespace, real dhcpd).

let lab: NetdLab | undefined;

after(async () => {
  await lab?.close();
});

function root(t: TestContext): boolean {
  return requireRoot(t, 'netd signal handling');
}

test('netd: SIGHUP re-reads netd.conf and resyncs; SIGTERM exits within 5 s and dhcpd keeps serving', async (t) => {
  if (!root(t)) return;
  lab = await createNetdLab();
  const n1 = lab.node('n1');
  await fs.appendFile(n1.confFile, '\nEDGENET_METRICS_LISTEN="127.0.0.1:0"\n');
  await lab.publish({
    nodes: [{ name: n1.name, instances: ['i-0000051a'] }, { name: lab.node('n2').name, instances: [] }],
    instances: [instance('i-0000051a', 'd0:0d:00:00:0a:01', '10.111.1.41', ['sg-00000519'])],
    groups: [sg('sg-00000519')],
  });
  const d = start('netd', ['netd', '--config', n1.confFile], { EDGENET_RUN_DIR: n1.runDir }, ['ip', 'netns', 'exec', n1.ns]);
  try {
    await waitLog(d, /"message":"sync applied"/, 'netd applied the document', 45_000);
    const dhcpd = await waitFor('dhcpd running', () => lab!.dhcpdPid(n1), 10_000);
    // A changed key is named, and the daemon resyncs with it.
    await fs.appendFile(n1.confFile, 'EDGENET_RESYNC_INTERVAL="120"\n');
    d.proc.kill('SIGHUP');
    await waitLog(d, [/SIGHUP: configuration reloaded; full resync/, /EDGENET_RESYNC_INTERVAL/], 'reload logged');
    // An invalid file is refused and the old configuration kept.
    await fs.appendFile(n1.confFile, 'EDGENET_PREFIX="not valid!"\n');
    await hupThenTerm(d, 'netd', [/SIGHUP: reload failed; keeping the running configuration/, /EDGENET_PREFIX/]);
    assert.equal(await lab.dhcpdPid(n1), dhcpd, 'dhcpd keeps serving across a netd stop');
  } finally {
    d.proc.kill('SIGKILL');
  }
});

test('netd --once: exit 1 when nothing could be applied, 2 for a bad configuration', async (t) => {
  if (!isRoot()) return void root(t);
  const ns = `h1s${randomBytes(3).toString('hex')}`;
  await exec.run(['ip', 'netns', 'add', ns]);
  try {
    const run = path.join(dir, 'once');
    await fs.mkdir(run, { recursive: true });
    const conf = path.join(run, 'netd.conf');
    await fs.writeFile(conf, `EDGENET_RUN_DIR="${run}"\nEDGENET_METRICS_LISTEN="127.0.0.1:0"\n`);
    // No shared file: netd changes nothing and does not apply.
    const once = start('netd-once', ['netd', '--once', '--config', conf], {}, ['ip', 'netns', 'exec', ns]);
    assert.equal((await once.proc.exited).code, 1, await logText(once));
    await fs.writeFile(conf, 'POLLING_FREQUENCY=never\n');
    const bad = start('netd-bad', ['netd', '--once', '--config', conf], {}, ['ip', 'netns', 'exec', ns]);
    assert.equal((await bad.proc.exited).code, 2, await logText(bad));
    assert.match(await logText(bad), /POLLING_FREQUENCY/);
  } finally {
    await exec.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
  }
});
