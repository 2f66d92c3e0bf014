/**
 * Issue 11 item 4: a refused request costs the server at most 64 KiB of its
 * body, then the connection is closed; slow clients are cut off. Real servers
 * on loopback — the admin API, the CC and the NC (real daemons, real mutual
 * TLS), the metadata service and a metrics listener — and a raw client that
 * behaves like an attacker: it announces 100 MB and streams as fast as the
 * socket takes it, or sends nothing at all after the head.
 *
 * What is measured: the bytes the client managed to write before the socket
 * closed (kernel buffers on loopback hold megabytes, so this says "the server
 * did not drain the body", not the 64 KiB bound), and the bytes the server
 * read from the socket (its log line 'connection closed after refusal'
 * carries `bytesRead`), which must stay within 64 KiB of body plus the head
 * (and, for TLS, the handshake).
 */
import { test } from 'node:test';
import { tlsFixture } from '../helpers/tls-fixture.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { clientTlsOptions, type TlsMaterial } from '../../src/shared/tls/material.ts';
import type { Logger } from '../../src/shared/logger.ts';
import { startApiServer } from '../../src/cloud-controller/api/server.ts';
import { Router } from '../../src/cloud-controller/api/router.ts';
import { startCc } from '../../src/cluster-controller/main.ts';
import { startNc } from '../../src/node-controller/main.ts';
import { startSoapServer } from '../../src/shared/soap/server.ts';
import { startMetadataServer } from '../../src/cloud-controller/metadata/server.ts';
import { startMetricsServer, newRegistry } from '../../src/shared/metrics.ts';
import { REFUSED_BODY_READ_LIMIT } from '../../src/shared/http-guard.ts';
import { waitFor } from '../../src/shared/wait.ts';

const HUNDRED_MB = 100 * 1024 * 1024;
/** Announced by the refused requests: under every size limit, so authentication is what refuses them. */
const ANNOUNCED = 20 * 1024 * 1024;
/** Head and TLS handshake on top of the body bound (a few KiB each at most). */
const OVERHEAD = 8 * 1024;
const TOKEN = 'a'.repeat(64);

const fixture = tlsFixture('edgenet-refusal-');
const material = fixture.material;

/** A logger that keeps every entry (message + fields) for assertions. */
function capturingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const record = (level: string) => (message: string, fields: Record<string, unknown> = {}) => entries.push({ level, message, ...fields });
  const logger = new Proxy({} as Record<string, unknown>, {
    get: (_t, prop) => (prop === 'child' ? () => logger : typeof prop === 'string' && ['debug', 'info', 'warn', 'error'].includes(prop) ? record(prop) : () => undefined),
  }) as unknown as Logger;
  return { logger, entries };
}

interface Outcome {
  readonly response: string;
  readonly written: number;
}

/**
 * Sends `head`, then (with `stream`) body bytes as fast as the socket takes
 * them until the server closes the connection or `total` is reached; resolves
 * once the socket is closed (the test's timeout catches a server that never closes).
 */
async function attack(socket: net.Socket, head: string, options: { stream: boolean; total: number }): Promise<Outcome> {
  const received: Buffer[] = [];
  let closed = false;
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('error', () => {});
  // Not events.once: it rejects on 'error', and a reset is what we expect.
  const closing = new Promise<void>((resolve) => socket.once('close', () => resolve())).then(() => {
    closed = true;
  });
  let written = 0;
  socket.write(head);
  if (options.stream) {
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    while (!closed && !socket.destroyed && written < options.total) {
      const ok = socket.write(chunk, (err) => {
        if (!err) written += chunk.length;
      });
      if (!ok) await Promise.race([once(socket, 'drain').catch(() => undefined), closing]);
    }
  }
  await closing;
  return { response: Buffer.concat(received).toString('latin1'), written };
}

function plainConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** TLS to a SOAP port: `as` a role's certificate, or none at all. */
function tlsConnect(port: number, as: TlsMaterial | 'no-cert'): Promise<tls.TLSSocket> {
  const base = clientTlsOptions(material.clc!);
  const options = as === 'no-cert' ? { ca: base.ca, rejectUnauthorized: true, minVersion: base.minVersion } : clientTlsOptions(as);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ ...options, host: '127.0.0.1', port, servername: undefined }, () => resolve(s));
    s.once('error', reject);
  });
}

const postHead = (extra: string) => `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: ${ANNOUNCED}\r\n${extra}\r\n`;

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

/** The server's own count of bytes read from the refused connection. */
async function serverBytesRead(entries: Record<string, unknown>[]): Promise<number> {
  const entry = await waitFor(() => entries.find((e) => e.message === 'connection closed after refusal'), { timeoutMs: 5000, intervalMs: 10, what: 'the refusal close log line' });
  return entry.bytesRead as number;
}

function assertRefusedAndClosed(outcome: Outcome, status: number, code: string): void {
  assert.equal(statusOf(outcome.response), status, outcome.response.slice(0, 300));
  assert.match(outcome.response, /\r\nconnection: close\r\n/i);
  assert.ok(outcome.response.includes(code), `response names ${code}: ${outcome.response.slice(0, 400)}`);
}

async function withApi<T>(run: (port: number, entries: Record<string, unknown>[]) => Promise<T>, timeouts?: { headersMs?: number; bodyIdleMs?: number }): Promise<T> {
  const { logger, entries } = capturingLogger();
  const router = new Router();
  router.add('POST', '/v1/echo', async (req) => ({ status: 200, body: { got: req.body } }));
  const server = await startApiServer({ host: '127.0.0.1', port: 0, token: TOKEN, router, logger, ...(timeouts ? { timeouts } : {}) });
  try {
    return await run(server.port, entries);
  } finally {
    await server.close();
  }
}

const apiHead = (auth: string) => `POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${ANNOUNCED}\r\n${auth}\r\n`;

test('admin API: an unauthenticated 20 MiB body is refused from the head (401) and the connection closed', { timeout: 60_000 }, async (t) => {
  await withApi(async (port, entries) => {
    // Head only: the answer must come without a byte of the body.
    const quiet = await attack(await plainConnect(port), apiHead(''), { stream: false, total: 0 });
    assertRefusedAndClosed(quiet, 401, 'UNAUTHORIZED');
    assert.equal(quiet.written, 0);
    entries.length = 0;
    // Streaming as fast as the socket takes it, with a wrong token.
    const loud = await attack(await plainConnect(port), apiHead('Authorization: Bearer wrong\r\n'), { stream: true, total: ANNOUNCED });
    assertRefusedAndClosed(loud, 401, 'UNAUTHORIZED');
    assert.ok(loud.written < ANNOUNCED / 2, `the server closed while the client was still sending (client wrote ${loud.written} bytes)`);
    const read = await serverBytesRead(entries);
    t.diagnostic(`client wrote ${loud.written} bytes, server read ${read}`);
    assert.ok(read <= REFUSED_BODY_READ_LIMIT + OVERHEAD, `server read ${read} bytes of a refused request`);
  });
});

test('admin API: a body over the limit is refused from Content-Length before authentication (413)', { timeout: 30_000 }, async () => {
  await withApi(async (port) => {
    const outcome = await attack(await plainConnect(port), `POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024 * 1024}\r\n\r\n`, { stream: false, total: 0 });
    assertRefusedAndClosed(outcome, 413, 'REQUEST_TOO_LARGE');
  });
});

test('admin API: an authenticated body that stops arriving is cut off (408), a slow head too', { timeout: 30_000 }, async () => {
  await withApi(
    async (port) => {
      const socket = await plainConnect(port);
      const stalled = attack(socket, `POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100\r\n\r\n{"a":`, { stream: false, total: 0 });
      assertRefusedAndClosed(await stalled, 408, 'REQUEST_TIMEOUT');
      // Slow loris: half a head, then nothing; Node's headersTimeout closes it.
      const loris = await attack(await plainConnect(port), 'POST /v1/echo HTTP/1.1\r\nHost: x\r\n', { stream: false, total: 0 });
      assert.ok(loris.response === '' || statusOf(loris.response) === 408, loris.response);
    },
    { headersMs: 300, bodyIdleMs: 300 },
  );
});

test('admin API: a good request still works and keeps its connection', { timeout: 30_000 }, async () => {
  await withApi(async (port) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/echo`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"x":1}' });
    assert.equal(res.status, 200);
    assert.notEqual(res.headers.get('connection'), 'close');
    assert.deepEqual(await res.json(), { got: { x: 1 } });
  });
});

async function withCcAndNc<T>(run: (ports: { cc: number; nc: number }, entries: Record<string, unknown>[]) => Promise<T>): Promise<T> {
  const { logger, entries } = capturingLogger();
  const state = mkdtempSync(path.join(tmpdir(), 'edgenet-refusal-state-'));
  const common = { listen: { host: '127.0.0.1', port: 0 }, metricsListen: undefined, certsDir: fixture.dir, maxRequestBytes: 64 * 1024 * 1024, logLevel: 'info', logFormat: 'json' } as const;
  const nc = await startNc({ ...common, certName: 'nc1', gniFile: path.join(state, 'gni.xml'), statusFile: path.join(state, 'status.json'), nodeName: '127.0.0.1' } as Parameters<typeof startNc>[0], { logger });
  let cc: Awaited<ReturnType<typeof startCc>> | undefined;
  try {
    cc = await startCc(
      { ...common, certName: 'cc1', stateDir: state, nodes: [], fanout: 1, ncTimeoutMs: 1000, retryBaseMs: 100, retryMaxMs: 1000, statusIntervalMs: 60_000 } as Parameters<typeof startCc>[0],
      { logger },
    );
    return await run({ cc: cc.port, nc: nc.port }, entries);
  } finally {
    await cc?.stop();
    await nc.stop();
    await fs.rm(state, { recursive: true, force: true });
  }
}

test('CC and NC: no client certificate or a wrong-role one — 403 from the head, connection closed, at most 64 KiB read', { timeout: 120_000 }, async (t) => {
  await withCcAndNc(async (ports, entries) => {
    const cases = [
      { name: 'CC, no certificate', port: ports.cc, as: 'no-cert' as const, code: 'UNAUTHENTICATED' },
      { name: 'CC, an NC certificate', port: ports.cc, as: material.nc!, code: 'FORBIDDEN_ROLE' },
      { name: 'NC, no certificate', port: ports.nc, as: 'no-cert' as const, code: 'UNAUTHENTICATED' },
      { name: 'NC, a CLC certificate', port: ports.nc, as: material.clc!, code: 'FORBIDDEN_ROLE' },
    ];
    for (const c of cases) {
      const quiet = await attack(await tlsConnect(c.port, c.as), postHead(''), { stream: false, total: 0 });
      assertRefusedAndClosed(quiet, 403, c.code);
      assert.equal(quiet.written, 0, c.name);
      entries.length = 0;
      const loud = await attack(await tlsConnect(c.port, c.as), postHead(''), { stream: true, total: ANNOUNCED });
      assertRefusedAndClosed(loud, 403, c.code);
      assert.ok(loud.written < ANNOUNCED / 2, `${c.name}: the server closed while the client was still sending (client wrote ${loud.written} bytes)`);
      const read = await serverBytesRead(entries);
      t.diagnostic(`${c.name}: client wrote ${loud.written} bytes, server read ${read}`);
      assert.ok(read <= REFUSED_BODY_READ_LIMIT + OVERHEAD, `${c.name}: server read ${read} bytes of a refused request`);
      entries.length = 0;
    }
  });
});

test('SOAP: a slow head and a stalled body are cut off; ?wsdl never reflects the Host header', { timeout: 30_000 }, async () => {
  const { logger } = capturingLogger();
  const server = await startSoapServer(
    { tls: material.cc!, allowedRole: 'clc', maxRequestBytes: 1024 * 1024, wsdl: '<definitions><service location="EDGENET_SERVICE_URL"/></definitions>', operations: {}, logger, timeouts: { headersMs: 300, bodyIdleMs: 300 } },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const loris = await attack(await tlsConnect(server.port, material.clc!), 'POST / HTTP/1.1\r\nHost: x\r\n', { stream: false, total: 0 });
    assert.ok(loris.response === '' || statusOf(loris.response) === 408, loris.response);
    const stalled = await attack(await tlsConnect(server.port, material.clc!), 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<soapenv:Env', { stream: false, total: 0 });
    assertRefusedAndClosed(stalled, 408, 'REQUEST_TIMEOUT');
    const wsdl = await attack(await tlsConnect(server.port, 'no-cert'), 'GET /?wsdl HTTP/1.1\r\nHost: "/><evil x="\r\nConnection: close\r\n\r\n', { stream: false, total: 0 });
    assert.equal(statusOf(wsdl.response), 200);
    assert.ok(!wsdl.response.includes('evil'), wsdl.response);
    assert.ok(wsdl.response.includes(`location="https://127.0.0.1:${server.port}/"`), wsdl.response);
  } finally {
    await server.close();
  }
});

test('metadata and metrics listeners: a body is refused and the connection closed, never drained', { timeout: 60_000 }, async () => {
  const { logger, entries } = capturingLogger();
  const metadata = await startMetadataServer({ host: '127.0.0.1', port: 0, lookup: { lookup: async () => undefined } as never, logger });
  const metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: newRegistry('test'), health: () => ({ ok: true }) });
  try {
    const post = await attack(await plainConnect(metadata.port), `POST /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUNDRED_MB}\r\n\r\n`, { stream: true, total: HUNDRED_MB });
    assert.equal(statusOf(post.response), 405);
    assert.ok(post.written < HUNDRED_MB / 4, `metadata: client wrote ${post.written} bytes`);
    const read = await serverBytesRead(entries);
    assert.ok(read <= REFUSED_BODY_READ_LIMIT + OVERHEAD, `metadata: server read ${read} bytes`);
    const get = await attack(await plainConnect(metadata.port), `GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUNDRED_MB}\r\n\r\n`, { stream: true, total: HUNDRED_MB });
    assert.equal(statusOf(get.response), 400);
    assert.ok(get.written < HUNDRED_MB / 4, `metadata GET: client wrote ${get.written} bytes`);
    const health = await attack(await plainConnect(metrics.port), `GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, { stream: true, total: HUNDRED_MB });
    assert.equal(statusOf(health.response), 400);
    assert.ok(health.written < HUNDRED_MB / 4, `metrics: client wrote ${health.written} bytes`);
  } finally {
    await metadata.close();
    await metrics.close();
  }
});
