/**
 * The admin-API relay: TCP → unix socket → TCP carries HTTP both ways, a dead
 * upstream closes the client's connection (the request fails, it never
 * hangs), and the relay exits once its watched file disappears.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseEndpoint, startRelay } from '../../../src/lab/relay.ts';
import { labApiClient } from '../../../src/lab/api.ts';
import { createFailoverApiClient } from '../../../src/shared/admin-client-failover.ts';

test('endpoints parse; anything else is refused', () => {
  assert.deepEqual(parseEndpoint('tcp:127.0.0.1:8770'), { kind: 'tcp', host: '127.0.0.1', port: 8770 });
  assert.deepEqual(parseEndpoint('unix:/tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock' });
  assert.throws(() => parseEndpoint('127.0.0.1:80'), { code: 'LAB_BAD_ENDPOINT' });
  assert.throws(() => parseEndpoint('tcp:h:70000'), { code: 'LAB_BAD_ENDPOINT' });
});

test('two relays carry the admin API; a dead upstream fails the request; the watch ends the relay', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'h7relay-'));
  const watch = path.join(dir, 'lab.json');
  await fs.writeFile(watch, '{}');
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const upstreamPort = (server.address() as AddressInfo).port;
  const sock = path.join(dir, 'api.sock');
  const inner = await startRelay({ listen: { kind: 'unix', path: sock }, target: { kind: 'tcp', host: '127.0.0.1', port: upstreamPort }, watch });
  const portFile = path.join(dir, 'port');
  const outer = await startRelay({ listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, target: { kind: 'unix', path: sock }, portFile, watch });
  try {
    assert.equal((await fs.readFile(portFile, 'utf8')).trim(), String(outer.port));
    assert.equal(((await fs.stat(sock)).mode & 0o777).toString(8), '600');
    const api = labApiClient(`http://127.0.0.1:${outer.port}`, 'secret');
    assert.deepEqual(await api.request('GET', '/v1/status'), { path: '/v1/status', auth: 'Bearer secret' });

    await new Promise<void>((r) => server.close(() => r()));
    await assert.rejects(api.request('GET', '/healthz'), { code: 'CLC_UNREACHABLE' });

    await fs.rm(watch);
    await Promise.all([inner.closed, outer.closed]);
  } finally {
    await inner.close().catch(() => undefined);
    await outer.close().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('--http-unavailable: a dead CLC behind live relays is a 503 UPSTREAM_UNAVAILABLE, and a client with two CLC URLs sends even a write to the other one', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'h7relay-'));
  const seen: string[] = [];
  const other = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'sg-other' }));
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  // The first CLC's port: bound then released, so nothing listens behind its relays.
  const dead = http.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const sock = path.join(dir, 'api.sock');
  const inner = await startRelay({ listen: { kind: 'unix', path: sock }, target: { kind: 'tcp', host: '127.0.0.1', port: deadPort }, httpUnavailable: true });
  const outer = await startRelay({ listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, target: { kind: 'unix', path: sock }, httpUnavailable: true });
  try {
    const alone = labApiClient(`http://127.0.0.1:${outer.port}`, 'secret');
    await assert.rejects(alone.request('POST', '/v1/groups', { name: 'g' }), (e: { code?: string; status?: number }) => e.code === 'UPSTREAM_UNAVAILABLE' && e.status === 503);
    const both = createFailoverApiClient([`http://127.0.0.1:${outer.port}`, `http://127.0.0.1:${(other.address() as AddressInfo).port}`], { timeoutMs: 5000, token: 'secret' });
    assert.deepEqual(await both.request('POST', '/v1/groups', { name: 'g' }), { id: 'sg-other' });
    assert.deepEqual(seen, ['POST /v1/groups']);
    // Without the option the relay closes instead (the EC2 relays: their clients retry on their own).
    await inner.close();
    const plain = await startRelay({ listen: { kind: 'unix', path: sock }, target: { kind: 'tcp', host: '127.0.0.1', port: deadPort } });
    await assert.rejects(alone.request('GET', '/healthz'), { code: 'CLC_UNREACHABLE' });
    await plain.close();
  } finally {
    await inner.close().catch(() => undefined);
    await outer.close().catch(() => undefined);
    await new Promise<void>((r) => other.close(() => r()));
    await fs.rm(dir, { recursive: true, force: true });
  }
});
