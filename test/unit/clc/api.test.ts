import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startCloudController } from '../../../src/cloud-controller/main.ts';
import type { ClcContext, ClcPlugin, StateChange } from '../../../src/cloud-controller/contracts.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { Router } from '../../../src/cloud-controller/api/router.ts';
import { configText } from './fixture.ts';

async function call(url: string, method: string, p: string, token: string | undefined, body?: unknown) {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('router: params, 405 vs 404, decoding', () => {
  const r = new Router();
  const h = async () => ({ status: 200, body: null });
  r.add('GET', '/v1/groups/:group', h);
  r.add('POST', '/v1/groups/:group/authorize', h);
  const m = r.match('GET', '/v1/groups/my%20group');
  assert.equal(m.kind, 'found');
  assert.deepEqual(m.kind === 'found' && m.params, { group: 'my group' });
  assert.equal(r.match('DELETE', '/v1/groups/x').kind, 'method-not-allowed');
  assert.equal(r.match('GET', '/v1/nothing').kind, 'not-found');
  assert.throws(() => r.add('GET', '/v1/groups/:group', h), /already registered/);
});

test('admin API: token auth, public health, error shape, plugin routes and lifecycle', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'h2-api-'));
  const events: string[] = [];
  const changes: StateChange[] = [];
  let seen: ClcContext | undefined;
  const plugin = (name: string): ClcPlugin => ({
    name,
    async start(ctx) {
      events.push(`start ${name}`);
      seen = ctx;
      if (name === 'a') {
        ctx.route('GET', '/v1/test/:x', async (req) => ({ status: 200, body: { x: req.params.x, q: req.query.get('q') } }));
        ctx.onChange((c) => changes.push(c));
      }
    },
    async stop() {
      events.push(`stop ${name}`);
    },
  });
  const clc = await startCloudController({
    dbPath: ':memory:',
    host: '127.0.0.1',
    port: 0,
    clcIp: '10.0.0.1',
    tokenFile: path.join(dir, 'sub', 'token'),
    portFile: path.join(dir, 'port'),
    logger: nullLogger(),
    plugins: [plugin('a'), plugin('b')],
  });
  try {
    assert.equal(statSync(path.join(dir, 'sub', 'token')).mode & 0o777, 0o600);
    assert.equal(Number(readFileSync(path.join(dir, 'port'), 'utf8')), clc.port);
    const { url, token } = clc;
    assert.equal((await call(url, 'GET', '/healthz', undefined)).status, 200);
    const denied = await call(url, 'GET', '/v1/properties', undefined);
    assert.equal(denied.status, 401);
    assert.equal(denied.body.error.code, 'UNAUTHORIZED');
    assert.equal((await call(url, 'GET', '/v1/properties', 'wrong')).status, 401);
    assert.equal((await call(url, 'GET', '/v1/properties', token)).status, 200);
    const missing = await call(url, 'GET', '/v1/nope', token);
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'NOT_FOUND']);
    assert.equal((await call(url, 'PATCH', '/v1/properties', token)).status, 405);
    const malformed = await call(url, 'PUT', '/v1/properties/cloud.network.address_allocation', token, '{not json');
    assert.deepEqual([malformed.status, malformed.body.error.code], [400, 'MALFORMED_REQUEST']);

    const invalid = await call(url, 'PUT', '/v1/properties/cloud.network.network_configuration', token, { value: '{"PublicIps": ["1.2.3"]}' });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'INVALID_PROPERTY');
    assert.ok(Array.isArray(invalid.body.error.diagnostics) && invalid.body.error.diagnostics.length > 0);
    assert.ok(invalid.body.error.diagnostics.every((d: { code: string; path: string }) => typeof d.code === 'string' && typeof d.path === 'string'));
    const unknown = await call(url, 'GET', '/v1/properties/no.such', token);
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'UNKNOWN_PROPERTY']);

    const set = await call(url, 'PUT', '/v1/properties/cloud.network.network_configuration', token, { value: configText() });
    assert.equal(set.status, 200);
    assert.deepEqual(changes, [{ kind: 'property', name: 'cloud.network.network_configuration' }]);
    assert.equal(((await seen!.getProperty('cloud.network.address_hold_timeout')) as number) + 0, 300);

    const plug = await call(url, 'GET', '/v1/test/hello?q=1', token);
    assert.deepEqual(plug.body, { x: 'hello', q: '1' });
    assert.equal((await call(url, 'GET', '/v1/test/hello', undefined)).status, 401, 'plugin routes are authenticated by default');

    const cluster = await call(url, 'POST', '/v1/clusters', token, { name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
    assert.equal(cluster.status, 201);
    const bad = await call(url, 'POST', '/v1/clusters', token, { name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
    assert.deepEqual([bad.status, bad.body.error.code, typeof bad.body.error.message], [409, 'CLUSTER_ALREADY_EXISTS', 'string']);
    const snap = await call(url, 'GET', '/v1/snapshot', token);
    assert.equal(snap.body.clcIp, '10.0.0.1');
  } finally {
    await clc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(events, ['start a', 'start b', 'stop b', 'stop a']);
});
