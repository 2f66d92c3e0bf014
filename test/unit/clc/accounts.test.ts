/**
 * Accounts and access keys (issue 15): migration 5 from a real schema-4
 * database (SQLite, or PostgreSQL under EDGENET_TEST_DB=postgres), account create/list/show/delete and their refusals, access key
 * limits and deletion, the secret cache, and the admin API routes.
 * Sealing, the credentials key file and the CLI: credentials.test.ts and
 * accounts-cli.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { migrate, migratePostgres, postgresSchemaVersion } from '../../../src/cloud-controller/db/migrations.ts';
import { storeKindOf } from '../../../src/cloud-controller/db/location.ts';
import { createPool } from '../../../src/cloud-controller/db/postgres.ts';
import type { Database } from '../../../src/cloud-controller/db/schema.ts';
import { sharedPostgres, testStoreKind } from '../../helpers/postgres.ts';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { randomAccountId, resolveOwner } from '../../../src/cloud-controller/services/accounts.ts';
import { startCloudController } from '../../../src/cloud-controller/main.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { configText, fixture, rejectsCode, testStoreLocation } from './fixture.ts';

function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-accounts-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A schema-4 database (the migrations before issue 15) holding state of the admin and two other owners:
 * a SQLite file, or (EDGENET_TEST_DB=postgres) a PostgreSQL database migrated to 4 by migratePostgres.
 */
async function schema4Database(location: string): Promise<void> {
  let db: Kysely<Database>;
  if (storeKindOf(location) === 'postgres') {
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool({ url: location }) }) });
    assert.deepEqual(await migratePostgres(db, 4), { from: 0, to: 4 });
    assert.equal(await postgresSchemaVersion(db), 4);
    const { rows } = await sql<{ t: string | null }>`SELECT to_regclass('accounts')::text AS t`.execute(db);
    assert.equal(rows[0]!.t, null, 'schema 4 has no accounts table');
  } else {
    const sqlite = new BetterSqlite3(location);
    migrate(sqlite, 4);
    assert.equal(sqlite.pragma('user_version', { simple: true }), 4);
    assert.equal(sqlite.prepare(`SELECT name FROM sqlite_master WHERE name = 'accounts'`).get(), undefined, 'schema 4 has no accounts table');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  try {
    await sql`INSERT INTO clusters (name, cc_url, cc_ip, created_at) VALUES ('C1', 'https://10.0.0.6:8774/', '10.0.0.6', 1000)`.execute(db);
    await sql`INSERT INTO nodes (name, cluster, nc_url, created_at) VALUES ('10.0.0.7', 'C1', 'https://10.0.0.7:8775/', 1000)`.execute(db);
    const group = (id: string, owner: string, name: string, at: number) =>
      sql`INSERT INTO security_groups (id, owner_id, name, description, created_at) VALUES (${id}, ${owner}, ${name}, '', ${at})`.execute(db);
    await group('sg-00000001', '000000000001', 'web', 2000);
    await group('sg-00000002', '111111111111', 'web', 5000);
    await group('sg-00000003', '222222222222', 'db', 9000);
    const lease = (ip: string, num: number, pool: string, holder: string) =>
      sql`INSERT INTO ip_leases (ip, ip_num, pool, state, holder, created_at) VALUES (${ip}, ${num}, ${pool}, 'allocated', ${holder}, 3000)`.execute(db);
    await lease('10.1.0.10', 10, 'cluster:C1', 'i-00000001');
    await lease('10.1.0.11', 11, 'cluster:C1', 'i-00000002');
    await lease('192.0.2.10', 100, 'public', '222222222222');
    // 111111111111's instance is older than its group: its account is dated by the instance.
    await sql`INSERT INTO instances (id, owner_id, cluster, node, mac, private_ip, created_at) VALUES ('i-00000001', '111111111111', 'C1', '10.0.0.7', 'd0:0d:00:00:00:01', '10.1.0.10', 4000)`.execute(db);
    await sql`INSERT INTO instances (id, owner_id, cluster, node, mac, private_ip, created_at) VALUES ('i-00000002', '000000000001', 'C1', '10.0.0.7', 'd0:0d:00:00:00:02', '10.1.0.11', 4500)`.execute(db);
    await sql`INSERT INTO instance_groups (instance_id, group_id, position) VALUES ('i-00000001', 'sg-00000002', 0), ('i-00000002', 'sg-00000001', 0)`.execute(db);
    // 222222222222's address is older than its group.
    await sql`INSERT INTO public_addresses (ip, owner_id, instance_id, last_node, allocated_at) VALUES ('192.0.2.10', '222222222222', NULL, NULL, 7000)`.execute(db);
  } finally {
    await db.destroy();
  }
}

test('migration 5: every owner of a schema-4 database becomes an account account-<id>, dated by its oldest resource; 000000000001 is admin', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const location = testStoreKind() === 'postgres' ? await (await sharedPostgres()).createDatabase() : path.join(dir, 'clc.db');
    await schema4Database(location);
    const store = await Store.open(location, { listen: false });
    try {
      const rows = await store.read((db) => db.selectFrom('accounts').selectAll().orderBy('id').execute());
      assert.deepEqual(rows, [
        { id: '000000000001', name: 'admin', created_at: 0 },
        { id: '111111111111', name: 'account-111111111111', created_at: 4000 },
        { id: '222222222222', name: 'account-222222222222', created_at: 7000 },
      ]);
      assert.deepEqual(await store.read((db) => db.selectFrom('access_keys').selectAll().execute()), []);
      const state = new CloudState({ store, clock: new FakeClock(), clcIp: '10.0.0.1' });
      const listed = await state.listAccounts();
      assert.deepEqual(
        listed.map((a) => [a.id, a.name, a.admin, a.groups, a.instances, a.addresses, a.accessKeys]),
        [
          ['000000000001', 'admin', true, 1, 1, 0, 0],
          ['111111111111', 'account-111111111111', false, 1, 1, 0, 0],
          ['222222222222', 'account-222222222222', false, 1, 0, 1, 0],
        ],
      );
      // The old owners are usable by id and by their new name; nothing else is.
      assert.equal(await store.read((db) => resolveOwner(db, 'account-111111111111')), '111111111111');
      assert.equal(await store.read((db) => resolveOwner(db, '222222222222')), '222222222222');
      assert.equal(await store.read((db) => resolveOwner(db, undefined)), '000000000001');
      await rejectsCode(store.read((db) => resolveOwner(db, '333333333333')), 'ACCOUNT_NOT_FOUND');
      // Migration creates no default group: the state is what it was.
      assert.equal((await store.read((db) => db.selectFrom('security_groups').select('id').execute())).length, 3);
    } finally {
      await store.close();
    }
  } finally {
    cleanup();
  }
});

test('random account ids: 12 digits, never 000000000000-000000000099', () => {
  assert.equal(randomAccountId(() => 0), '000000000100');
  assert.equal(randomAccountId(() => 0.999999999999999), '999999999999');
  assert.equal(randomAccountId(() => 0.5), '500000000050');
  for (let i = 0; i < 1000; i++) {
    const id = randomAccountId(Math.random);
    assert.match(id, /^\d{12}$/);
    assert.ok(Number(id) >= 100, id);
  }
});

test('createAccount: id, default group with its three self rules, an access key, one transaction; name rules', async () => {
  const f = await fixture();
  try {
    const r = await f.state.createAccount({ name: 'alice' });
    assert.match(r.account.id, /^\d{12}$/);
    assert.ok(Number(r.account.id) >= 100);
    assert.deepEqual([r.account.name, r.account.admin, r.account.groups, r.account.instances, r.account.addresses, r.account.accessKeys], ['alice', false, 1, 0, 0, 1]);
    assert.match(r.accessKey.accessKeyId, /^AKIE[A-Z2-7]{16}$/);
    assert.equal(r.accessKey.secretAccessKey.length, 40);
    assert.match(r.accessKey.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
    assert.deepEqual([r.accessKey.accountId, r.accessKey.accountName, r.accessKey.status], [r.account.id, 'alice', 'active']);

    const groups = await f.store.read((db) => db.selectFrom('security_groups').selectAll().where('owner_id', '=', r.account.id).execute());
    assert.deepEqual(groups.map((g) => [g.id, g.name, g.description]), [[r.defaultGroupId, 'default', 'default group']]);
    const rules = await f.store.read((db) =>
      db.selectFrom('group_rules').select(['protocol', 'from_port', 'to_port', 'icmp_type', 'icmp_code', 'cidr', 'source_group_id', 'source_group_owner_id']).where('group_id', '=', r.defaultGroupId).orderBy('protocol').execute(),
    );
    const self = { cidr: null, source_group_id: r.defaultGroupId, source_group_owner_id: r.account.id };
    assert.deepEqual(rules, [
      { protocol: 1, from_port: null, to_port: null, icmp_type: -1, icmp_code: -1, ...self },
      { protocol: 6, from_port: 0, to_port: 65535, icmp_type: null, icmp_code: null, ...self },
      { protocol: 17, from_port: 0, to_port: 65535, icmp_type: null, icmp_code: null, ...self },
    ]);

    // The secret opens for SigV4, for this account.
    assert.deepEqual(await f.state.accessKeySecret(r.accessKey.accessKeyId), { accountId: r.account.id, secret: r.accessKey.secretAccessKey });

    await rejectsCode(f.state.createAccount({ name: 'alice' }), 'ACCOUNT_EXISTS');
    await rejectsCode(f.state.createAccount({ name: 'admin' }), 'ACCOUNT_EXISTS');
    await rejectsCode(f.state.createAccount({}), 'MissingParameter');
    for (const bad of ['-a', 'a-', 'Alice', 'a_b', 'a.b', '123456789012', 'x'.repeat(64), 'a b', 'é']) {
      await rejectsCode(f.state.createAccount({ name: bad }), 'InvalidParameterValue');
    }
    for (const good of ['b', '1', 'x'.repeat(63), 'team-7', '12345678901', '1234567890123']) {
      assert.equal((await f.state.createAccount({ name: good })).account.name, good);
    }
    // A refused create wrote nothing: no account, no group, no key left behind.
    assert.equal((await f.state.listAccounts()).length, 1 + 1 + 6);
    assert.equal((await f.state.listAccessKeys()).length, 1 + 6);
    const groupCount = await f.store.read((db) => db.selectFrom('security_groups').select('id').execute());
    assert.equal(groupCount.length, 1 + 6);
  } finally {
    await f.close();
  }
});

test('createAccount retries an id collision and never draws a reserved id', async () => {
  // On PostgreSQL the collision aborts the INSERT's savepoint (Tx.attempt), not the transaction.
  const store = await Store.open(await testStoreLocation(), { listen: false });
  try {
    // The same draw twice, then another: the second account's first id collides.
    const draws = [0.25, 0.25, 0.75, 0];
    const state = new CloudState({ store, clock: new FakeClock(), clcIp: '10.0.0.1', random: () => draws.shift() ?? 0.5 });
    const a = await state.createAccount({ name: 'a' });
    const b = await state.createAccount({ name: 'b' });
    const c = await state.createAccount({ name: 'c' });
    assert.equal(a.account.id, '250000000075');
    assert.equal(b.account.id, '750000000025');
    assert.equal(c.account.id, '000000000100');
  } finally {
    await store.close();
  }
});

test('listAccounts / getAccount: admin first, counts of groups, instances, addresses and keys; by id or name', async () => {
  const f = await fixture();
  try {
    await f.properties.set('cloud.network.network_configuration', configText());
    await f.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
    await f.state.registerNode({ cluster: 'C1', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' });
    const bob = await f.state.createAccount({ name: 'bob' });
    await f.state.createAccount({ name: 'alice' });
    await f.state.createGroup({ name: 'web', owner: 'bob' });
    await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], owner: 'bob' });
    await f.state.allocateAddress({ owner: bob.account.id });
    await f.state.createAccessKey('bob');
    const list = await f.state.listAccounts();
    assert.deepEqual(
      list.map((a) => [a.name, a.groups, a.instances, a.addresses, a.accessKeys]),
      [
        ['admin', 0, 0, 0, 0],
        ['alice', 1, 0, 0, 1],
        ['bob', 2, 1, 1, 2],
      ],
    );
    const shown = await f.state.getAccount('bob');
    assert.equal(shown.id, bob.account.id);
    assert.deepEqual(await f.state.getAccount(bob.account.id), shown);
    assert.equal(shown.keys.length, 2);
    assert.ok(shown.keys.every((k) => k.accountId === bob.account.id && k.status === 'active' && !('secretAccessKey' in k)));
    await rejectsCode(f.state.getAccount('carol'), 'ACCOUNT_NOT_FOUND');
    await rejectsCode(f.state.getAccount('Not A Name'), 'InvalidParameterValue');
  } finally {
    await f.close();
  }
});

test('deleteAccount: refused for admin and while the account owns anything (ACCOUNT_IN_USE with counts); keys and default group go with it', async () => {
  const f = await fixture();
  try {
    await f.properties.set('cloud.network.network_configuration', configText());
    await f.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
    await f.state.registerNode({ cluster: 'C1', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' });
    const admin = await rejectsCode(f.state.deleteAccount('admin'), 'ACCOUNT_IN_USE');
    assert.equal(admin.status, 409);
    await rejectsCode(f.state.deleteAccount('000000000001'), 'ACCOUNT_IN_USE');

    const c = await f.state.createAccount({ name: 'carol' });
    const second = await f.state.createAccessKey('carol');
    await f.state.createGroup({ name: 'extra', owner: 'carol' });
    const inst = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['default'], owner: 'carol' });
    const addr = await f.state.allocateAddress({ owner: 'carol' });
    const refused = await rejectsCode(f.state.deleteAccount('carol'), 'ACCOUNT_IN_USE');
    assert.equal(refused.status, 409);
    assert.deepEqual(refused.details, { accountId: c.account.id, groups: 1, instances: 1, addresses: 1 });
    assert.match(refused.message, /1 security group\(s\), 1 instance\(s\), 1 public address\(es\)/);
    // Still complete after the refusal.
    assert.equal((await f.state.getAccount('carol')).accessKeys, 2);

    await f.state.releaseAddress({ ip: (addr as { ip: string }).ip, owner: 'carol' });
    await f.state.terminateInstance(inst.id);
    await rejectsCode(f.state.deleteAccount('carol'), 'ACCOUNT_IN_USE');
    await f.state.deleteGroup('extra', 'carol');

    // Keys are cached by SigV4 lookups: deleting the account must end them at once.
    assert.ok(await f.state.accessKeySecret(second.accessKeyId));
    const deleted = await f.state.deleteAccount(c.account.id);
    assert.equal(deleted.deleted.id, c.account.id);
    assert.equal(deleted.accessKeysDeleted, 2);
    assert.equal(deleted.defaultGroupDeleted, c.defaultGroupId);
    assert.equal(await f.state.accessKeySecret(second.accessKeyId), undefined);
    assert.equal(await f.state.accessKeySecret(c.accessKey.accessKeyId), undefined);
    await rejectsCode(f.state.getAccount('carol'), 'ACCOUNT_NOT_FOUND');
    await rejectsCode(f.state.deleteAccount('carol'), 'ACCOUNT_NOT_FOUND');
    assert.deepEqual(await f.store.read((db) => db.selectFrom('security_groups').select('id').where('owner_id', '=', c.account.id).execute()), []);
    assert.deepEqual(await f.state.listAccessKeys(), []);
    // The name is free again.
    assert.notEqual((await f.state.createAccount({ name: 'carol' })).account.id, undefined);
  } finally {
    await f.close();
  }
});

test('access keys: at most 2 per account (ACCESS_KEY_LIMIT), listed without secrets, deleted at once for SigV4', async () => {
  const f = await fixture();
  try {
    const d = await f.state.createAccount({ name: 'dave' });
    await f.state.createAccount({ name: 'erin' });
    const k2 = await f.state.createAccessKey('dave');
    const limit = await rejectsCode(f.state.createAccessKey(d.account.id), 'ACCESS_KEY_LIMIT');
    assert.equal(limit.status, 409);
    await rejectsCode(f.state.createAccessKey('nobody'), 'ACCOUNT_NOT_FOUND');
    // The admin account may hold keys too (its describes see every account over EC2).
    const adminKey = await f.state.createAccessKey('admin');
    assert.equal(adminKey.accountId, '000000000001');

    const all = await f.state.listAccessKeys();
    assert.deepEqual(all.map((k) => k.accountName), ['admin', 'dave', 'dave', 'erin']);
    assert.ok(all.every((k) => !('secretAccessKey' in k) && k.status === 'active' && k.lastUsedAt === undefined));
    assert.deepEqual((await f.state.listAccessKeys('dave')).map((k) => k.accessKeyId).sort(), [d.accessKey.accessKeyId, k2.accessKeyId].sort());
    await rejectsCode(f.state.listAccessKeys('nobody'), 'ACCOUNT_NOT_FOUND');

    assert.equal((await f.state.accessKeySecret(k2.accessKeyId))?.secret, k2.secretAccessKey);
    const gone = await f.state.deleteAccessKey(k2.accessKeyId);
    assert.deepEqual([gone.accessKeyId, gone.accountId], [k2.accessKeyId, d.account.id]);
    assert.equal(await f.state.accessKeySecret(k2.accessKeyId), undefined, 'a deleted key stops working at once, cached or not');
    assert.equal((await f.state.accessKeySecret(d.accessKey.accessKeyId))?.secret, d.accessKey.secretAccessKey, 'the other key still works');
    await rejectsCode(f.state.deleteAccessKey(k2.accessKeyId), 'ACCESS_KEY_NOT_FOUND');
    await rejectsCode(f.state.deleteAccessKey(''), 'MissingParameter');
    // Room for a new one again.
    await f.state.createAccessKey('dave');
    // Unknown and malformed ids: no secret, no error.
    assert.equal(await f.state.accessKeySecret('AKIEAAAAAAAAAAAAAAAA'), undefined);
    assert.equal(await f.state.accessKeySecret('AKIAIOSFODNN7EXAMPLE'), undefined);
    assert.equal(await f.state.accessKeySecret(''), undefined);
  } finally {
    await f.close();
  }
});

test('accessKeyUsed: last_used_at written off the request path, at most once a minute per key', async () => {
  const f = await fixture();
  try {
    const { accessKey } = await f.state.createAccount({ name: 'frank' });
    const lastUsed = async () => (await f.state.listAccessKeys('frank'))[0]!.lastUsedAt;
    const seen = async () => {
      // The write is queued on the store; a write queued after it ends after it (a store's writes run in call order).
      await f.store.write(async () => undefined);
      return lastUsed();
    };
    const start = f.clock.now();
    f.state.accessKeyUsed(accessKey.accessKeyId);
    assert.equal(await seen(), new Date(start).toISOString());
    await f.clock.advance(30_000);
    f.state.accessKeyUsed(accessKey.accessKeyId);
    assert.equal(await seen(), new Date(start).toISOString(), 'not again within the minute');
    await f.clock.advance(30_000);
    f.state.accessKeyUsed(accessKey.accessKeyId);
    assert.equal(await seen(), new Date(start + 60_000).toISOString());
  } finally {
    await f.close();
  }
});

async function call(url: string, token: string, method: string, p: string, body?: unknown) {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('admin API: /v1/accounts and /v1/keys', async () => {
  const { dir, cleanup } = tempDir();
  const clc = await startCloudController({ dbPath: await testStoreLocation(), host: '127.0.0.1', port: 0, clcIp: '10.0.0.1', tokenFile: path.join(dir, 'token'), credentialsKeyFile: path.join(dir, 'credentials.key'), logger: nullLogger(), plugins: [] });
  try {
    const { url, token } = clc;
    const created = await call(url, token, 'POST', '/v1/accounts', { name: 'gina' });
    assert.equal(created.status, 201);
    const id = created.body.account.id as string;
    assert.match(created.body.accessKey.secretAccessKey, /^.{40}$/);
    assert.deepEqual((await call(url, token, 'POST', '/v1/accounts', { name: 'gina' })).body.error.code, 'ACCOUNT_EXISTS');
    assert.deepEqual((await call(url, token, 'POST', '/v1/accounts', { name: 'Bad Name' })).status, 400);
    const list = await call(url, token, 'GET', '/v1/accounts');
    assert.deepEqual(list.body.accounts.map((a: { name: string }) => a.name), ['admin', 'gina']);
    const shown = await call(url, token, 'GET', '/v1/accounts/gina');
    assert.deepEqual([shown.status, shown.body.id, shown.body.keys.length], [200, id, 1]);
    assert.equal(JSON.stringify(shown.body).includes(created.body.accessKey.secretAccessKey), false, 'never shown again');
    assert.equal((await call(url, token, 'GET', '/v1/accounts/nobody')).status, 404);

    const key = await call(url, token, 'POST', `/v1/accounts/${id}/keys`);
    assert.equal(key.status, 201);
    const limit = await call(url, token, 'POST', '/v1/accounts/gina/keys');
    assert.deepEqual([limit.status, limit.body.error.code], [409, 'ACCESS_KEY_LIMIT']);
    assert.equal((await call(url, token, 'GET', '/v1/accounts/gina/keys')).body.keys.length, 2);
    assert.equal((await call(url, token, 'GET', '/v1/keys')).body.keys.length, 2);
    assert.equal((await call(url, token, 'GET', '/v1/keys?account=admin')).body.keys.length, 0);
    assert.equal((await call(url, token, 'GET', '/v1/keys?account=nobody')).status, 404);
    const del = await call(url, token, 'DELETE', `/v1/keys/${key.body.accessKeyId}`);
    assert.deepEqual([del.status, del.body.deleted.accessKeyId], [200, key.body.accessKeyId]);
    assert.equal((await call(url, token, 'DELETE', `/v1/keys/${key.body.accessKeyId}`)).status, 404);

    const adminDel = await call(url, token, 'DELETE', '/v1/accounts/admin');
    assert.deepEqual([adminDel.status, adminDel.body.error.code], [409, 'ACCOUNT_IN_USE']);
    const gone = await call(url, token, 'DELETE', '/v1/accounts/gina');
    assert.deepEqual([gone.status, gone.body.deleted.name, gone.body.accessKeysDeleted], [200, 'gina', 1]);
    assert.equal((await call(url, token, 'GET', '/v1/keys')).body.keys.length, 0);
  } finally {
    await clc.stop();
    cleanup();
  }
});
