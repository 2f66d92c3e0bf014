/**
 * The incremental change → document path: the snapshot cache (re-reads only
 * what committed changes touched) and the memoizing GNI builder.
 *
 * Invariants checked after every step of random API sequences through the
 * real services: the cached snapshot deep-equals `readSnapshot()`; the
 * incremental build's text is byte-identical to a from-scratch build of the
 * fresh snapshot (and to the plain serializer), with the same version. Also:
 * reads interleaved with writes (same transaction comparison), writes by
 * another SQLite connection (another, unheard store on PostgreSQL), another
 * CLC's writes heard through notifications (PostgreSQL), object identity of
 * unchanged parts. Run on both stores (scripts/test.sh unit-postgres).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixture, populated, configText, seeded, type Fixture } from './fixture.ts';
import { readSnapshot } from '../../../src/cloud-controller/snapshot/read-snapshot.ts';
import { SnapshotCache, snapshotReadInfo } from '../../../src/cloud-controller/snapshot/snapshot-cache.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { GniEncoder } from '../../../src/cloud-controller/gni/encoder.ts';
import { serializeGni, serializeGniBody } from '../../../src/shared/gni/codec.ts';
import { serializeWithBody } from '../../../src/shared/gni/serialize.ts';
import { gniVersion } from '../../../src/shared/gni/version.ts';
import { gniBuilder } from '../../../src/cloud-controller/broadcast/plugin.ts';
import { encodeBuilt } from '../../../src/cloud-controller/broadcast/broadcaster.ts';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { PropertyService } from '../../../src/cloud-controller/properties/service.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { waitFor } from '../../../src/shared/wait.ts';
import { testDatabaseUrl, testStoreKind } from '../../helpers/postgres.ts';
import type { CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';
import type { KyselyPlugin } from 'kysely';

const CLC_IP = '10.0.0.1';

/** Encoders whose caches carry over from step to step, as the broadcaster's do. */
const encoder = new GniEncoder();
const gniBuild = gniBuilder();

async function fresh(f: Fixture): Promise<CloudSnapshot> {
  return f.store.read((db) => readSnapshot(db, CLC_IP));
}

/** Cached snapshot = fresh snapshot; incremental build = from-scratch build, byte for byte. */
async function check(f: Fixture, step: string): Promise<CloudSnapshot> {
  const cached = await f.state.snapshot();
  const truth = await fresh(f);
  assert.deepStrictEqual(cached, truth, `snapshot differs after ${step}`);

  const incremental = encoder.build(cached);
  // New objects everywhere: no memo entry of the incremental builder can apply.
  const scratch = buildGni(structuredClone(truth), { sequence: 7 });
  const text = incremental.encode(7).toString('utf8');
  assert.equal(text, serializeGni(scratch), `document text differs after ${step}`);
  assert.equal(incremental.doc.version, scratch.version, `version differs after ${step}`);
  // The plain serializer over a copy of the model (no cached body) agrees too.
  const model = structuredClone({ configuration: scratch.configuration, instances: scratch.instances, securityGroups: scratch.securityGroups });
  assert.equal(text, serializeWithBody({ version: scratch.version, sequence: 7 }, serializeGniBody(model)));
  assert.equal(gniVersion(model), scratch.version);
  assert.deepStrictEqual(buildGni(cached, { sequence: 7 }), scratch);
  // What the broadcaster sends.
  const wire = encodeBuilt(gniBuild(cached), 7, 0);
  assert.equal(Buffer.from(wire.base64, 'base64').toString('utf8'), text);
  assert.equal(wire.bytes, Buffer.byteLength(text));
  return cached;
}

/** One random API operation through the real services; refusals (pool empty, group in use, …) are part of the game. */
function randomOps(f: Fixture, rnd: () => number) {
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(rnd() * list.length)];
  const nodes: [string, string][] = [
    ['C1', '10.0.0.7'],
    ['C2', '10.0.0.17'],
  ];
  const rules: { group: string; body: Record<string, unknown> }[] = [];
  let counter = 0;
  const ops: Record<string, () => Promise<unknown>> = {
    async run() {
      const groups = (await f.state.listGroups()).filter((g) => g.ownerId === '000000000001').map((g) => g.id);
      const [cluster, node] = pick(nodes)!;
      const chosen = [...new Set([pick(groups)!, pick(groups)!])];
      return f.state.runInstance({ cluster, node, groups: chosen });
    },
    async terminate() {
      const id = pick((await f.state.listInstances()).map((i) => i.id));
      if (id !== undefined) await f.state.terminateInstance(id);
    },
    async authorize() {
      const groups = (await f.state.listGroups()).map((g) => g.id);
      const group = pick(groups)!;
      const body =
        rnd() < 0.3 ? { protocol: 'tcp', port: String(1000 + Math.floor(rnd() * 5)), sourceGroup: pick(groups)! } : { protocol: pick(['tcp', 'udp'])!, port: String(20 + Math.floor(rnd() * 5)), cidr: `10.9.${Math.floor(rnd() * 3)}.0/24` };
      const r = await f.state.authorize(group, undefined, body);
      if (r.changed) rules.push({ group, body });
    },
    async revoke() {
      const i = Math.floor(rnd() * rules.length);
      const rule = rules[i];
      if (rule === undefined) return;
      rules.splice(i, 1);
      await f.state.revoke(rule.group, undefined, rule.body);
    },
    async createGroup() {
      await f.state.createGroup({ name: `g${++counter}` });
    },
    async deleteGroup() {
      const id = pick((await f.state.listGroups()).map((g) => g.id));
      if (id !== undefined) await f.state.deleteGroup(id);
    },
    async allocate() {
      await f.state.allocateAddress({});
    },
    async associate() {
      const ip = pick((await f.state.listAddresses()).filter((a) => a.instanceId === undefined).map((a) => a.ip));
      const instance = pick((await f.state.listInstances()).filter((i) => i.publicIp === undefined).map((i) => i.id));
      if (ip !== undefined && instance !== undefined) await f.state.associateAddress({ ip, instance });
    },
    async disassociate() {
      const ip = pick((await f.state.listAddresses()).filter((a) => a.instanceId !== undefined).map((a) => a.ip));
      if (ip !== undefined) await f.state.disassociateAddress({ ip });
    },
    async release() {
      const ip = pick((await f.state.listAddresses()).map((a) => a.ip));
      if (ip !== undefined) await f.state.releaseAddress({ ip });
    },
    async property() {
      const dns = `10.0.0.${2 + Math.floor(rnd() * 3)}`;
      await f.properties.set('cloud.network.network_configuration', configText((c) => ({ ...c, InstanceDnsServers: [dns] })));
    },
    async nodeAdd() {
      const name = `10.0.1.${++counter}`;
      await f.state.registerNode({ cluster: 'C1', name, ncUrl: `https://${name}:8775/` });
      nodes.push(['C1', name]);
    },
  };
  return ops;
}

async function attempt(op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (err) {
    if (!(err as { code?: string }).code) throw err;
  }
}

test('after every step of random API sequences: cached snapshot = readSnapshot, incremental build = from-scratch build', async () => {
  for (const seed of [1, 2, 3]) {
    const f = await populated({ seed });
    const rnd = seeded(seed * 7919);
    const ops = randomOps(f, rnd);
    const names = Object.keys(ops);
    const weights: Record<string, number> = { run: 4, terminate: 2, authorize: 4, revoke: 2, createGroup: 1, deleteGroup: 1, allocate: 1, associate: 2, disassociate: 1, release: 1, property: 1, nodeAdd: 1 };
    const bag = names.flatMap((n) => Array<string>(weights[n] ?? 1).fill(n));
    await check(f, 'start');
    const seen = new Set<string>();
    let incremental = 0;
    for (let step = 0; step < 70; step++) {
      const name = bag[Math.floor(rnd() * bag.length)]!;
      await attempt(ops[name]!);
      seen.add(name);
      // Now and then two operations land before the next snapshot (coalesced changes).
      if (rnd() < 0.2) await attempt(ops[bag[Math.floor(rnd() * bag.length)]!]!);
      const snap = await check(f, `seed ${seed} step ${step} (${name})`);
      if (snapshotReadInfo(snap)?.kind === 'incremental') incremental++;
    }
    assert.ok(seen.size >= 10, `the sequence exercised ${[...seen].join(', ')}`);
    // The cache really worked incrementally ("full" only when instances and groups were both re-read whole).
    assert.ok(incremental > 40, `${incremental} of 70 snapshots were incremental`);
    await f.close();
  }
});

test('reads interleaved with writes: the cached snapshot equals readSnapshot of the same transaction', async () => {
  const f = await populated({ seed: 5 });
  const cache = new SnapshotCache(CLC_IP, undefined, () => f.store.announcedThrough());
  f.store.onChange((c) => cache.changed(c));
  const rnd = seeded(11);
  const ops = randomOps(f, rnd);
  const names = ['run', 'run', 'terminate', 'authorize', 'revoke', 'associate', 'allocate', 'disassociate', 'createGroup', 'deleteGroup'];
  const pairs: Promise<[CloudSnapshot, CloudSnapshot]>[] = [];
  const writes: Promise<void>[] = [];
  for (let round = 0; round < 40; round++) {
    // Start writes and reads without waiting, so reads queue behind writes on the connection.
    writes.push(attempt(ops[names[Math.floor(rnd() * names.length)]!]!));
    pairs.push(f.store.read(async (db) => [await cache.read(db), await readSnapshot(db, CLC_IP)]));
    if (rnd() < 0.5) writes.push(attempt(ops[names[Math.floor(rnd() * names.length)]!]!));
    if (rnd() < 0.3) await Promise.resolve();
  }
  await Promise.all(writes);
  const results = await Promise.all(pairs);
  for (const [i, [cached, truth]] of results.entries()) assert.deepStrictEqual(cached, truth, `read ${i}`);
  const [last, truth] = await f.store.read(async (db) => [await cache.read(db), await readSnapshot(db, CLC_IP)] as const);
  assert.deepStrictEqual(last, truth);
  assert.ok(results.some(([s]) => snapshotReadInfo(s)?.kind === 'incremental'), 'some reads were incremental');
  await f.close();
});

test('unchanged parts keep their identity; one authorize re-reads one group', async () => {
  const f = await populated();
  const db = await f.state.createGroup({ name: 'db' });
  await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['db'] });
  const s1 = await f.state.snapshot();
  assert.equal(snapshotReadInfo(s1)?.kind, 'full');

  await f.state.authorize('db', undefined, { protocol: 'tcp', port: '5432', sourceGroup: 'web' });
  const s2 = await f.state.snapshot();
  assert.deepEqual(snapshotReadInfo(s2), { kind: 'incremental', reason: 'rules of 1 group(s)', instances: 0, groups: 1 });
  assert.equal(s2.instances, s1.instances);
  assert.equal(s2.clusters, s1.clusters);
  assert.equal(s2.config, s1.config);
  const web = (s: CloudSnapshot) => s.groups.find((g) => g.id === f.webId);
  const dbg = (s: CloudSnapshot) => s.groups.find((g) => g.id === db.id);
  assert.equal(web(s2), web(s1));
  assert.notEqual(dbg(s2), dbg(s1));
  assert.equal(dbg(s2)!.rules.length, 1);

  const run = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const s3 = await f.state.snapshot();
  assert.equal(snapshotReadInfo(s3)?.kind, 'incremental');
  assert.equal(s3.groups, s2.groups);
  assert.equal(s3.instances.length, 3);
  for (const i of s2.instances) assert.ok(s3.instances.includes(i), 'untouched instances are the same objects');
  assert.ok(s3.instances.some((i) => i.id === run.id));

  // Nothing changed: everything is reused; a full read (periodic) reuses equal objects too.
  const s4 = await f.state.snapshot();
  assert.equal(s4.instances, s3.instances);
  assert.equal(s4.groups, s3.groups);
  const s5 = await f.state.snapshot({ full: true });
  assert.deepEqual(snapshotReadInfo(s5), { kind: 'full', reason: 'requested', instances: 'all', groups: 'all' });
  assert.equal(s5.instances, s3.instances);
  assert.equal(s5.groups, s3.groups);
  await f.close();
});

test('a write by another connection (offline CLI; on PostgreSQL another store, not heard) invalidates the cache', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-snapcache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = testStoreKind() === 'postgres' ? await testDatabaseUrl() : path.join(dir, 'clc.db');
  // PostgreSQL: this store does not listen, so the other store's commits are never announced here.
  const f = await fixture({ file });
  await f.properties.set('cloud.network.network_configuration', configText());
  await f.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
  await f.state.registerNode({ cluster: 'C1', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' });
  const web = await f.state.createGroup({ name: 'web' });
  await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.state.snapshot();

  // Another process: its own connection, its changes are never announced here.
  const other = await Store.open(file, { listen: false });
  const clock = new FakeClock();
  const otherState = new CloudState({ store: other, clock, clcIp: CLC_IP });
  await otherState.authorize(web.id, undefined, { protocol: 'tcp', port: '80' });
  await new PropertyService(other, clock).set('cloud.network.network_configuration', configText((c) => ({ ...c, InstanceDnsServers: ['10.0.0.3'] })));
  await other.close();

  const snap = await f.state.snapshot();
  assert.deepEqual(snapshotReadInfo(snap)?.reason, 'written by another connection');
  assert.deepStrictEqual(snap, await fresh(f));
  assert.equal(snap.groups.find((g) => g.id === web.id)!.rules.length, 1);
  assert.deepEqual(snap.config?.InstanceDnsServers, ['10.0.0.3']);
  if (testStoreKind() === 'sqlite') {
    // Our own writes do not count as another connection's.
    await f.state.authorize(web.id, undefined, { protocol: 'tcp', port: '81' });
    assert.equal(snapshotReadInfo(await f.state.snapshot())?.kind, 'incremental');
  } else {
    // Never told of the other store's write, this store cannot vouch for any later version: every read stays full, and right.
    await f.state.authorize(web.id, undefined, { protocol: 'tcp', port: '81' });
    const after = await f.state.snapshot();
    assert.equal(snapshotReadInfo(after)?.reason, 'written by another connection');
    assert.deepStrictEqual(after, await fresh(f));
  }
  await f.close();
});

// Change notifications between stores exist on PostgreSQL only: this test is defined in the unit-postgres pass (EDGENET_TEST_DB=postgres).
if (testStoreKind() === 'postgres') test('PostgreSQL: another CLC\'s writes are read incrementally once their notification arrived, fully before', async (t) => {
  const url = await testDatabaseUrl();
  const f = await populated({ file: url, listen: true });
  const other = await Store.open(url, { listen: false });
  t.after(() => other.close());
  const clock = new FakeClock();
  const otherState = new CloudState({ store: other, clock, clcIp: CLC_IP });
  await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.state.snapshot();
  const caughtUp = async () => {
    const version = await f.store.read(async (db) => Number((await db.selectFrom('meta').select('value').where('key', '=', 'data_version').executeTakeFirstOrThrow()).value));
    await waitFor(() => f.store.announcedThrough()! >= version, { what: `notifications through data version ${version}`, timeoutMs: 10_000, intervalMs: 5 });
  };
  for (const port of ['80', '81', '82']) {
    await otherState.authorize(f.webId, undefined, { protocol: 'tcp', port });
    // Whether or not the notification has arrived yet, the snapshot is the database's.
    const early = await f.state.snapshot();
    assert.deepStrictEqual(early, await fresh(f));
    assert.ok(early.groups.find((g) => g.id === f.webId)!.rules.some((r) => r.fromPort === Number(port)));
  }
  // Heard: the next writes are patched in, not re-read whole.
  await caughtUp();
  await f.state.snapshot();
  await otherState.authorize(f.webId, undefined, { protocol: 'udp', port: '53' });
  await caughtUp();
  const patched = await f.state.snapshot();
  assert.deepEqual(snapshotReadInfo(patched), { kind: 'incremental', reason: 'rules of 1 group(s)', instances: 0, groups: 1 });
  assert.deepStrictEqual(patched, await fresh(f));
  await otherState.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['web'] });
  await caughtUp();
  const ran = await f.state.snapshot();
  assert.equal(snapshotReadInfo(ran)?.kind, 'incremental');
  assert.equal(ran.instances.length, 2);
  assert.deepStrictEqual(ran, await fresh(f));
  // And this store's own writes stay incremental.
  await f.state.authorize(f.webId, undefined, { protocol: 'tcp', port: '443' });
  assert.equal(snapshotReadInfo(await f.state.snapshot())?.kind, 'incremental');
  await f.close();
});

test('the stale set is bounded: past 256 changed ids (a follower hears every change and reads only when it leads) the next read is full and correct', async () => {
  const f = await populated();
  const s1 = await f.state.snapshot();
  assert.equal(snapshotReadInfo(s1)?.kind, 'full');
  // Changes heard, never read: 300 instance ids and 300 rule changes, as a follower accumulates them.
  for (let n = 0; n < 300; n++) f.store['deliver']([{ kind: 'instance', id: `i-${n.toString(16).padStart(8, '0')}` }, { kind: 'rule', id: f.webId }], 'remote');
  const cache = f.state['snapshots'] as unknown as { dirty: { all?: string; instances: Set<string>; addresses: Set<string>; ruleGroups: Set<string> } };
  assert.ok(cache.dirty.instances.size <= 256, `stale instance ids bounded (${cache.dirty.instances.size})`);
  assert.match(cache.dirty.all ?? '', /changes/);
  const s2 = await f.state.snapshot();
  assert.equal(snapshotReadInfo(s2)?.kind, 'full');
  assert.deepEqual(s2, await f.store.read((db) => readSnapshot(db, CLC_IP)));
  await f.close();
});

test('a failed read forgets the cache: the next read is full and correct', async () => {
  const f = await populated();
  await f.state.snapshot();
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '22' });
  const cache = new SnapshotCache(CLC_IP, undefined, () => f.store.announcedThrough());
  f.store.onChange((c) => cache.changed(c));
  await f.store.read((db) => cache.read(db));
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '23' });
  // The third query of the read fails (after the cache has started using what it read).
  let queries = 0;
  const failing: KyselyPlugin = {
    transformQuery(args) {
      if (++queries === 3) throw new Error('boom');
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
  await assert.rejects(
    f.store.read((db) => cache.read(db.withPlugin(failing))),
    /boom/,
  );
  assert.equal(queries, 3);
  const snap = await f.store.read((db) => cache.read(db));
  assert.equal(snapshotReadInfo(snap)?.kind, 'full');
  assert.deepStrictEqual(snap, await fresh(f));
  await f.close();
});

test('a change announced just after the read transaction began is still seen (the read yields before taking the dirty set)', async () => {
  const f = await populated();
  await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  // Not subscribed: this test delivers the announcements itself, late.
  const cache = new SnapshotCache(CLC_IP, undefined, () => f.store.announcedThrough());
  await f.store.read((db) => cache.read(db));
  const held: Parameters<SnapshotCache['changed']>[0][] = [];
  const unsubscribe = f.store.onChange((c) => held.push(c));
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '443' });
  await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['web'] });
  unsubscribe();
  assert.ok(held.length >= 2);
  // Committed before the transaction began, announced a few microtasks into it (as Store.write can).
  const [snap, truth] = await f.store.read(async (db) => {
    void Promise.resolve()
      .then(() => undefined)
      .then(() => {
        for (const c of held) cache.changed(c);
      });
    return [await cache.read(db), await readSnapshot(db, CLC_IP)] as const;
  });
  assert.equal(snapshotReadInfo(snap)?.kind, 'incremental');
  assert.deepStrictEqual(snap, truth);
  await f.close();
});

test('a write around Store.write is missed by incremental reads and repaired, flagged as drift, by the next full read', async () => {
  const f = await populated();
  await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.state.snapshot();
  // Same connection (data_version unchanged), no change event: the one thing the cache cannot see.
  await f.store.db.updateTable('instances').set({ owner_id: '000000000042' }).execute();
  const stale = await f.state.snapshot();
  assert.equal(stale.instances[0]!.ownerId, '000000000001', 'documented limit: writes must go through Store.write');
  const repaired = await f.state.snapshot({ full: true });
  assert.equal(snapshotReadInfo(repaired)?.drift, true);
  assert.deepStrictEqual(repaired, await fresh(f));
  // An announced change is not drift.
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '22' });
  const announced = await f.state.snapshot({ full: true });
  assert.equal(snapshotReadInfo(announced)?.drift, undefined);
  await f.close();
});
