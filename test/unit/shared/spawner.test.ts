/**
 * The /bin/sh spawner (src/shared/spawner.ts) against the plain exec: the
 * same argv reaches the program, the same bytes come back, the same errors
 * are thrown; plus what only the spawner has (its files, its shell's jobs,
 * its death and restart, its fallback). Unprivileged: only /bin/sh and
 * coreutils. Each test uses its own directory and closes its spawner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createExec } from '../../../src/shared/exec.ts';
import { ExecError } from '../../../src/shared/errors.ts';
import { waitFor } from '../../../src/shared/wait.ts';
import { createSpawnerExec, resolveExecutable, shellQuote, type SpawnerEvent, type SpawnerExec } from '../../../src/shared/spawner.ts';

const plain = createExec();

async function withSpawner(fn: (s: SpawnerExec, dir: string, events: SpawnerEvent[]) => Promise<void>, opts: { shell?: string; dir?: string; killGraceMs?: number } = {}): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-spawner-'));
  const dir = opts.dir ?? path.join(base, 'exec');
  const events: SpawnerEvent[] = [];
  const s = createSpawnerExec({ dir, onEvent: (e) => events.push(e), ...(opts.shell ? { shell: opts.shell } : {}), ...(opts.killGraceMs ? { killGraceMs: opts.killGraceMs } : {}) });
  try {
    await fn(s, dir, events);
  } finally {
    await s.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

/** Child processes of `pid` and which of them are zombies (from /proc). */
function childrenOf(pid: number): { all: number[]; zombies: number[] } {
  const all: number[] = [];
  const zombies: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[1]) !== pid) continue;
    all.push(Number(p));
    if (f[0] === 'Z') zombies.push(Number(p));
  }
  return { all, zombies };
}

/** Pids whose command line contains `marker` (a unique argument). */
function pidsWith(marker: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(marker)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

async function failure(p: Promise<unknown>): Promise<ExecError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ExecError, `an ExecError, not ${String(err)}`);
    return err;
  }
  assert.fail('expected the command to fail');
}

const HOSTILE = [
  "it's",
  "'",
  "''",
  '"double" and \\backslash\\',
  '$(touch /tmp/edgenet-spawner-pwned)',
  '`touch /tmp/edgenet-spawner-pwned`',
  '${HOME} $HOME $0 $$ $! $?',
  'two  spaces\tand tab',
  'line1\nline2\n',
  '\n',
  '*',
  '/*',
  '?',
  '[a-z]',
  '~',
  '~root',
  '-n',
  '--',
  '-e',
  '; echo injected; #',
  '&& echo injected',
  '| cat',
  '> /tmp/edgenet-spawner-pwned',
  '#comment',
  '',
  ' ',
  'ünïcödé ✓ 𝄞',
  '\\',
  '!',
  '{a,b}',
  '\r\n',
  '\x01\x1b[31m',
];

test('hostile words reach the program exactly as given (as with the plain exec)', async () => {
  await withSpawner(async (s) => {
    const argv = ['/usr/bin/printf', '%s\\0', ...HOSTILE];
    const got = await s.run(argv);
    assert.deepEqual(got.stdout.split('\0').slice(0, -1), HOSTILE);
    assert.deepEqual(got, await plain.run(argv));
    assert.equal(fs.existsSync('/tmp/edgenet-spawner-pwned'), false, 'nothing was evaluated');
    // argv[0] by name, and a name that is also a shell builtin: the program runs, not the builtin.
    assert.deepEqual(await s.run(['printf', '%s|', 'a b']), { stdout: 'a b|', stderr: '', exitCode: 0 });
    assert.deepEqual(await s.run(['echo', '-e', 'a\\tb']), await plain.run(['echo', '-e', 'a\\tb']));
    const evalErr = await failure(s.run(['eval', 'echo pwned']));
    const plainEvalErr = await failure(plain.run(['eval', 'echo pwned']));
    assert.equal(evalErr.message, plainEvalErr.message, 'a builtin-only name is not found, as with the plain exec');
  });
});

test('shellQuote: single quotes only, a quote as quote-backslash-quote-quote', () => {
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote('$(x)'), "'$(x)'");
});

test('a word with a NUL byte is refused before anything runs', async () => {
  await withSpawner(async (s) => {
    const err = await failure(s.run(['/usr/bin/printf', 'a\0b']));
    assert.equal(err.exitCode, undefined);
    assert.match(err.message, /NUL/);
  });
});

test('input and output are byte-exact, trailing newlines and large outputs included', async () => {
  await withSpawner(async (s, dir) => {
    for (const input of ['', 'no newline', 'two\n\n', '\r\nCRLF\r\n', 'ünïcödé ✓ 𝄞\n', '\0inner nul\0']) {
      assert.deepEqual(await s.run(['cat'], { input }), { stdout: input, stderr: '', exitCode: 0 }, JSON.stringify(input));
    }
    // stderr as exactly
    assert.deepEqual(await s.run(['sh', '-c', 'printf "e1\\n\\n" >&2; printf o']), { stdout: 'o', stderr: 'e1\n\n', exitCode: 0 });
    // 8 MiB through input and output
    const big = 'abcdefghijklmno\n'.repeat(512 * 1024) + 'end';
    const r = await s.run(['cat'], { input: big });
    assert.equal(r.stdout.length, big.length);
    assert.ok(r.stdout === big, '8 MiB came back unchanged');
    // without input: end-of-file at once (never a pipe left open)
    assert.deepEqual(await s.run(['cat'], { timeoutMs: 5000 }), { stdout: '', stderr: '', exitCode: 0 });
    // the input file is private while the command runs
    assert.equal((await s.run(['stat', '-L', '-c', '%a', '/dev/stdin'], { input: 'x' })).stdout, '600\n');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(dir), [], 'every command file is gone after the runs');
  });
});

test('exit codes, okExitCodes and every ExecError equal the plain exec', async () => {
  await withSpawner(async (s, dir) => {
    const ok = await s.run(['sh', '-c', 'echo out; exit 3'], { okExitCodes: [0, 3] });
    assert.deepEqual(ok, { stdout: 'out\n', stderr: '', exitCode: 3 });
    const cases: { argv: string[]; timeoutMs?: number }[] = [
      { argv: ['sh', '-c', 'echo something >&2; exit 4'] },
      // empty stderr: createExec passes execa's message on, which carries stdout (escaped)
      { argv: ['sh', '-c', 'printf "out\\n\\tline2 \\033[31mred\\n\\n"; exit 1'] },
      { argv: ['false'] },
      { argv: ['/usr/bin/false', "it's", 'a b', 'ü\n'] },
      { argv: ['edgenet-no-such-command', 'a b'] },
      { argv: ['/nonexistent/edgenet/x', 'y'] },
      { argv: ['/etc/passwd'] },
      { argv: ['/tmp'] },
      { argv: ['sleep', '30'], timeoutMs: 200 },
    ];
    for (const c of cases) {
      const opts = c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {};
      const [mine, theirs] = await Promise.all([failure(s.run(c.argv, opts)), failure(plain.run(c.argv, opts))]);
      const fields = (e: ExecError) => ({ name: e.name, code: e.code, message: e.message, argv: e.argv, exitCode: e.exitCode, stderr: e.stderr });
      assert.deepEqual(fields(mine), fields(theirs), c.argv.join(' '));
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

test('a timeout stops the command (SIGTERM, then SIGKILL after the grace) and fails as "timed out after N ms"', async () => {
  await withSpawner(
    async (s) => {
      const marker = `edgenet-spawner-timeout-${process.pid}`;
      const t0 = Date.now();
      const err = await failure(s.run(['sh', '-c', 'sleep 30', marker], { timeoutMs: 150 }));
      assert.equal(err.exitCode, undefined);
      assert.match(err.message, /timed out after 150 ms/);
      assert.ok(Date.now() - t0 < 3000, 'failed promptly');
      // One that ignores SIGTERM is killed after the grace period.
      const stubborn = `edgenet-spawner-stubborn-${process.pid}`;
      const err2 = await failure(s.run(['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done', stubborn], { timeoutMs: 150 }));
      assert.match(err2.message, /timed out after 150 ms/);
      assert.deepEqual(pidsWith(stubborn), [], 'the command is gone');
    },
    { killGraceMs: 200 },
  );
});

test('a command the shell starts only after its timeout (a slow shell): the caller is not kept waiting, the late start is killed, its files are removed', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-spawner-slow-'));
  const slow = path.join(base, 'slowsh');
  const ready = path.join(base, 'ready');
  // Reads nothing for 1 s, then is the shell: the command's line waits in the pipe past timeout + grace.
  fs.writeFileSync(slow, `#!/bin/sh\nsleep 1\n: > '${ready}'\nexec /bin/sh\n`, { mode: 0o755 });
  try {
    await withSpawner(
      async (s, dir) => {
        const t0 = Date.now();
        const err = await failure(s.run(['sh', '-c', 'sleep 30; :'], { timeoutMs: 100 }));
        assert.match(err.message, /timed out after 100 ms/);
        assert.ok(Date.now() - t0 < 900, `failed before the shell started it (${Date.now() - t0} ms)`);
        await waitFor(() => fs.existsSync(ready), { timeoutMs: 5000, intervalMs: 10, what: 'the slow shell to start reading' });
        // The shell reads its lines in order: once the next command has run, the late one's job was forked.
        assert.deepEqual(await s.run(['/usr/bin/true']), { stdout: '', stderr: '', exitCode: 0 });
        const pid = s.shellPid;
        assert.ok(pid !== undefined);
        // Its P line got it killed (else its job would wait 30 s for it), its X line removed its files.
        await waitFor(() => childrenOf(pid).all.length === 0, { timeoutMs: 5000, intervalMs: 20, what: 'the late command killed (the shell with no job left)' });
        await waitFor(() => fs.readdirSync(dir).length === 0, { timeoutMs: 5000, intervalMs: 20, what: "the late command's files removed" });
      },
      { shell: slow, killGraceMs: 200 },
    );
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('50 commands in flight at once each get their own result', async () => {
  await withSpawner(async (s, dir) => {
    const runs = Array.from({ length: 50 }, (_, i) => s.run(['sh', '-c', `cat; echo " $1" >&2; exit $(($1 % 3))`, 'x', String(i)], { input: `in-${i}`, okExitCodes: [0, 1, 2] }));
    const results = await Promise.all(runs);
    results.forEach((r, i) => assert.deepEqual(r, { stdout: `in-${i}`, stderr: ` ${i}\n`, exitCode: i % 3 }));
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

test('no zombies and no leftover jobs: the shell reaps what has finished', async () => {
  await withSpawner(async (s) => {
    for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 6 }, () => s.run(['/usr/bin/true'])));
    const pid = s.shellPid;
    assert.ok(pid !== undefined);
    // The last commands' subshells exit just after reporting; the shell's `wait` reaps them.
    await waitFor(() => childrenOf(pid).all.length === 0, { timeoutMs: 3000, intervalMs: 20, what: 'the shell to have no children' });
    assert.deepEqual(childrenOf(pid).zombies, []);
  });
});

test('the shell killed mid-flight: the commands in flight fail clearly, are stopped, and the next run starts a new shell', async () => {
  await withSpawner(async (s, dir, events) => {
    await s.run(['/usr/bin/true']);
    const first = s.shellPid;
    assert.ok(first !== undefined);
    const marker = `edgenet-spawner-inflight-${process.pid}`;
    const inflight = failure(s.run(['sh', '-c', 'sleep 30', marker], { input: 'x' }));
    await waitFor(() => pidsWith(marker).length > 0, { timeoutMs: 3000, intervalMs: 10, what: 'the command to run' });
    process.kill(first, 'SIGKILL');
    const err = await inflight;
    assert.equal(err.exitCode, undefined);
    assert.match(err.message, /the shell running commands \(\/bin\/sh, pid \d+\) exited \(SIGKILL\) while this command was in flight; .*not re-run/);
    await waitFor(() => pidsWith(marker).length === 0, { timeoutMs: 3000, intervalMs: 20, what: 'the orphaned command to be stopped' });
    assert.deepEqual(await s.run(['echo', 'again']), { stdout: 'again\n', stderr: '', exitCode: 0 });
    assert.notEqual(s.shellPid, first);
    assert.deepEqual(
      events.filter((e) => e.kind === 'died').map((e) => e.kind === 'died' && [e.pid, e.how, e.failed]),
      [[first, 'SIGKILL', 1]],
    );
    await waitFor(() => fs.readdirSync(dir).length === 0, { timeoutMs: 3000, intervalMs: 20, what: 'the files to be removed' });
  });
});

test('a shell that cannot start: every command runs through the plain exec, reported once', async () => {
  await withSpawner(
    async (s, _dir, events) => {
      assert.deepEqual(await s.run(['echo', 'a']), { stdout: 'a\n', stderr: '', exitCode: 0 });
      assert.deepEqual(await s.run(['echo', 'b']), { stdout: 'b\n', stderr: '', exitCode: 0 });
      assert.equal(s.mode, 'plain');
      assert.deepEqual(events.map((e) => e.kind), ['fallback']);
    },
    { shell: '/nonexistent/edgenet/sh' },
  );
  // A directory that cannot be created (under a regular file).
  await withSpawner(
    async (s, _dir, events) => {
      assert.deepEqual(await s.run(['echo', 'c']), { stdout: 'c\n', stderr: '', exitCode: 0 });
      assert.equal(s.mode, 'plain');
      assert.equal(events.length, 1);
      assert.match(events[0]!.kind === 'fallback' ? events[0]!.reason : '', /ENOTDIR/);
    },
    { dir: '/etc/hostname/exec' },
  );
});

test('the directory removed under a running spawner: the command then fails clearly, the next ones work', async () => {
  await withSpawner(async (s, dir) => {
    await s.run(['/usr/bin/true']);
    fs.rmSync(dir, { recursive: true });
    const err = await failure(s.run(['echo', 'lost']));
    assert.match(err.message, /output could not be read back .*ENOENT.*the shell said: .*cannot create/);
    assert.deepEqual(await s.run(['echo', 'back']), { stdout: 'back\n', stderr: '', exitCode: 0 });
    fs.rmSync(dir, { recursive: true });
    await failure(s.run(['cat'], { input: 'x' }));
    assert.deepEqual(await s.run(['cat'], { input: 'y' }), { stdout: 'y', stderr: '', exitCode: 0 });
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  });
});

test('env or cwd: that call runs through the plain exec (the shell has one environment and directory)', async () => {
  await withSpawner(async (s) => {
    assert.equal((await s.run(['pwd'], { cwd: '/usr' })).stdout, '/usr\n');
    assert.equal((await s.run(['sh', '-c', 'echo "$EDGENET_SPAWNER_T"'], { env: { EDGENET_SPAWNER_T: 'v' } })).stdout, 'v\n');
    assert.equal(s.shellPid, undefined, 'no shell was needed');
  });
});

test('leftovers of an earlier process are swept at start; other files stay', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-spawner-'));
  const dir = path.join(base, 'exec');
  fs.mkdirSync(dir, { mode: 0o755 });
  for (const f of ['123-4.in', '123-4.out', '123-5.err', 'keep.txt']) fs.writeFileSync(path.join(dir, f), 'x');
  await withSpawner(
    async (s) => {
      await s.run(['/usr/bin/true']);
      assert.deepEqual(fs.readdirSync(dir), ['keep.txt']);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700, 'made private');
    },
    { dir },
  );
  fs.rmSync(base, { recursive: true, force: true });
});

test('close(): the commands in flight finish, the shell ends, later runs use the plain exec', async () => {
  await withSpawner(async (s) => {
    const inflight = s.run(['sh', '-c', 'sleep 0.2; echo done']);
    await waitFor(() => s.shellPid !== undefined, { timeoutMs: 3000, intervalMs: 5, what: 'the shell' });
    const pid = s.shellPid!;
    await s.close();
    assert.deepEqual(await inflight, { stdout: 'done\n', stderr: '', exitCode: 0 });
    await waitFor(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), { timeoutMs: 3000, intervalMs: 20, what: 'the shell to exit' });
    assert.equal(s.mode, 'closed');
    assert.deepEqual(await s.run(['echo', 'after']), { stdout: 'after\n', stderr: '', exitCode: 0 });
  });
});

test('resolveExecutable: execvp order; EACCES only when nothing executable matched', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-spawner-path-'));
  try {
    const a = path.join(base, 'a');
    const b = path.join(base, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, 'tool'), '', { mode: 0o644 });
    fs.writeFileSync(path.join(b, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    fs.mkdirSync(path.join(a, 'dir'));
    assert.deepEqual(resolveExecutable('tool', `${a}:${b}`), { ok: true, path: path.join(b, 'tool') });
    assert.deepEqual(resolveExecutable('dir', `${a}:${b}`), { ok: false, code: 'EACCES' });
    assert.deepEqual(resolveExecutable('none', `${a}:${b}`), { ok: false, code: 'ENOENT' });
    assert.deepEqual(resolveExecutable(path.join(b, 'tool'), ''), { ok: true, path: path.join(b, 'tool') });
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});
