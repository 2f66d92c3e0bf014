/**
 * The metadata plugin over real HTTP on loopback with a fake ClcContext: the
 * requester is identified by its source address (127.0.0.x stands for
 * instance addresses), unknown sources get 404, a taken port is retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClcContext, CloudSnapshot, SnapshotInstance, StateChange } from '../../../src/cloud-controller/contracts.ts';
import { metadataPlugin, parseMetadataListen } from '../../../src/cloud-controller/metadata/plugin.ts';
import { FakeClock, systemClock, type Clock } from '../../../src/shared/clock.ts';
import { metadataContext, requestFrom } from './metadata-fakes.ts';

interface Fake {
  ctx: ClcContext;
  instances: SnapshotInstance[];
  groups: { id: string; name: string }[];
  snapshots: number;
  emit(change: StateChange): void;
}

function fakeContext(env: NodeJS.ProcessEnv = {}, clock: Clock = systemClock): Fake {
  const listeners = new Set<(c: StateChange, origin: 'local' | 'remote') => void>();
  const fake: Fake = {
    instances: [],
    groups: [],
    snapshots: 0,
    emit: (c) => listeners.forEach((l) => l(c, 'local')),
    ctx: undefined as unknown as ClcContext,
  };
  fake.ctx = metadataContext({
    env,
    clock,
    snapshot: async (): Promise<CloudSnapshot> => {
      fake.snapshots++;
      return { config: undefined, clcIp: '127.0.0.1', clusters: [], instances: [...fake.instances], groups: fake.groups.map((g) => ({ ...g, ownerId: 'a', rules: [] })) };
    },
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    instanceByPrivateIp: async (ip) => fake.instances.find((i) => i.privateIp === ip),
  });
  return fake;
}

const get = (port: number, path: string, localAddress = '127.0.0.1', method = 'GET') => requestFrom('127.0.0.1', port, path, localAddress, method);

const vm = (over: Partial<SnapshotInstance>): SnapshotInstance => ({
  id: 'i-00000001',
  ownerId: 'a',
  cluster: 'PARTI00',
  node: '172.31.0.11',
  mac: 'd0:0d:00:00:00:01',
  privateIp: '127.0.0.1',
  groups: ['sg-00000001'],
  ...over,
});

test('answers by the requesting private address; unknown sources get 404', async () => {
  const fake = fakeContext();
  fake.groups = [{ id: 'sg-00000001', name: 'web' }, { id: 'sg-00000002', name: 'db' }];
  fake.instances = [vm({ groups: ['sg-00000001', 'sg-00000002'], publicIp: '203.0.113.50' })];
  const plugin = metadataPlugin({ listen: '127.0.0.1:0' });
  await plugin.start(fake.ctx);
  try {
    const port = plugin.address()!.port;
    assert.deepEqual(await get(port, '/latest/meta-data/instance-id'), { status: 200, body: 'i-00000001' });
    assert.deepEqual(await get(port, '/latest/meta-data/security-groups'), { status: 200, body: 'web\ndb' });
    assert.deepEqual(await get(port, '/latest/meta-data/placement/availability-zone'), { status: 200, body: 'PARTI00' });
    assert.deepEqual(await get(port, '/latest/meta-data/public-ipv4'), { status: 200, body: '203.0.113.50' });
    assert.deepEqual(await get(port, '/latest/meta-data/local-ipv4?x=1'), { status: 200, body: '127.0.0.1' });
    // Eucalyptus names with the default instance subdomain (no property set in the fake).
    assert.deepEqual(await get(port, '/latest/meta-data/local-hostname'), { status: 200, body: 'euca-127-0-0-1.eucalyptus.internal' });
    assert.deepEqual(await get(port, '/latest/meta-data/public-hostname'), { status: 200, body: 'euca-203-0-113-50.eucalyptus.localhost' });
    assert.equal(JSON.parse((await get(port, '/latest/dynamic/instance-identity/document')).body).instanceId, 'i-00000001');
    assert.equal((await get(port, '/latest/user-data')).status, 404);
    assert.equal((await get(port, '/latest/dynamic/instance-identity/document', '127.0.0.3')).status, 404, 'the identity check covers the new entries');
    // 127.0.0.3 is no instance: 404 even for a path that exists.
    assert.equal((await get(port, '/latest/meta-data/instance-id', '127.0.0.3')).status, 404);
    assert.equal((await get(port, '/latest/meta-data/instance-id', '127.0.0.1', 'POST')).status, 405);
    const head = await get(port, '/latest/meta-data/mac', '127.0.0.1', 'HEAD');
    assert.deepEqual(head, { status: 200, body: '' });
  } finally {
    await plugin.stop();
  }
});

test('a SNATed request (source = the public address) finds the instance; changes refresh the index', async () => {
  const fake = fakeContext();
  fake.groups = [{ id: 'sg-00000001', name: 'web' }];
  fake.instances = [vm({ privateIp: '10.111.0.5', publicIp: '127.0.0.2' })];
  const plugin = metadataPlugin({ listen: '127.0.0.1:0' });
  await plugin.start(fake.ctx);
  try {
    const port = plugin.address()!.port;
    assert.deepEqual(await get(port, '/latest/meta-data/local-ipv4', '127.0.0.2'), { status: 200, body: '10.111.0.5' });
    const before = fake.snapshots;
    await get(port, '/latest/meta-data/mac', '127.0.0.2');
    assert.equal(fake.snapshots, before, 'the index is cached between changes');
    // The address moves to another instance: after the change event the new owner answers.
    fake.instances = [vm({ privateIp: '10.111.0.5' }), vm({ id: 'i-00000002', privateIp: '10.111.0.6', publicIp: '127.0.0.2' })];
    fake.emit({ kind: 'address' });
    assert.deepEqual(await get(port, '/latest/meta-data/instance-id', '127.0.0.2'), { status: 200, body: 'i-00000002' });
    // The group is renamed/deleted: names come from the refreshed snapshot, ids are the fallback.
    fake.groups = [];
    fake.emit({ kind: 'group' });
    assert.deepEqual(await get(port, '/latest/meta-data/security-groups', '127.0.0.2'), { status: 200, body: 'sg-00000001' });
  } finally {
    await plugin.stop();
  }
});

test('listen address: env, off, and a taken port retried without failing the CLC', async () => {
  assert.deepEqual(parseMetadataListen(':8773'), { kind: 'listen', host: '0.0.0.0', port: 8773 });
  assert.deepEqual(parseMetadataListen('127.0.0.1:0'), { kind: 'listen', host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseMetadataListen('[::1]:80'), { kind: 'listen', host: '::1', port: 80 });
  assert.deepEqual(parseMetadataListen('off'), { kind: 'off' });
  assert.throws(() => parseMetadataListen('8773'), { code: 'METADATA_BAD_LISTEN' });
  assert.throws(() => parseMetadataListen('x:99999'), { code: 'METADATA_BAD_LISTEN' });

  const off = metadataPlugin();
  await off.start(fakeContext({ EDGENET_METADATA_LISTEN: 'off' }).ctx);
  assert.equal(off.address(), undefined);
  await off.stop();

  const blocker = http.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as AddressInfo).port;
  const clock = new FakeClock();
  const fake = fakeContext({ EDGENET_METADATA_LISTEN: `127.0.0.1:${port}` }, clock);
  fake.instances = [vm({})];
  const plugin = metadataPlugin();
  await plugin.start(fake.ctx); // must not throw
  try {
    assert.equal(plugin.address(), undefined);
    assert.equal(clock.timerCount, 1, 'a retry is scheduled');
    await new Promise<void>((r) => blocker.close(() => r()));
    await clock.advance(5_000);
    for (let i = 0; i < 100 && !plugin.address(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(plugin.address()?.port, port);
    assert.deepEqual(await get(port, '/latest/meta-data/instance-id'), { status: 200, body: 'i-00000001' });
  } finally {
    await plugin.stop();
    blocker.close();
  }
  assert.equal(clock.timerCount, 0);
});

test('user data over HTTP: the stored bytes exactly (binary kept), octet-stream, listed under the version; HEAD sends the length only', async () => {
  const fake = fakeContext();
  const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x0a, 0xc3, 0x28]);
  fake.instances = [vm({ userData: bytes.toString('base64') })];
  const plugin = metadataPlugin({ listen: '127.0.0.1:0' });
  await plugin.start(fake.ctx);
  try {
    const port = plugin.address()!.port;
    const raw = (method: string) =>
      new Promise<{ status: number; type?: string; length?: string; body: Buffer }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/latest/user-data', method, localAddress: '127.0.0.1', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers['content-type'] ? { type: res.headers['content-type'] } : {}), ...(res.headers['content-length'] ? { length: res.headers['content-length'] } : {}), body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    assert.deepEqual(await raw('GET'), { status: 200, type: 'application/octet-stream', length: String(bytes.length), body: bytes });
    assert.deepEqual(await raw('HEAD'), { status: 200, type: 'application/octet-stream', length: String(bytes.length), body: Buffer.alloc(0) });
    assert.deepEqual((await get(port, '/2009-04-04/')).body.split('\n'), ['dynamic/', 'meta-data/', 'user-data']);
  } finally {
    await plugin.stop();
  }
});
