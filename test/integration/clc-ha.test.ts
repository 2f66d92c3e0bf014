/**
 * Two real `edgenet clc` processes on one throwaway PostgreSQL database
 * (issue 16): one leads; the follower's /v1/status shows the leader (its
 * convergence view proxied) and `edgenet status` says who leads; a property
 * set through the follower reaches the leader's broadcaster (its current
 * sequence moves); metrics say who leads; `kill -9` the leader and the
 * follower leads within 5 s (a condition wait with that deadline) and
 * builds a newer document; the killed CLC restarted is a follower.
 * Needs root (PostgreSQL runs as the postgres user): skipped loudly
 * otherwise, a failure under CI=true.
 */
import { waitFor as poll } from '../../src/shared/wait.ts';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { postgresUnavailable, startPostgres, type PgServer } from '../helpers/postgres.ts';
import { CLI, freePort } from './pipeline-harness.ts';
import type { StatusView } from '../../src/cloud-controller/broadcast/status-view.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-clc-ha-'));
const procs = new Map<string, ChildProcess>();
let server: PgServer | undefined;

after(async () => {
  for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
  await Promise.all([...procs.values()].map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  server?.stop();
  if (process.env.EDGENET_KEEP_LAB) process.stderr.write(`kept: ${dir}\n`);
  else fs.rmSync(dir, { recursive: true, force: true });
});

interface Clc {
  readonly id: string;
  readonly api: string;
  readonly metrics: string;
  readonly token: string;
  readonly log: string;
  readonly proc: ChildProcess;
}

/** Polls `probe` every 50 ms until it gives a value; `deadlineMs` is the bound under test or a generous start-up bound. */
function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, deadlineMs: number): Promise<T> {
  return poll(probe, { what, timeoutMs: deadlineMs, intervalMs: 50 });
}

async function startClc(id: string, url: string, ports: { metrics: number }): Promise<Clc> {
  const home = path.join(dir, id);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const portFile = path.join(home, 'port');
  fs.rmSync(portFile, { force: true });
  const log = path.join(home, 'clc.log');
  const out = fs.openSync(log, 'a');
  const args = [
    CLI, 'clc', '--db', url, '--id', id, '--listen', '127.0.0.1:0', '--port-file', portFile,
    '--token-file', path.join(home, 'admin-token'), '--credentials-key-file', path.join(home, 'credentials.key'),
    '--metrics-listen', `127.0.0.1:${ports.metrics}`, '--certs', path.join(dir, 'no-certs'),
  ];
  const proc = spawn('node', args, {
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      EDGENET_LOG_FORMAT: 'json',
      EDGENET_CLC_EC2_LISTEN: 'off',
      EDGENET_METADATA_LISTEN: 'off',
      EDGENET_STATE_DIR: path.join(home, 'state'),
      EDGENET_CONF_DIR: path.join(home, 'conf'),
      EDGENET_RUN_DIR: path.join(home, 'run'),
    },
  });
  fs.closeSync(out);
  procs.set(id, proc);
  const port = await waitFor(`${id} port file`, async () => {
    if (proc.exitCode !== null) throw new Error(`${id} exited ${proc.exitCode}: ${fs.readFileSync(log, 'utf8').slice(-2000)}`);
    return Number(fs.readFileSync(portFile, 'utf8').trim()) || undefined;
  }, 60_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : ''}`);
  });
  return { id, api: `http://127.0.0.1:${port}`, metrics: `http://127.0.0.1:${ports.metrics}`, token: fs.readFileSync(path.join(home, 'admin-token'), 'utf8').trim(), log, proc };
}

async function call(clc: Clc, method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${clc.api}${p}`, {
    method,
    headers: { authorization: `Bearer ${clc.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

const status = async (clc: Clc) => (await call(clc, 'GET', '/v1/status')).body as StatusView;

async function metric(clc: Clc, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${clc.metrics}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

const CONFIG = (dns: string) => ({
  Mode: 'EDGE',
  InstanceDnsServers: [dns],
  PublicIps: ['198.51.100.2-198.51.100.50'],
  Clusters: [{ Name: 'zone-a', Subnet: { Name: 'zone-a', Subnet: '10.100.0.0', Netmask: '255.255.255.0', Gateway: '10.100.0.1' }, PrivateIps: ['10.100.0.10-10.100.0.200'] }],
});

test('two CLCs on one PostgreSQL: one leads, the follower proxies status and forwards changes, kill -9 the leader → the follower leads within 5 s, the restarted one follows', async (t) => {
  const why = postgresUnavailable();
  if (why !== undefined) {
    const msg = `CLC HA integration test was NOT run: ${why}`;
    if (process.env.CI === 'true') throw new Error(`${msg}; CI=true makes this a failure`);
    process.stderr.write(`\n!!! SKIPPED: ${msg}\n`);
    t.skip(msg);
    return;
  }
  server = await startPostgres();
  const url = await server.createDatabase('clc_ha');
  const ports = { a: await freePort(), b: await freePort() };
  const a = await startClc('clc-a', url, { metrics: ports.a });
  // Every CLC of a cloud shares the admin token and the credentials key (operators copy the files).
  fs.mkdirSync(path.join(dir, 'clc-b'), { mode: 0o700 });
  for (const f of ['admin-token', 'credentials.key']) fs.copyFileSync(path.join(dir, 'clc-a', f), path.join(dir, 'clc-b', f));
  for (const f of ['admin-token', 'credentials.key']) fs.chmodSync(path.join(dir, 'clc-b', f), 0o600);
  const b = await startClc('clc-b', url, { metrics: ports.b });

  // One leads: clc-a (it started first and found the lock free).
  const leaderView = await waitFor('clc-a leads with a document', async () => {
    const v = await status(a);
    return v.clc?.role === 'leader' && v.current !== undefined ? v : undefined;
  }, 20_000);
  assert.equal(leaderView.clc?.leader?.clcId, 'clc-a');
  const term1 = leaderView.clc!.leader!.term;
  const followerView = await waitFor('clc-b lists both members', async () => {
    const v = await status(b);
    return v.clc?.members.length === 2 ? v : undefined;
  }, 10_000);
  assert.deepEqual({ id: followerView.clc?.id, role: followerView.clc?.role, leader: followerView.clc?.leader?.clcId, term: followerView.clc?.leader?.term }, { id: 'clc-b', role: 'follower', leader: 'clc-a', term: term1 });
  assert.deepEqual(followerView.clc?.members.map((m) => m.id), ['clc-a', 'clc-b']);
  assert.ok(followerView.current !== undefined, 'the follower shows the leader\'s current document');
  assert.equal(await metric(a, 'edgenet_clc_leader'), 1);
  assert.equal(await metric(b, 'edgenet_clc_leader'), 0);
  assert.equal(await metric(b, 'edgenet_clc_leader_term'), term1);

  // `edgenet status` through the follower says who leads.
  const text = spawnSync('node', [CLI, 'status', '--url', b.api, '--token', b.token], { encoding: 'utf8', timeout: 60_000 });
  assert.match(text.stdout, new RegExp(`cloud controller: clc-a leads since \\S+Z \\(term ${term1}\\); followers: clc-b`), text.stdout + text.stderr);
  const json = spawnSync('node', [CLI, 'status', '--json', '--url', b.api, '--token', b.token], { encoding: 'utf8', timeout: 60_000 });
  assert.equal((JSON.parse(json.stdout) as StatusView).clc?.leader?.clcId, 'clc-a');

  // A change made through the follower reaches the leader's broadcaster.
  const seq0 = (await status(a)).current!.sequence;
  const put = await call(b, 'PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(CONFIG('10.1.1.254')) });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await waitFor('the leader builds a newer document after a change made through the follower', async () => ((await status(a)).current!.sequence > seq0 ? true : undefined), 10_000);
  const seq1 = (await status(a)).current!.sequence;

  // kill -9 the leader: the follower leads within 5 s, in a newer term, and builds a newer document.
  process.kill(a.proc.pid!, 'SIGKILL');
  const killedAt = Date.now();
  await waitFor('clc-b leads within 5 s of the leader being killed', async () => ((await status(b)).clc?.role === 'leader' ? true : undefined), 5000);
  const tookMs = Date.now() - killedAt;
  const after = await waitFor('clc-b has built its first document', async () => {
    const v = await status(b);
    return v.current !== undefined ? v : undefined;
  }, 10_000);
  assert.ok(after.clc!.leader!.term > term1, `term ${after.clc!.leader!.term} after ${term1}`);
  assert.equal(after.clc!.leader!.clcId, 'clc-b');
  assert.ok(after.current!.sequence > seq1, `sequence ${after.current!.sequence} after ${seq1}`);
  assert.equal(await metric(b, 'edgenet_clc_leader'), 1);
  t.diagnostic(`takeover after kill -9 seen by polling: ${tookMs} ms`);

  // A change right after the takeover is built by the new leader.
  await call(b, 'PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(CONFIG('10.1.1.253')) });
  await waitFor('the new leader builds the change', async () => ((await status(b)).current!.sequence > after.current!.sequence ? true : undefined), 10_000);

  // The killed CLC restarted is a follower of clc-b.
  if (a.proc.exitCode === null && a.proc.signalCode === null) await new Promise((r) => a.proc.once('exit', r));
  const a2 = await startClc('clc-a', url, { metrics: ports.a });
  const v2 = await waitFor('restarted clc-a follows clc-b', async () => {
    const v = await status(a2);
    return v.clc?.role === 'follower' && v.clc.leader?.clcId === 'clc-b' && v.current !== undefined ? v : undefined;
  }, 20_000);
  assert.equal(v2.clc?.id, 'clc-a');
  assert.equal(await metric(a2, 'edgenet_clc_leader'), 0);
  assert.equal((await status(b)).clc?.role, 'leader');
});
