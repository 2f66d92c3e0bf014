/**
 * `edgenet clc migrate` on SQLite: an older schema is brought to the current
 * version (from → to), a second run says "already current", a missing file
 * is DB_NOT_FOUND (not silently created), a newer schema is DB_TOO_NEW and
 * left alone. (PostgreSQL: test/integration/clc-postgres-ops.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { migrate, SCHEMA_VERSION } from '../../../src/cloud-controller/db/migrations.ts';
import { runCli, sandboxEnv } from '../cli/cli-sandbox.ts';

test('clc migrate on SQLite: from -> to, already current, missing file, newer schema', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-migrate-'));
  const env = sandboxEnv(dir);
  try {
    const file = path.join(dir, 'clc.db');
    const old = new BetterSqlite3(file);
    migrate(old, SCHEMA_VERSION - 1);
    old.close();

    const first = await runCli(['clc', 'migrate', '--db', file, '--json'], env);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.deepEqual(JSON.parse(first.stdout), { database: file, kind: 'sqlite', from: SCHEMA_VERSION - 1, to: SCHEMA_VERSION, latest: SCHEMA_VERSION, migrated: true });
    const check = new BetterSqlite3(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();

    const again = await runCli(['clc', 'migrate', '--db', file], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), `${file}: schema already current (version ${SCHEMA_VERSION})`);

    const missing = path.join(dir, 'typo.db');
    const none = await runCli(['clc', 'migrate', '--db', missing, '--json'], env);
    assert.equal(none.code, 1);
    assert.equal((JSON.parse(none.stdout) as { error: { code: string } }).error.code, 'DB_NOT_FOUND');
    assert.equal(fs.existsSync(missing), false);

    const newer = new BetterSqlite3(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    const tooNew = await runCli(['clc', 'migrate', '--db', file, '--json'], env);
    assert.equal(tooNew.code, 1);
    assert.equal((JSON.parse(tooNew.stdout) as { error: { code: string } }).error.code, 'DB_TOO_NEW');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
