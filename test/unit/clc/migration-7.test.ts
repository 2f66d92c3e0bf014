/**
 * Migration 7 (issue 17) from a real schema-6 database — a SQLite file, or
 * under EDGENET_TEST_DB=postgres a PostgreSQL database migrated to 6 —
 * holding instances with group memberships, an associated public address and
 * one instance without either: every row survives (SQLite rebuilds the
 * `instances` table; with foreign keys on, its DROP TABLE would have deleted
 * the memberships through ON DELETE CASCADE), `private_ip` takes NULL (more
 * than once) but keeps UNIQUE and its reference to ip_leases, `user_data`
 * exists, and the references to `instances` still hold and still cascade.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { migrate, migratePostgres, postgresSchemaVersion, SCHEMA_VERSION } from '../../../src/cloud-controller/db/migrations.ts';
import { storeKindOf } from '../../../src/cloud-controller/db/location.ts';
import { createPool } from '../../../src/cloud-controller/db/postgres.ts';
import type { Database } from '../../../src/cloud-controller/db/schema.ts';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { sharedPostgres, testStoreKind } from '../../helpers/postgres.ts';

const MIGRATION = 7;

/** A Kysely on `location` (SQLite: foreign keys on, as the Store opens it). */
function open(location: string): { db: Kysely<Database>; sqlite?: BetterSqlite3.Database } {
  if (storeKindOf(location) === 'postgres') return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool({ url: location }) }) }) };
  const sqlite = new BetterSqlite3(location);
  sqlite.pragma('foreign_keys = ON');
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), sqlite };
}

const MEMBERSHIPS = [
  { instance_id: 'i-00000001', group_id: 'sg-00000001', position: 0 },
  { instance_id: 'i-00000001', group_id: 'sg-00000002', position: 1 },
  { instance_id: 'i-00000002', group_id: 'sg-00000002', position: 0 },
  { instance_id: 'i-00000003', group_id: 'sg-00000001', position: 0 },
];
const INSTANCES = [
  { id: 'i-00000001', owner_id: '000000000001', cluster: 'C1', node: '10.0.0.7', mac: 'd0:0d:00:00:00:01', private_ip: '10.1.0.10', created_at: 4000 },
  { id: 'i-00000002', owner_id: '000000000001', cluster: 'C1', node: '10.0.0.7', mac: 'd0:0d:00:00:00:02', private_ip: '10.1.0.11', created_at: 4500 },
  { id: 'i-00000003', owner_id: '000000000001', cluster: 'C1', node: '10.0.0.7', mac: 'd0:0d:00:00:00:03', private_ip: '10.1.0.12', created_at: 4600 },
];
const ADDRESSES = [
  { ip: '192.0.2.10', owner_id: '000000000001', instance_id: 'i-00000002', last_node: null, allocated_at: 5000, disassociated_mark: null },
  { ip: '192.0.2.11', owner_id: '000000000001', instance_id: null, last_node: '10.0.0.7', allocated_at: 5100, disassociated_mark: 3 },
];

/** A schema-6 database with the rows above. */
async function schema6Database(location: string): Promise<void> {
  const { db, sqlite } = open(location);
  try {
    if (sqlite === undefined) assert.deepEqual(await migratePostgres(db, MIGRATION - 1), { from: 0, to: MIGRATION - 1 });
    else {
      migrate(sqlite, MIGRATION - 1);
      assert.equal(sqlite.pragma('user_version', { simple: true }), MIGRATION - 1);
    }
    await sql`INSERT INTO clusters (name, cc_url, cc_ip, created_at) VALUES ('C1', 'https://10.0.0.6:8774/', '10.0.0.6', 1000)`.execute(db);
    await sql`INSERT INTO nodes (name, cluster, nc_url, created_at) VALUES ('10.0.0.7', 'C1', 'https://10.0.0.7:8775/', 1000)`.execute(db);
    for (const [id, name] of [['sg-00000001', 'web'], ['sg-00000002', 'db']] as const) {
      await sql`INSERT INTO security_groups (id, owner_id, name, description, created_at) VALUES (${id}, '000000000001', ${name}, '', 2000)`.execute(db);
    }
    const lease = (ip: string, num: number, pool: string) =>
      sql`INSERT INTO ip_leases (ip, ip_num, pool, state, holder, created_at) VALUES (${ip}, ${num}, ${pool}, 'allocated', NULL, 3000)`.execute(db);
    for (const [k, i] of INSTANCES.entries()) await lease(i.private_ip, 10 + k, 'cluster:C1');
    for (const [k, a] of ADDRESSES.entries()) await lease(a.ip, 100 + k, 'public');
    // Written through the schema-6 column list (no user_data yet).
    for (const i of INSTANCES) {
      await sql`INSERT INTO instances (id, owner_id, cluster, node, mac, private_ip, created_at) VALUES (${i.id}, ${i.owner_id}, ${i.cluster}, ${i.node}, ${i.mac}, ${i.private_ip}, ${i.created_at})`.execute(db);
    }
    for (const m of MEMBERSHIPS) await sql`INSERT INTO instance_groups (instance_id, group_id, position) VALUES (${m.instance_id}, ${m.group_id}, ${m.position})`.execute(db);
    for (const a of ADDRESSES) {
      await sql`INSERT INTO public_addresses (ip, owner_id, instance_id, last_node, allocated_at, disassociated_mark)
        VALUES (${a.ip}, ${a.owner_id}, ${a.instance_id}, ${a.last_node}, ${a.allocated_at}, ${a.disassociated_mark})`.execute(db);
    }
  } finally {
    await db.destroy();
  }
}

async function rejects(what: string, p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => pattern.test(err.message), what);
}

test('migration 7: a schema-6 database keeps every instance, membership and address; private_ip is nullable but still UNIQUE and a lease; user_data exists', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-migration7-'));
  try {
    const location = testStoreKind() === 'postgres' ? await (await sharedPostgres()).createDatabase() : path.join(dir, 'clc.db');
    await schema6Database(location);
    const store = await Store.open(location, { listen: false });
    await store.close();

    const { db, sqlite } = open(location);
    try {
      if (sqlite === undefined) assert.equal(await postgresSchemaVersion(db), SCHEMA_VERSION);
      else {
        assert.equal(sqlite.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.deepEqual(sqlite.pragma('foreign_key_check'), []);
        assert.equal(sqlite.pragma('integrity_check', { simple: true }), 'ok');
        assert.equal(sqlite.prepare(`SELECT name FROM sqlite_master WHERE name = 'instances_v7'`).get(), undefined, 'no rebuild table left behind');
      }
      // Every row as it was; user_data NULL.
      const instances = await db.selectFrom('instances').selectAll().orderBy('id').execute();
      assert.deepEqual(instances.map((r) => ({ ...r, created_at: Number(r.created_at) })), INSTANCES.map((i) => ({ ...i, user_data: null })));
      const members = await db.selectFrom('instance_groups').selectAll().orderBy('instance_id').orderBy('position').execute();
      assert.deepEqual(members.map((m) => ({ ...m, position: Number(m.position) })), MEMBERSHIPS, 'no membership was cascade-deleted');
      const addresses = await db.selectFrom('public_addresses').selectAll().orderBy('ip').execute();
      assert.deepEqual(
        addresses.map((a) => ({ ...a, allocated_at: Number(a.allocated_at), disassociated_mark: a.disassociated_mark === null ? null : Number(a.disassociated_mark) })),
        ADDRESSES,
      );

      // NULL private IPs, more than one (IPv6-only instances), with user data.
      const row = (id: string, mac: string, private_ip: string | null) => ({ id, owner_id: '000000000001', cluster: 'C1', node: '10.0.0.7', mac, private_ip, created_at: 6000, user_data: 'I2Nsb3VkLWNvbmZpZwo=' });
      await db.insertInto('instances').values(row('i-00000004', 'd0:0d:00:00:00:04', null)).execute();
      await db.insertInto('instances').values(row('i-00000005', 'd0:0d:00:00:00:05', null)).execute();
      const nulls = await db.selectFrom('instances').select(['id', 'user_data']).where('private_ip', 'is', null).orderBy('id').execute();
      assert.deepEqual(nulls, [
        { id: 'i-00000004', user_data: 'I2Nsb3VkLWNvbmZpZwo=' },
        { id: 'i-00000005', user_data: 'I2Nsb3VkLWNvbmZpZwo=' },
      ]);
      // The constraints of the old definition still hold.
      await rejects('a taken private IP', db.insertInto('instances').values(row('i-00000006', 'd0:0d:00:00:00:06', '10.1.0.10')).execute(), /unique|duplicate/i);
      await rejects('a taken MAC', db.insertInto('instances').values(row('i-00000006', 'd0:0d:00:00:00:01', null)).execute(), /unique|duplicate/i);
      await rejects('an address without a lease', db.insertInto('instances').values(row('i-00000006', 'd0:0d:00:00:00:06', '10.1.0.99')).execute(), /foreign key/i);
      await rejects('an unregistered node', db.insertInto('instances').values({ ...row('i-00000006', 'd0:0d:00:00:00:06', null), node: '10.0.0.99' }).execute(), /foreign key/i);
      // The references to instances find the new table: a membership needs its instance, and an instance's deletion cascades to its memberships.
      await rejects('a membership of no instance', db.insertInto('instance_groups').values({ instance_id: 'i-0000dead', group_id: 'sg-00000001', position: 0 }).execute(), /foreign key/i);
      await rejects('deleting an instance an address names', db.deleteFrom('instances').where('id', '=', 'i-00000002').execute(), /foreign key/i);
      await db.deleteFrom('instances').where('id', '=', 'i-00000001').execute();
      assert.deepEqual((await db.selectFrom('instance_groups').select('instance_id').orderBy('instance_id').execute()).map((m) => m.instance_id), ['i-00000002', 'i-00000003']);
    } finally {
      await db.destroy();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migration 7 on SQLite: foreign keys are back as they were, and a dangling reference rolls the rebuild back', () => {
  for (const before of ['ON', 'OFF']) {
    const sqlite = new BetterSqlite3(':memory:');
    sqlite.pragma(`foreign_keys = ${before}`);
    migrate(sqlite);
    assert.equal(sqlite.pragma('foreign_keys', { simple: true }), before === 'ON' ? 1 : 0, `foreign_keys ${before} restored`);
    sqlite.close();
  }
  // A database that already holds a dangling reference (written with foreign keys off) is not migrated: the check refuses to commit.
  const sqlite = new BetterSqlite3(':memory:');
  migrate(sqlite, MIGRATION - 1);
  sqlite.pragma('foreign_keys = OFF');
  sqlite.exec(`INSERT INTO instance_groups (instance_id, group_id, position) VALUES ('i-0000dead', 'sg-0000dead', 0)`);
  sqlite.pragma('foreign_keys = ON');
  assert.throws(() => migrate(sqlite), (err: Error & { code?: string }) => err.code === 'INTERNAL' && /dangling/.test(err.message));
  assert.equal(sqlite.pragma('user_version', { simple: true }), MIGRATION - 1, 'rolled back');
  assert.equal(sqlite.pragma('foreign_keys', { simple: true }), 1);
  assert.match(String((sqlite.prepare(`SELECT sql FROM sqlite_master WHERE name = 'instances'`).get() as { sql: string }).sql), /private_ip TEXT NOT NULL/, 'the old table is intact');
  sqlite.close();
});
