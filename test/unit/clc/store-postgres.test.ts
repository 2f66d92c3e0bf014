/**
 * The store on a real PostgreSQL server (issue 16): what only PostgreSQL has.
 * Two Store instances on one database stand for two CLCs: their writes
 * serialize (200 concurrent address allocations, no duplicate, the pool runs
 * out cleanly); a write's changes reach the other store's listeners as
 * `remote` and its own once as `local`; a killed notification session
 * reconnects and delivers `resync`; a stopped server fails writes with
 * DB_UNAVAILABLE and changes nothing, and the same store writes again once
 * it is back; two stores opening a fresh database migrate it once; an older
 * schema is brought forward; Tx.attempt keeps a transaction usable after a
 * unique violation; BIGINT columns come back as numbers.
 *
 * Needs root and the postgresql package (test/helpers/postgres.ts): a loud
 * skip without them, a failure under CI=true. Runs in both unit phases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { Store, isUniqueViolation } from '../../../src/cloud-controller/db/store.ts';
import { migratePostgres, postgresSchemaVersion, SCHEMA_VERSION } from '../../../src/cloud-controller/db/migrations.ts';
import { createPool } from '../../../src/cloud-controller/db/postgres.ts';
import type { Database } from '../../../src/cloud-controller/db/schema.ts';
import { PropertyService } from '../../../src/cloud-controller/properties/service.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import type { ChangeOrigin, StateChange } from '../../../src/cloud-controller/contracts.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { waitFor } from '../../../src/shared/wait.ts';
import { requirePostgres, sharedPostgres, startPostgres, testDatabaseUrl } from '../../helpers/postgres.ts';
import { configText, rejectsCode } from './fixture.ts';

const PUBLIC_POOL = 150; // 192.0.2.10 - 192.0.2.159
const ALLOCATIONS = 200;

/** What a store's listener heard, in order. */
function recorder(store: Store): { heard: [StateChange, ChangeOrigin][] } {
  const heard: [StateChange, ChangeOrigin][] = [];
  store.onChange((change, origin) => heard.push([change, origin]));
  return { heard };
}

async function dataVersion(store: Store): Promise<number> {
  return store.read(async (db) => Number((await db.selectFrom('meta').select('value').where('key', '=', 'data_version').executeTakeFirstOrThrow()).value));
}

/** Waits until `store` has been told of every write committed so far. */
async function caughtUp(store: Store, writer: Store): Promise<void> {
  const version = await dataVersion(writer);
  await waitFor(() => (store.announcedThrough() ?? -1) >= version, { what: `${store.instanceId} announced through data version ${version}`, timeoutMs: 10_000, intervalMs: 5 });
}

test('two stores on one database: 200 concurrent address allocations split over both serialize; no duplicate, the pool runs out cleanly', async (t) => {
  if (!requirePostgres(t)) return;
  const url = await testDatabaseUrl();
  const a = await Store.open(url, { listen: false });
  const b = await Store.open(url, { listen: false });
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const clock = new FakeClock();
  await new PropertyService(a, clock).set('cloud.network.network_configuration', configText((c) => ({ ...c, PublicIps: ['192.0.2.10-192.0.2.159'] })));
  const states = [new CloudState({ store: a, clock, clcIp: '10.0.0.1' }), new CloudState({ store: b, clock, clcIp: '10.0.0.1' })];
  const results = await Promise.allSettled(Array.from({ length: ALLOCATIONS }, (_, i) => states[i % 2]!.allocateAddress({})));
  const ips = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.ip] : []));
  const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
  assert.equal(ips.length, PUBLIC_POOL, 'every address of the pool was handed out');
  assert.equal(new Set(ips).size, ips.length, 'no address twice');
  assert.deepEqual([...new Set(refused.map((e) => e.code))], ['ADDRESS_POOL_EXHAUSTED'], 'every other allocation is refused as exhaustion');
  assert.equal(refused.length, ALLOCATIONS - PUBLIC_POOL);
  // Both stores' allocations succeeded (the split really was over two connections pools).
  assert.ok(results.filter((r, i) => i % 2 === 1 && r.status === 'fulfilled').length > 0);
  assert.ok(results.filter((r, i) => i % 2 === 0 && r.status === 'fulfilled').length > 0);
  // The database holds exactly what the answers said, seen from either store.
  for (const store of [a, b]) {
    const rows = await store.read((db) => db.selectFrom('public_addresses').select('ip').execute());
    assert.deepEqual(rows.map((r) => r.ip).sort(), [...ips].sort());
  }
});

test('a write\'s changes reach the other store\'s listeners as remote, and its own store\'s once, as local', async (t) => {
  if (!requirePostgres(t)) return;
  const url = await testDatabaseUrl();
  const a = await Store.open(url);
  const b = await Store.open(url);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const heardA = recorder(a).heard;
  const heardB = recorder(b).heard;
  const first: StateChange[] = [
    { kind: 'cluster', id: 'C1' },
    { kind: 'node', id: '10.0.0.7' },
  ];
  await a.write(async (tx) => {
    await tx.db.insertInto('accounts').values({ id: '111111111111', name: 'one', created_at: 1 }).execute();
    for (const c of first) tx.changed(c);
  });
  // Announced locally as soon as the write returns.
  assert.deepEqual(heardA, first.map((c) => [c, 'local']));
  await caughtUp(b, a);
  assert.deepEqual(heardB, first.map((c) => [c, 'remote']));
  // A's own notification came back to A too (same channel): A ignores it. Proven once B's next write,
  // sent after it on the same channel, has been heard by A.
  const second: StateChange = { kind: 'account', id: '222222222222' };
  await b.write(async (tx) => {
    await tx.db.insertInto('accounts').values({ id: '222222222222', name: 'two', created_at: 2 }).execute();
    tx.changed(second);
  });
  await caughtUp(a, b);
  assert.deepEqual(heardA, [...first.map((c) => [c, 'local']), [second, 'remote']]);
  assert.deepEqual(heardB, [...first.map((c) => [c, 'remote']), [second, 'local']]);
  // A rolled-back write announces nothing anywhere; a write without changes neither.
  await assert.rejects(
    a.write(async (tx) => {
      tx.changed({ kind: 'cluster', id: 'C9' });
      throw new Error('no');
    }),
    /no/,
  );
  await a.write(async () => undefined);
  await b.write(async (tx) => tx.changed({ kind: 'property', name: 'x' }));
  await caughtUp(a, b);
  assert.deepEqual(heardA.at(-1), [{ kind: 'property', name: 'x' }, 'remote']);
  assert.equal(heardA.length, 4);
  assert.equal(a.announcedThrough(), await dataVersion(a));
});

test('the notification session killed: the store reconnects, delivers resync, catches up with what it missed and hears again', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await sharedPostgres();
  const url = await testDatabaseUrl();
  const a = await Store.open(url);
  const b = await Store.open(url, { application: 'edgenet-test-b' });
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  t.after(async () => {
    await admin.end();
    await a.close();
    await b.close();
  });
  const heardB = recorder(b).heard;
  const database = new URL(url).pathname.slice(1);
  const listenSession = async () =>
    (
      await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'edgenet-test-b' AND query LIKE 'LISTEN%'`, [database])
    ).rows.map((r) => r.pid);
  const [pid, ...others] = await listenSession();
  assert.ok(pid !== undefined && others.length === 0, 'exactly one LISTEN session of store B');
  const killed = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
  assert.equal(killed.rows[0]!.ok, true);
  // Written while B may not be listening: its notification can be lost.
  await a.write(async (tx) => tx.changed({ kind: 'cluster', id: 'during' }));
  await waitFor(() => heardB.some(([c, o]) => c.kind === 'resync' && o === 'remote'), { what: 'resync delivered by store B', timeoutMs: 10_000, intervalMs: 10 });
  const again = await listenSession();
  assert.equal(again.length, 1);
  assert.notEqual(again[0], pid, 'a new LISTEN session');
  // Whatever was lost, B's watermark is the database's: its snapshot cache may trust it again.
  await caughtUp(b, a);
  heardB.length = 0;
  await a.write(async (tx) => tx.changed({ kind: 'cluster', id: 'after' }));
  await caughtUp(b, a);
  assert.deepEqual(heardB, [[{ kind: 'cluster', id: 'after' }, 'remote']]);
});

test('stores opened while another writes without pause catch up with the database (no write falls between reading the watermark and listening)', async (t) => {
  if (!requirePostgres(t)) return;
  const url = await testDatabaseUrl();
  const writer = await Store.open(url, { listen: false });
  const opened: Store[] = [];
  t.after(async () => {
    for (const s of opened) await s.close();
    await writer.close();
  });
  let writing = true;
  const burst = (async () => {
    for (let i = 0; writing; i++) await writer.write(async (tx) => tx.changed({ kind: 'cluster', id: `c${i}` }));
  })();
  try {
    for (let i = 0; i < 5; i++) opened.push(await Store.open(url));
  } finally {
    writing = false;
    await burst;
  }
  // Every store hears the writes after its LISTEN; those before it are covered by the watermark it read.
  for (const store of opened) await caughtUp(store, writer);
});

test('the server stopped: writes fail with DB_UNAVAILABLE and change nothing; started again, the same store writes', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await startPostgres();
  t.after(() => server.stop());
  const url = await server.createDatabase();
  const store = await Store.open(url);
  t.after(() => store.close());
  const heard = recorder(store).heard;
  const insert = (id: string) =>
    store.write(async (tx) => {
      await tx.db.insertInto('accounts').values({ id, name: `n${id}`, created_at: 0 }).execute();
      tx.changed({ kind: 'account', id });
    });
  await insert('100000000001');
  server.stopServer('fast');
  const err = await rejectsCode(insert('100000000002'), 'DB_UNAVAILABLE');
  assert.equal(err.status, 503);
  await rejectsCode(store.read((db) => db.selectFrom('accounts').selectAll().execute()), 'DB_UNAVAILABLE');
  assert.deepEqual(heard.map(([c]) => c), [{ kind: 'account', id: '100000000001' }], 'a failed write announces nothing');
  server.startServer();
  await insert('100000000003');
  const ids = await store.read((db) => db.selectFrom('accounts').select('id').orderBy('id').execute());
  assert.deepEqual(ids.map((r) => r.id), ['000000000001', '100000000001', '100000000003']);
  // The notification session came back too: another store's write is heard.
  await waitFor(() => heard.some(([c]) => c.kind === 'resync'), { what: 'resync after the server restarted', timeoutMs: 15_000, intervalMs: 20 });
  const other = await Store.open(url, { listen: false });
  t.after(() => other.close());
  await other.write(async (tx) => tx.changed({ kind: 'cluster', id: 'C7' }));
  await caughtUp(store, other);
  assert.deepEqual(heard.at(-1), [{ kind: 'cluster', id: 'C7' }, 'remote']);
});

test('two stores opening a fresh database at once migrate it once and take one generation', async (t) => {
  if (!requirePostgres(t)) return;
  const url = await (await sharedPostgres()).createDatabase();
  const [a, b] = await Promise.all([Store.open(url, { listen: false }), Store.open(url, { listen: false })]);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  assert.deepEqual([a.generationTaken, b.generationTaken].sort(), ['new-database', undefined].sort());
  assert.equal(a.generation(), b.generation());
  assert.ok(a.generation() > 0);
  const rows = await a.read(async (db) => (await sql<{ version: number }>`SELECT version FROM edgenet_schema`.execute(db)).rows);
  assert.deepEqual(rows, [{ version: SCHEMA_VERSION }]);
  // The migrations' seed rows are there once (a second run would have failed on their keys).
  const meta = await a.read((db) => db.selectFrom('meta').select('key').orderBy('key').execute());
  assert.equal(new Set(meta.map((r) => r.key)).size, meta.length);
  assert.ok(meta.some((r) => r.key === 'data_version'));
});

test('migratePostgres brings an older schema forward (Store.open does it too); a newer one is refused', async (t) => {
  if (!requirePostgres(t)) return;
  const url = await (await sharedPostgres()).createDatabase();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool({ url, max: 2 }) }) });
  t.after(() => db.destroy());
  assert.equal(await postgresSchemaVersion(db), 0);
  assert.deepEqual(await migratePostgres(db, 3), { from: 0, to: 3 });
  assert.equal(await postgresSchemaVersion(db), 3);
  const hasTable = async (name: string) => (await sql<{ t: string | null }>`SELECT to_regclass(${name})::text AS t`.execute(db)).rows[0]!.t !== null;
  assert.equal(await hasTable('accounts'), false, 'schema 3 has no accounts');
  await sql`INSERT INTO security_groups (id, owner_id, name, description, created_at) VALUES ('sg-00000001', '333333333333', 'web', '', 5)`.execute(db);
  const store = await Store.open(url, { listen: false });
  try {
    assert.equal(await postgresSchemaVersion(db), SCHEMA_VERSION);
    const accounts = await store.read((d) => d.selectFrom('accounts').selectAll().orderBy('id').execute());
    assert.deepEqual(accounts, [
      { id: '000000000001', name: 'admin', created_at: 0 },
      { id: '333333333333', name: 'account-333333333333', created_at: 5 },
    ]);
  } finally {
    await store.close();
  }
  assert.deepEqual(await migratePostgres(db), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
  await sql`UPDATE edgenet_schema SET version = ${SCHEMA_VERSION + 1}`.execute(db);
  const refused = await rejectsCode(Store.open(url, { listen: false }), 'DB_OPEN_FAILED');
  assert.match(refused.message, /newer than this edgenet/);
});

test('Tx.attempt: a unique violation inside it leaves the transaction usable (a retry commits); outside it, PostgreSQL aborts the transaction', async (t) => {
  if (!requirePostgres(t)) return;
  const store = await Store.open(await testDatabaseUrl(), { listen: false });
  t.after(() => store.close());
  const row = (id: string, name: string) => ({ id, name, created_at: 0 });
  const tries: string[] = [];
  const made = await store.write(async (tx) => {
    await tx.db.insertInto('accounts').values(row('100000000001', 'before')).execute();
    for (const id of ['000000000001', '100000000001', '100000000002']) {
      tries.push(id);
      try {
        await tx.attempt(() => tx.db.insertInto('accounts').values(row(id, `try-${id}`)).execute());
        return id;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw new Error('no id left');
  });
  assert.equal(made, '100000000002');
  assert.deepEqual(tries, ['000000000001', '100000000001', '100000000002']);
  const names = await store.read((db) => db.selectFrom('accounts').select(['id', 'name']).orderBy('id').execute());
  assert.deepEqual(names, [
    { id: '000000000001', name: 'admin' },
    { id: '100000000001', name: 'before' },
    { id: '100000000002', name: 'try-100000000002' },
  ]);
  // Without attempt the caught violation poisons the transaction: why the services' retry loops use it.
  await assert.rejects(
    store.write(async (tx) => {
      await tx.db.insertInto('accounts').values(row('100000000001', 'again')).execute().catch((err: unknown) => assert.ok(isUniqueViolation(err)));
      await tx.db.insertInto('accounts').values(row('100000000003', 'after')).execute();
    }),
    (err: { code?: string }) => err.code === '25P02',
  );
  assert.equal((await store.read((db) => db.selectFrom('accounts').select('id').where('id', '=', '100000000003').execute())).length, 0);
});

test('BIGINT columns, COUNT and SUM come back as JavaScript numbers', async (t) => {
  if (!requirePostgres(t)) return;
  const store = await Store.open(await testDatabaseUrl(), { listen: false });
  t.after(() => store.close());
  const now = 1_700_000_000_123;
  await store.write(async (tx) => {
    await tx.db
      .insertInto('ip_leases')
      .values([
        { ip: '255.255.255.255', ip_num: 4_294_967_295, pool: 'p', state: 'allocated', holder: null, note: null, created_at: now, released_at: null, release_mark: null, released_seq: null, hold_nodes: null },
        { ip: '0.0.0.1', ip_num: 1, pool: 'p', state: 'held', holder: null, note: null, created_at: now, released_at: now + 1, release_mark: 7, released_seq: 9, hold_nodes: null },
      ])
      .execute();
  });
  const rows = await store.read((db) => db.selectFrom('ip_leases').select(['ip_num', 'created_at', 'released_at', 'release_mark']).orderBy('ip_num').execute());
  assert.deepEqual(rows, [
    { ip_num: 1, created_at: now, released_at: now + 1, release_mark: 7 },
    { ip_num: 4_294_967_295, created_at: now, released_at: null, release_mark: null },
  ]);
  const agg = await store.read(async (db) => (await sql<{ n: unknown; total: unknown; biggest: unknown }>`SELECT COUNT(*) AS n, SUM(ip_num) AS total, MAX(created_at) AS biggest FROM ip_leases`.execute(db)).rows[0]!);
  assert.deepEqual(agg, { n: 2, total: 4_294_967_296, biggest: now });
  const meta = await store.read((db) => db.selectFrom('meta').select('value').where('key', '=', 'data_version').executeTakeFirstOrThrow());
  assert.equal(typeof meta.value, 'number');
  assert.equal(typeof store.generation(), 'number');
});
