/**
 * Several CLC URLs (`--url A,B`, EDGENET_URL): the client uses the first CLC
 * that answers and stays with it; a closed port, a CLC answering 503
 * DB_UNAVAILABLE, or (for GET only) a connection cut after it was made, send
 * it to the next; a write cut after connecting is reported, not repeated on
 * another CLC; when none answers, the error lists every URL and why. Real
 * HTTP servers on loopback (shared/admin-client-failover.ts).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createFailoverApiClient } from '../../../src/shared/admin-client-failover.ts';
import { UserError } from '../../../src/shared/errors.ts';
import { cliSandbox } from './cli-sandbox.ts';
import { startFakeClc, type FakeClc } from './fake-clc.ts';

const { baseEnv, run } = cliSandbox('edgenet-failover-');

/** A closed port: bound then released, so nothing listens there. */
async function closedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Accepts connections and resets them once the request arrives: "connected, then cut". */
async function cuttingServer(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const s = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => {
      requests++;
      socket.resetAndDestroy();
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => {
      for (const x of sockets) x.destroy();
      return new Promise<void>((r) => s.close(() => r()));
    },
  };
}

const servers: { close(): Promise<void> }[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function fake(routes: Parameters<typeof startFakeClc>[0]): Promise<FakeClc> {
  const f = await startFakeClc(routes);
  servers.push(f);
  return f;
}

const DB_DOWN = { status: 503, body: { error: { code: 'DB_UNAVAILABLE', message: 'the database is unavailable; nothing was changed' } } };
const settings = { timeoutMs: 5000, token: 't' };

test('the first URL that answers is used and remembered; closed ports and 503 DB_UNAVAILABLE are skipped', async () => {
  const down = await closedUrl();
  const noDb = await fake({ 'GET /v1/status': DB_DOWN, 'POST /v1/things': DB_DOWN });
  const good = await fake({ 'GET /v1/status': { status: 200, body: { clc: 'good' } }, 'POST /v1/things': { status: 200, body: { made: 1 } } });
  const client = createFailoverApiClient([down, noDb.url, good.url], settings);
  assert.deepEqual(await client.request('GET', '/v1/status'), { clc: 'good' });
  assert.equal(client.current(), good.url);
  assert.equal(noDb.seen.length, 1);
  // Remembered: the next requests go straight to it (a write too).
  assert.deepEqual(await client.request('POST', '/v1/things', { n: 1 }), { made: 1 });
  assert.deepEqual(await client.request('GET', '/v1/status'), { clc: 'good' });
  assert.equal(noDb.seen.length, 1, 'the CLC without its database was not asked again');
  assert.deepEqual(good.seen.map((s) => `${s.method} ${s.path}`), ['GET /v1/status', 'POST /v1/things', 'GET /v1/status']);
});

test('any other HTTP answer, an error included, is that CLC\'s answer', async () => {
  const first = await fake({ 'GET /v1/instances/i-1': { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no instance i-1' } } } });
  const second = await fake({ 'GET /v1/instances/i-1': { status: 200, body: { id: 'i-1' } } });
  const client = createFailoverApiClient([first.url, second.url], settings);
  await assert.rejects(client.request('GET', '/v1/instances/i-1'), (e: UserError) => e.code === 'NOT_FOUND' && e.status === 404);
  assert.equal(second.seen.length, 0);
  assert.equal(client.current(), first.url);
});

test('a connection cut after it was made: a GET goes on to the next CLC, a write is reported and not repeated', async () => {
  const cut = await cuttingServer();
  servers.push(cut);
  const good = await fake({ 'GET /v1/status': { status: 200, body: { clc: 'good' } }, 'POST /v1/instances': { status: 200, body: { id: 'i-2' } } });
  const reading = createFailoverApiClient([cut.url, good.url], settings);
  assert.deepEqual(await reading.request('GET', '/v1/status'), { clc: 'good' });
  const writing = createFailoverApiClient([cut.url, good.url], settings);
  await assert.rejects(writing.request('POST', '/v1/instances', { n: 1 }), (e: UserError) => {
    assert.equal(e.code, 'CLC_UNREACHABLE');
    assert.match(e.message, new RegExp(cut.url.replace(/[.:/]/g, '\\$&')));
    return true;
  });
  assert.equal(cut.requests(), 2, 'the cutting server received both requests');
  assert.deepEqual(good.seen.map((s) => `${s.method} ${s.path}`), ['GET /v1/status'], 'the write was not sent to a second CLC');
});

test('none answers: the error names every URL and why; all DB_UNAVAILABLE says so', async () => {
  const down = await closedUrl();
  const noDb = await fake({ 'GET /v1/status': DB_DOWN });
  const noDb2 = await fake({ 'GET /v1/status': DB_DOWN });
  const mixed = createFailoverApiClient([down, noDb.url], settings);
  await assert.rejects(mixed.request('GET', '/v1/status'), (e: UserError) => {
    assert.equal(e.code, 'CLC_UNREACHABLE');
    const attempts = e.details?.attempts as { url: string; code: string }[];
    assert.deepEqual(attempts.map((a) => [a.url, a.code]), [[down, 'CLC_UNREACHABLE'], [noDb.url, 'DB_UNAVAILABLE']]);
    assert.ok(e.message.includes(down) && e.message.includes(noDb.url), e.message);
    return true;
  });
  const database = createFailoverApiClient([noDb.url, noDb2.url], settings);
  await assert.rejects(database.request('GET', '/v1/status'), (e: UserError) => e.code === 'DB_UNAVAILABLE' && e.status === 503);
});

test('CLI: --url A,B and EDGENET_URL lists fail over; --json keeps its error shape; a bad entry is a usage error', async () => {
  const down = await closedUrl();
  const good = await fake({ 'GET /v1/status': { status: 200, body: { clusters: [], nodes: [] } }, 'GET /v1/properties': { status: 200, body: { properties: [] } } });
  const env = { ...baseEnv, EDGENET_TOKEN: 't' };
  const viaFlag = await run(['property', 'list', '--json', '--url', `${down},${good.url}/`], env);
  assert.equal(viaFlag.code, 0, viaFlag.stderr + viaFlag.stdout);
  const viaEnv = await run(['property', 'list', '--json'], { ...env, EDGENET_URL: `${down}, ${good.url}` });
  assert.equal(viaEnv.code, 0, viaEnv.stderr + viaEnv.stdout);
  assert.equal(good.seen.filter((s) => s.path === '/v1/properties').length, 2);

  const down2 = await closedUrl();
  const none = await run(['property', 'list', '--json', '--url', `${down},${down2}`], env);
  assert.equal(none.code, 1);
  const error = (JSON.parse(none.stdout) as { error: { code: string; message: string; details: { attempts: { url: string }[] } } }).error;
  assert.equal(error.code, 'CLC_UNREACHABLE');
  assert.deepEqual(error.details.attempts.map((a) => a.url), [down, down2]);

  const bad = await run(['property', 'list', '--json', '--url', `${good.url},ftp://x`], env);
  assert.equal(bad.code, 2);
  assert.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'INVALID_URL');
});
