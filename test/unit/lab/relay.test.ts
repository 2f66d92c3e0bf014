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
