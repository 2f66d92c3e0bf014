/**
 * EC2 secrets at rest (issue 15): AES-256-GCM sealing under the credentials
 * key, a database copy without the key file (on PostgreSQL: every row of the
 * database), a CLC started with another key
 * (CREDENTIALS_KEY_UNAVAILABLE: one error line, the CLC runs, the keys fail),
 * the key file's rules (mode, symbolic link, content) and its setting
 * (CREDENTIALS_KEY_FILE in clc.conf, --check-config).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import winston from 'winston';
import { sql } from 'kysely';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { credentialsKeyId, isAccessKeyId, newAccessKeyId, newSecretAccessKey, openSecret, sealSecret } from '../../../src/cloud-controller/services/credentials.ts';
import { ensureCredentialsKey, readCredentialsKey } from '../../../src/cloud-controller/credentials-key.ts';
import { createSecretFile } from '../../../src/cloud-controller/secret-file.ts';
import { clcProgram, startCloudController } from '../../../src/cloud-controller/main.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { testDatabaseUrl, testStoreKind } from '../../helpers/postgres.ts';

function withDir<T>(run: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-credentials-'));
  return Promise.resolve()
    .then(() => run(dir))
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

const code = (c: string) => (err: unknown) => err instanceof EdgenetError && err.code === c;

/** A logger that keeps every entry (level, message, fields). */
function memoryLogger(): { logger: winston.Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, cb) {
      entries.push(info);
      cb();
    },
  });
  return { entries, logger: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }) };
}

test('access key ids and secrets: AKIE + 16 of A-Z2-7, 40-character secrets, all bits used', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const id = newAccessKeyId();
    assert.ok(isAccessKeyId(id), id);
    ids.add(id);
    const secret = newSecretAccessKey();
    assert.equal(secret.length, 40);
    assert.equal(Buffer.from(secret, 'base64').length, 30);
  }
  assert.equal(ids.size, 500);
  // 10 bytes are 16 base32 characters exactly: all-zero and all-one bytes give the first and last letters.
  assert.equal(newAccessKeyId((n) => Buffer.alloc(n, 0)), 'AKIEAAAAAAAAAAAAAAAA');
  assert.equal(newAccessKeyId((n) => Buffer.alloc(n, 0xff)), 'AKIE7777777777777777');
  assert.equal(isAccessKeyId('AKIAIOSFODNN7EXAMPLE'), false);
  assert.equal(isAccessKeyId('AKIEAAAAAAAAAAAAAAA1'), false);
});

test('sealing: AES-256-GCM round trip; another key, another access key id or a changed byte does not open', () => {
  const key = randomBytes(32);
  const secret = newSecretAccessKey();
  const id = newAccessKeyId();
  const box = sealSecret(key, id, secret);
  const bytes = Buffer.from(box, 'base64');
  assert.equal(bytes.length, 12 + 40 + 16, 'nonce | ciphertext | tag');
  assert.equal(box.includes(secret), false);
  assert.equal(openSecret(key, id, box), secret);
  assert.notEqual(sealSecret(key, id, secret), box, 'a fresh nonce every time');
  assert.equal(openSecret(randomBytes(32), id, box), undefined);
  assert.equal(openSecret(key, newAccessKeyId(), box), undefined, 'the access key id is authenticated (AAD)');
  for (const at of [0, 12, 30, bytes.length - 1]) {
    const tampered = Buffer.from(bytes);
    tampered[at]! ^= 1;
    assert.equal(openSecret(key, id, tampered.toString('base64')), undefined, `byte ${at}`);
  }
  assert.equal(openSecret(key, id, ''), undefined);
  assert.equal(openSecret(key, id, 'not base64 at all!'), undefined);
  assert.match(credentialsKeyId(key), /^[0-9a-f]{16}$/);
  assert.notEqual(credentialsKeyId(key), credentialsKeyId(randomBytes(32)));
});

/** PostgreSQL: every row of every table of the database, as text (what a pg_dump of it holds). */
async function everyRowAsText(url: string): Promise<Buffer> {
  const store = await Store.open(url, { listen: false });
  try {
    return await store.read(async (db) => {
      const tables = await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`.execute(db);
      const parts: string[] = [];
      for (const { name } of tables.rows) {
        const rows = await sql<{ row: string }>`SELECT row_to_json(t)::text AS row FROM ${sql.table(name)} t`.execute(db);
        parts.push(...rows.rows.map((r) => r.row));
      }
      return Buffer.from(parts.join('\n'), 'utf8');
    });
  } finally {
    await store.close();
  }
}

test('a copy of the database without the key file reveals no secret; with the key file it opens', () =>
  withDir(async (dir) => {
    // PostgreSQL: the database's rows stand for the copy (a dump), and the copy is opened where it is.
    const postgres = testStoreKind() === 'postgres';
    const file = postgres ? await testDatabaseUrl() : path.join(dir, 'clc.db');
    const key = randomBytes(32);
    const store = await Store.open(file);
    const state = new CloudState({ store, clock: new FakeClock(), clcIp: '10.0.0.1', credentialsKey: key });
    const a = await state.createAccount({ name: 'alice' });
    const b = await state.createAccessKey('alice');
    await store.close();
    const copy = path.join(dir, 'copy');
    mkdirSync(copy);
    if (!postgres) for (const f of readdirSync(dir).filter((n) => n.startsWith('clc.db'))) copyFileSync(path.join(dir, f), path.join(copy, f));
    // Every byte of the copy: neither secret appears, in text or as its raw bytes.
    const bytes = postgres ? await everyRowAsText(file) : Buffer.concat(readdirSync(copy).map((f) => readFileSync(path.join(copy, f))));
    assert.ok(bytes.length > 0);
    for (const secret of [a.accessKey.secretAccessKey, b.secretAccessKey]) {
      assert.equal(bytes.includes(Buffer.from(secret, 'utf8')), false, 'secret text in the database file');
      assert.equal(bytes.includes(Buffer.from(secret, 'base64')), false, 'secret bytes in the database file');
    }
    assert.ok(bytes.includes(Buffer.from(a.accessKey.accessKeyId)), 'the key ids are there (they are not secret)');

    // Opened without the key (another one): nothing opens, and the keys are reported unavailable.
    const thief = await Store.open(postgres ? file : path.join(copy, 'clc.db'));
    try {
      const other = new CloudState({ store: thief, clock: new FakeClock(), clcIp: '10.0.0.1', credentialsKey: randomBytes(32) });
      assert.equal(await other.accessKeySecret(a.accessKey.accessKeyId), undefined);
      assert.equal(await other.accessKeySecret(b.accessKeyId), undefined);
      assert.deepEqual(await other.credentialsStatus(), { keyId: credentialsKeyId((other as unknown as { sealer: { key: Buffer } }).sealer.key), count: 2, keyIds: [credentialsKeyId(key)] });
      assert.deepEqual((await other.listAccessKeys()).map((k) => k.status), ['unavailable', 'unavailable']);
      // With the right key the same copy works (a restored backup plus its key file).
      const owner = new CloudState({ store: thief, clock: new FakeClock(), clcIp: '10.0.0.1', credentialsKey: key });
      assert.deepEqual(await owner.accessKeySecret(b.accessKeyId), { accountId: a.account.id, secret: b.secretAccessKey });
      assert.equal((await owner.credentialsStatus()).count, 0);
    } finally {
      await thief.close();
    }
  }));

test('a CLC started with another credentials key: one CREDENTIALS_KEY_UNAVAILABLE error line, it still serves, those keys fail, new ones work', () =>
  withDir(async (dir) => {
    const dbPath = testStoreKind() === 'postgres' ? await testDatabaseUrl() : path.join(dir, 'clc.db');
    const keyFile = path.join(dir, 'keys', 'credentials.key');
    const options = { dbPath, host: '127.0.0.1', port: 0, clcIp: '10.0.0.1', tokenFile: path.join(dir, 'token'), credentialsKeyFile: keyFile, plugins: [] };
    const first = memoryLogger();
    let clc = await startCloudController({ ...options, logger: first.logger });
    let created;
    try {
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.match(readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
      assert.ok(first.entries.some((e) => e.level === 'info' && String(e.message).startsWith('credentials key created') && e.file === keyFile));
      created = await clc.state.createAccount({ name: 'alice' });
      await clc.state.createAccount({ name: 'bob' });
    } finally {
      await clc.stop();
    }
    assert.equal(first.entries.filter((e) => e.code === 'CREDENTIALS_KEY_UNAVAILABLE').length, 0);

    // Same key file: no complaint, the secret opens.
    const same = memoryLogger();
    clc = await startCloudController({ ...options, logger: same.logger });
    try {
      assert.equal((await clc.state.accessKeySecret(created.accessKey.accessKeyId))?.secret, created.accessKey.secretAccessKey);
    } finally {
      await clc.stop();
    }
    assert.deepEqual(same.entries.filter((e) => e.level === 'error'), []);

    // The key file lost: a new key is made, the two stored keys cannot open.
    rmSync(keyFile);
    const second = memoryLogger();
    clc = await startCloudController({ ...options, logger: second.logger });
    try {
      const errors = second.entries.filter((e) => e.level === 'error');
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0]!.code, 'CREDENTIALS_KEY_UNAVAILABLE');
      assert.equal(errors[0]!.keys, 2);
      assert.equal(errors[0]!.file, keyFile);
      assert.match(String(errors[0]!.message), /^CREDENTIALS_KEY_UNAVAILABLE: 2 EC2 access key\(s\) .* another credentials key than .*credentials\.key/);
      const health = await fetch(`${clc.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(await clc.state.accessKeySecret(created.accessKey.accessKeyId), undefined);
      assert.deepEqual((await clc.state.listAccessKeys('alice')).map((k) => k.status), ['unavailable']);
      // New keys are sealed under the new key and work.
      const fresh = await clc.state.createAccount({ name: 'carol' });
      assert.equal((await clc.state.accessKeySecret(fresh.accessKey.accessKeyId))?.secret, fresh.accessKey.secretAccessKey);
    } finally {
      await clc.stop();
    }
  }));

test('the credentials key file: created 0600 with 64 hex, read back; refused when readable by others, a link, not a file, or not a key', () =>
  withDir((dir) => {
    const file = path.join(dir, 'sub', 'credentials.key');
    const made = ensureCredentialsKey(file);
    assert.equal(made.created, true);
    assert.equal(made.key.length, 32);
    assert.equal(statSync(path.join(dir, 'sub')).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8'), `${made.key.toString('hex')}\n`);
    assert.deepEqual(readdirSync(path.join(dir, 'sub')), ['credentials.key'], 'no temporary file left');
    const again = ensureCredentialsKey(file);
    assert.equal(again.created, false);
    assert.ok(again.key.equals(made.key));

    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(file, mode);
      assert.throws(() => ensureCredentialsKey(file), code('CREDENTIALS_KEY_PERMISSIONS'), mode.toString(8));
    }
    chmodSync(file, 0o400);
    assert.ok(ensureCredentialsKey(file).key.equals(made.key));
    chmodSync(file, 0o600);

    const link = path.join(dir, 'link.key');
    symlinkSync(file, link);
    assert.throws(() => ensureCredentialsKey(link), code('CREDENTIALS_KEY_SYMLINK'));
    assert.throws(() => ensureCredentialsKey(dir), code('CREDENTIALS_KEY_NOT_REGULAR'));
    const bad = path.join(dir, 'bad.key');
    for (const content of ['', 'xyz\n', `${'a'.repeat(63)}\n`, randomBytes(32)]) {
      rmSync(bad, { force: true });
      writeFileSync(bad, content, { mode: 0o600 });
      assert.throws(() => ensureCredentialsKey(bad), code('CREDENTIALS_KEY_INVALID'));
    }
    // Uppercase hex, no newline: the same key.
    writeFileSync(bad, made.key.toString('hex').toUpperCase(), { mode: 0o600 });
    assert.ok(readCredentialsKey(bad)!.equals(made.key));
    assert.equal(readCredentialsKey(path.join(dir, 'missing.key')), undefined);
  }));

test('secret files are never overwritten: a second create of an existing name writes nothing', () =>
  withDir((dir) => {
    const file = path.join(dir, 'secret');
    assert.equal(createSecretFile(file, 'first\n'), true);
    assert.equal(createSecretFile(file, 'second\n'), false);
    assert.equal(readFileSync(file, 'utf8'), 'first\n');
    // A dangling link at the name is not followed.
    const link = path.join(dir, 'dangling');
    symlinkSync(path.join(dir, 'target'), link);
    assert.equal(createSecretFile(link, 'x'), false);
    assert.equal(existsSync(path.join(dir, 'target')), false);
    assert.deepEqual(readdirSync(dir).sort(), ['dangling', 'secret']);
  }));

test('CREDENTIALS_KEY_FILE: clc.conf, environment and flag; --check-config reports a readable key file and a missing one', () =>
  withDir((dir) => {
    const env = { EDGENET_STATE_DIR: dir, EDGENET_CONF_DIR: dir, EDGENET_RUN_DIR: dir };
    const defaults = clcProgram({}, env).resolve();
    assert.equal(defaults.config.credentialsKeyFile, path.join(dir, 'clc', 'credentials.key'));
    // The default follows the database: a CLC run with another --db never touches the machine's default key.
    assert.equal(clcProgram({ db: path.join(dir, 'other', 'x.db') }, env).resolve().config.credentialsKeyFile, path.join(dir, 'other', 'credentials.key'));
    const conf = path.join(dir, 'clc.conf');
    const keyFile = path.join(dir, 'keys', 'ck');
    writeFileSync(conf, `CREDENTIALS_KEY_FILE="${keyFile}"\n`);
    const fromConf = clcProgram({ config: conf }, env);
    const resolved = fromConf.resolve();
    assert.equal(resolved.config.credentialsKeyFile, keyFile);
    assert.deepEqual(resolved.diagnostics.filter((d) => d.severity === 'error'), [], 'a known key');
    const problems = (config: typeof resolved.config) => (clcProgram({ config: conf }, env).check?.(config) ?? []).filter((d) => d.path === 'CREDENTIALS_KEY_FILE');

    // Missing: a warning (made at the first start).
    const missing = problems(resolved.config);
    assert.deepEqual(missing.map((d) => [d.severity, d.code]), [['warning', 'DIR_MISSING'], ['warning', 'FILE_MISSING']]);
    ensureCredentialsKey(keyFile);
    assert.deepEqual(problems(resolved.config), []);
    chmodSync(keyFile, 0o644);
    assert.deepEqual(problems(resolved.config).map((d) => [d.severity, d.code]), [['error', 'CREDENTIALS_KEY_PERMISSIONS']]);
    chmodSync(keyFile, 0o600);

    assert.equal(clcProgram({ config: conf }, { ...env, EDGENET_CLC_CREDENTIALS_KEY_FILE: '/x/env.key' }).resolve().config.credentialsKeyFile, '/x/env.key');
    assert.equal(clcProgram({ config: conf, credentialsKeyFile: '/x/flag.key' }, { ...env, EDGENET_CLC_CREDENTIALS_KEY_FILE: '/x/env.key' }).resolve().config.credentialsKeyFile, '/x/flag.key');
  }));

test('startCloudController without credentialsKeyFile keeps the key next to the database', () =>
  withDir(async (dir) => {
    const clc = await startCloudController({ dbPath: path.join(dir, 'db', 'clc.db'), host: '127.0.0.1', port: 0, clcIp: '10.0.0.1', tokenFile: path.join(dir, 'token'), logger: nullLogger(), plugins: [] });
    try {
      assert.equal(statSync(path.join(dir, 'db', 'credentials.key')).mode & 0o777, 0o600);
    } finally {
      await clc.stop();
    }
  }));
