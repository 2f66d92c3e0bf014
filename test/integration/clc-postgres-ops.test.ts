/**
 * Operations on a CLC database in PostgreSQL (issue 16), on a throwaway
 * server (test/helpers/postgres.ts): `edgenet clc migrate` on an empty
 * database and again (already current); `edgenet clc backup` while a CLC's
 * store is open, then `edgenet clc restore` into a fresh database (the
 * restored database has the data and a newer generation), and the same
 * backup loaded by hand with psql (the first store opening it takes a new
 * generation: the mark in the dump); restore refused while a CLC is
 * connected (DB_IN_USE, which `edgenet import gni` uses too), into a
 * non-empty database, from a truncated or a SQLite backup; --check-config
 * on a PostgreSQL DB (bad URL = error, server not answering = warning,
 * password never printed). Skipped loudly without root; a failure under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Store } from '../../src/cloud-controller/db/store.ts';
import { SCHEMA_VERSION } from '../../src/cloud-controller/db/migrations.ts';
import { requireDatabaseUnused } from '../../src/cloud-controller/db/in-use.ts';
import { postgresTool } from '../../src/cloud-controller/db/backup-postgres.ts';
import { clcProgram } from '../../src/cloud-controller/main.ts';
import { requirePostgres, startPostgres, type PgServer } from '../helpers/postgres.ts';
import { runCli, sandboxEnv } from '../unit/cli/cli-sandbox.ts';

const errorOf = (stdout: string): { code: string; message: string } => (JSON.parse(stdout) as { error: { code: string; message: string } }).error;

async function propertyOf(store: Store, name: string): Promise<string | undefined> {
  return store.read(async (db) => (await db.selectFrom('properties').select('value').where('name', '=', name).executeTakeFirst())?.value);
}

test('PostgreSQL: migrate, backup, restore, in-use checks', { timeout: 180_000 }, async (t) => {
  if (!requirePostgres(t)) return;
  const server: PgServer = await startPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-pg-ops-'));
  const env = sandboxEnv(dir);
  const cli = (...args: string[]) => runCli(args, env);
  const stores: Store[] = [];
  try {
    // migrate: an empty database gets the whole schema; a second run changes nothing.
    const a = await server.createDatabase();
    const first = await cli('clc', 'migrate', '--db', a, '--json');
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.deepEqual(JSON.parse(first.stdout), { database: a, kind: 'postgres', from: 0, to: SCHEMA_VERSION, latest: SCHEMA_VERSION, migrated: true });
    const again = await cli('clc', 'migrate', '--db', a);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`schema already current \\(version ${SCHEMA_VERSION}\\)`));

    // A CLC's store (application edgenet-clc) with some state.
    const live = await Store.open(a);
    stores.push(live);
    await live.write(async (tx) => {
      await tx.db.insertInto('properties').values({ name: 'ops.test', value: 'kept', updated_at: 1 }).execute();
    });
    const liveGeneration = live.generation();

    // Backup while it runs; never overwrites.
    const file = path.join(dir, 'backups', 'clc.sql');
    const backup = await cli('clc', 'backup', file, '--db', a, '--json');
    assert.equal(backup.code, 0, backup.stderr + backup.stdout);
    const info = JSON.parse(backup.stdout) as { file: string; generation: number; schemaVersion: number; bytes: number };
    assert.equal(info.generation, liveGeneration);
    assert.equal(info.schemaVersion, SCHEMA_VERSION);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(file).size, info.bytes);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['clc.sql'], 'no temporary file left');
    const twice = await cli('clc', 'backup', file, '--db', a, '--json');
    assert.equal(twice.code, 1);
    assert.equal(errorOf(twice.stdout).code, 'BACKUP_EXISTS');

    // Restore refused while a CLC is connected to the target; import gni uses the same check.
    const inUse = await cli('clc', 'restore', file, '--db', a, '--json');
    assert.equal(inUse.code, 1);
    assert.equal(errorOf(inUse.stdout).code, 'DB_IN_USE');
    await assert.rejects(requireDatabaseUnused(a, 'import'), { code: 'DB_IN_USE' });

    // Into a fresh database: the data, and a generation newer than the backup's.
    const b = await server.createDatabase();
    await requireDatabaseUnused(b, 'import');
    const restored = await cli('clc', 'restore', file, '--db', b, '--json');
    assert.equal(restored.code, 0, restored.stderr + restored.stdout);
    const rinfo = JSON.parse(restored.stdout) as { generation: number; previousGeneration: number };
    assert.equal(rinfo.previousGeneration, liveGeneration);
    assert.ok(rinfo.generation > liveGeneration, `${rinfo.generation} > ${liveGeneration}`);
    const onB = await Store.open(b);
    stores.push(onB);
    assert.equal(await propertyOf(onB, 'ops.test'), 'kept');
    assert.equal(onB.generation(), rinfo.generation, 'restore took the generation; the store keeps it');
    assert.equal(onB.generationTaken, undefined);
    await onB.close();

    // Not into a database that holds anything.
    const notEmpty = await cli('clc', 'restore', file, '--db', b, '--json');
    assert.equal(notEmpty.code, 1);
    assert.equal(errorOf(notEmpty.stdout).code, 'RESTORE_TARGET_NOT_EMPTY');

    // Loaded by hand (psql, the documented alternative): the first store opening it takes a new generation.
    const c = await server.createDatabase();
    const psql = spawnSync(postgresTool('psql'), ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--single-transaction', `--file=${file}`, `--dbname=${c}`], { encoding: 'utf8' });
    assert.equal(psql.status, 0, psql.stderr);
    const onC = await Store.open(c);
    stores.push(onC);
    assert.equal(onC.generationTaken, 'restored');
    assert.ok(onC.generation() > liveGeneration);
    assert.equal(await propertyOf(onC, 'ops.test'), 'kept');

    // A truncated backup, a SQLite backup: refused before anything is touched.
    const truncated = path.join(dir, 'truncated.sql');
    fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, Math.floor(info.bytes / 2)));
    const d = await server.createDatabase();
    const cut = await cli('clc', 'restore', truncated, '--db', d, '--json');
    assert.equal(errorOf(cut.stdout).code, 'BACKUP_CORRUPT');
    const sqliteDb = path.join(dir, 'clc.db');
    const sqliteStore = await Store.open(sqliteDb);
    await sqliteStore.close();
    const sqliteBackup = path.join(dir, 'sqlite-backup.db');
    assert.equal((await cli('clc', 'backup', sqliteBackup, '--db', sqliteDb)).code, 0);
    const mismatch = await cli('clc', 'restore', sqliteBackup, '--db', d, '--json');
    assert.equal(errorOf(mismatch.stdout).code, 'BACKUP_KIND_MISMATCH');
    const mismatch2 = await cli('clc', 'restore', file, '--db', sqliteDb, '--json');
    assert.equal(errorOf(mismatch2.stdout).code, 'BACKUP_KIND_MISMATCH');
    const untouched = await Store.open(d);
    stores.push(untouched);
    assert.equal(untouched.generationTaken, 'new-database', 'the refused restores left the database empty');

    // Once the CLC is gone, nothing is in use.
    await live.close();
    await requireDatabaseUnused(a, 'import');
  } finally {
    for (const s of stores) await s.close().catch(() => undefined);
    server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: --check-config validates DB as a URL, warns when the server does not answer, never prints a password', { timeout: 60_000 }, async (t) => {
  if (!requirePostgres(t)) return;
  const server = await startPostgres();
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  try {
    const check = async (db: string) => {
      const program = clcProgram({ db }, env);
      const resolved = program.resolve();
      const problems = [...program.check(resolved.config), ...((await program.checkOnline?.(resolved.config)) ?? [])].filter((d) => d.path === 'DB');
      return { problems: problems.map((d) => [d.severity, d.code]), shown: resolved.effective.find((e) => e.key === 'DB')?.value, text: JSON.stringify(problems) };
    };
    assert.deepEqual((await check(server.url('postgres'))).problems, []);
    assert.deepEqual((await check('postgres://edgenet@127.0.0.1:5432/')).problems, [['error', 'DB_URL_INVALID']]);
    // The leader advertises LISTEN to the other CLCs: a wildcard is a warning on PostgreSQL only.
    const listenProblems = (db: string, listen: string) => {
      const program = clcProgram({ db, listen }, env);
      return program.check(program.resolve().config).filter((d) => d.path === 'LISTEN').map((d) => [d.severity, d.code]);
    };
    assert.deepEqual(listenProblems(server.url('postgres'), '0.0.0.0:8770'), [['warning', 'LISTEN_WILDCARD']]);
    assert.deepEqual(listenProblems(server.url('postgres'), '127.0.0.1:8770'), []);
    assert.deepEqual(listenProblems(path.join(server.dir, 'clc.db'), '0.0.0.0:8770'), []);
    const down = `postgres://edgenet:s3cret@127.0.0.1:${server.port}/edgenet`;
    server.stopServer('fast');
    const unreachable = await check(down);
    assert.deepEqual(unreachable.problems, [['warning', 'DB_UNAVAILABLE']]);
    assert.ok(!unreachable.text.includes('s3cret') && !unreachable.shown!.includes('s3cret'), `${unreachable.text} ${unreachable.shown}`);
  } finally {
    server.stop();
  }
});
