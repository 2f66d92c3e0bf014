/**
 * The credentials key through the real `edgenet clc` process (issue 15):
 * CREDENTIALS_KEY_FILE from clc.conf in --check-config and at start (the file
 * made 0600 where the config says), an account made with the real CLI, a key
 * file others can read refused with exit 2 (a configuration error: systemd
 * does not restart it in a loop), and a lost key file: the CLC starts, logs
 * one CREDENTIALS_KEY_UNAVAILABLE error line, and lists the old keys as
 * unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cli, startClc, tempDir, testEnv } from '../unit/clc/harness.ts';

test('edgenet clc with CREDENTIALS_KEY_FILE in clc.conf: --check-config, created at start, refused when readable by others, a lost key is one loud line', { timeout: 180_000 }, async () => {
  const { dir, cleanup } = tempDir('edgenet-clc-accounts-');
  const keyFile = path.join(dir, 'secrets', 'credentials.key');
  const conf = path.join(dir, 'clc.conf');
  writeFileSync(conf, `CREDENTIALS_KEY_FILE="${keyFile}"\n`);
  const env = testEnv(dir);
  try {
    const check = await cli(['clc', '--config', conf, '--check-config', '--json'], env);
    const report = JSON.parse(check.stdout);
    const setting = report.settings.find((s: { key: string }) => s.key === 'CREDENTIALS_KEY_FILE');
    assert.equal(setting.value, keyFile);
    assert.match(JSON.stringify(setting.source), /clc\.conf|file/);
    const keyProblems = report.problems.filter((p: { key?: string; path?: string }) => (p.key ?? p.path) === 'CREDENTIALS_KEY_FILE');
    assert.deepEqual(keyProblems.map((p: { severity: string; code: string }) => [p.severity, p.code]), [['warning', 'DIR_MISSING'], ['warning', 'FILE_MISSING']]);

    let clc = await startClc(dir, ['--config', conf]);
    let created: { account: { id: string }; accessKey: { accessKeyId: string } };
    try {
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.match(readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
      const cliEnv = { ...env, EDGENET_URL: clc.url, EDGENET_TOKEN: clc.token };
      const r = await cli(['account', 'create', 'alice', '--json'], cliEnv);
      assert.equal(r.code, 0, r.stderr);
      created = JSON.parse(r.stdout);
    } finally {
      assert.equal((await clc.stop()).code, 0);
    }
    assert.match(readFileSync(clc.logFile, 'utf8'), /credentials key created/);

    // Readable by others: refused before anything listens, exit 2.
    chmodSync(keyFile, 0o644);
    const refused = await cli(['clc', '--config', conf, '--db', path.join(dir, 'clc.db'), '--listen', '127.0.0.1:0', '--token-file', path.join(dir, 'token')], env);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stdout + refused.stderr, /CREDENTIALS_KEY_PERMISSIONS/);
    const checkBad = JSON.parse((await cli(['clc', '--config', conf, '--check-config', '--json'], env)).stdout);
    assert.ok(checkBad.problems.some((p: { severity: string; code: string }) => p.severity === 'error' && p.code === 'CREDENTIALS_KEY_PERMISSIONS'));
    chmodSync(keyFile, 0o600);
    // The admin token file follows the same rule (secret-file.ts): readable by others is exit 2, not a restart loop.
    const tokenFile = path.join(dir, 'token');
    chmodSync(tokenFile, 0o644);
    const tokenRefused = await cli(['clc', '--config', conf, '--db', path.join(dir, 'clc.db'), '--listen', '127.0.0.1:0', '--token-file', tokenFile], env);
    assert.equal(tokenRefused.code, 2, tokenRefused.stdout + tokenRefused.stderr);
    assert.match(tokenRefused.stdout + tokenRefused.stderr, /TOKEN_FILE_PERMISSIONS/);
    chmodSync(tokenFile, 0o600);

    // The key file lost (moved away): a new one is made, the CLC serves, and says once that alice's key cannot open.
    renameSync(keyFile, `${keyFile}.lost`);
    clc = await startClc(dir, ['--config', conf]);
    try {
      assert.ok(existsSync(keyFile));
      const cliEnv = { ...env, EDGENET_URL: clc.url, EDGENET_TOKEN: clc.token };
      const keys = await cli(['account', 'key', 'list', 'alice', '--json'], cliEnv);
      assert.deepEqual(JSON.parse(keys.stdout).map((k: { accessKeyId: string; status: string }) => [k.accessKeyId, k.status]), [[created.accessKey.accessKeyId, 'unavailable']]);
    } finally {
      assert.equal((await clc.stop()).code, 0);
    }
    const lines = readFileSync(clc.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const unavailable = lines.filter((l) => l.code === 'CREDENTIALS_KEY_UNAVAILABLE');
    assert.equal(unavailable.length, 1, JSON.stringify(unavailable));
    assert.equal(unavailable[0]!.level, 'error');
    assert.equal(unavailable[0]!.file, keyFile);
    assert.equal(unavailable[0]!.keys, 1);
  } finally {
    cleanup();
  }
});
