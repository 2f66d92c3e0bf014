/** The admin token file (issue 11 item 6): refused when others may read it, warned about when short. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, statSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ensureToken, MIN_TOKEN_LENGTH } from '../../../src/cloud-controller/admin-token.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-token-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const code = (c: string) => (err: unknown) => err instanceof EdgenetError && err.code === c;

function warnings(): { warn: (m: string, f?: Record<string, unknown>) => void; seen: Record<string, unknown>[] } {
  const seen: Record<string, unknown>[] = [];
  return { seen, warn: (message, fields = {}) => seen.push({ message, ...fields }) };
}

test('a token file group or others can read is refused (TOKEN_FILE_PERMISSIONS), whatever its token', () =>
  withDir((dir) => {
    const file = path.join(dir, 'token');
    writeFileSync(file, `${'x'.repeat(64)}\n`);
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(file, mode);
      assert.throws(() => ensureToken(file), code('TOKEN_FILE_PERMISSIONS'), mode.toString(8));
    }
    chmodSync(file, 0o600);
    assert.equal(ensureToken(file), 'x'.repeat(64));
    chmodSync(file, 0o400);
    assert.equal(ensureToken(file), 'x'.repeat(64));
  }));

test('a short token set by the admin is accepted with a loud TOKEN_SHORT warning; a long one without', () =>
  withDir((dir) => {
    const file = path.join(dir, 'token');
    writeFileSync(file, 'ninechars\n', { mode: 0o600 });
    const w = warnings();
    assert.equal(ensureToken(file, w), 'ninechars');
    assert.equal(w.seen.length, 1);
    assert.equal(w.seen[0]!.code, 'TOKEN_SHORT');
    assert.equal(w.seen[0]!.length, 9);
    writeFileSync(file, `${'y'.repeat(MIN_TOKEN_LENGTH)}\n`, { mode: 0o600 });
    const quiet = warnings();
    ensureToken(file, quiet);
    assert.deepEqual(quiet.seen, []);
  }));

test('a missing token file is created: mode 0600, 64 random hex characters, no warning', () =>
  withDir((dir) => {
    const file = path.join(dir, 'sub', 'token');
    const w = warnings();
    const token = ensureToken(file, w);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), token);
    assert.equal(ensureToken(file, w), token, 'read back on the next start');
    assert.deepEqual(w.seen, []);
  }));

test('an empty file, a symbolic link and a directory are refused with their codes', () =>
  withDir((dir) => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n', { mode: 0o600 });
    assert.throws(() => ensureToken(empty), code('TOKEN_EMPTY'));
    const link = path.join(dir, 'link');
    symlinkSync(empty, link);
    assert.throws(() => ensureToken(link), code('TOKEN_FILE_SYMLINK'));
    assert.throws(() => ensureToken(dir), code('TOKEN_FILE_NOT_REGULAR'));
  }));
