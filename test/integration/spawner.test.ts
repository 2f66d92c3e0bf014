/**
 * The spawner's shell over a long run: 4,002 commands through one /bin/sh
 * leave no zombie and do not grow the shell (dash keeps a zombie and a
 * job-table entry per background job until a builtin reaps them: the control
 * case shows it, so the fix in spawner.ts stays needed and proven).
 * Unprivileged, ~30 s on a 2-CPU machine (20,000 commands, run once by hand
 * when the reaping was written: VmRSS 1648 → 1656 kB, VmData unchanged).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from '../../src/shared/wait.ts';
import { createSpawnerExec } from '../../src/shared/spawner.ts';

function children(pid: number): { all: number; zombies: number } {
  let all = 0;
  let zombies = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) !== pid) continue;
      all++;
      if (f[0] === 'Z') zombies++;
    } catch {
      // gone
    }
  }
  return { all, zombies };
}

/** VmRSS and VmData of a process, kB. */
function memory(pid: number): { rss: number; data: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1]), data: Number(/VmData:\s+(\d+)/.exec(s)?.[1]) };
}

test('control: a bare /bin/sh running background jobs keeps every finished one as a zombie', async () => {
  const sh = spawn('/bin/sh', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    const n = 300;
    let seen = 0;
    const done = new Promise<void>((resolve) => {
      sh.stdout.setEncoding('utf8');
      sh.stdout.on('data', (chunk: string) => {
        seen += chunk.split('\n').filter((l) => l.startsWith('X ')).length;
        if (seen >= n) resolve();
      });
    });
    for (let i = 0; i < n; i++) sh.stdin.write(`{ /usr/bin/true </dev/null >/dev/null 2>&1 & wait $!; echo "X ${i} $?"; } &\n`);
    await done;
    const pid = sh.pid!;
    await waitFor(() => children(pid).zombies === n, { timeoutMs: 10_000, intervalMs: 50, what: `${n} zombies of the bare shell` });
  } finally {
    sh.kill('SIGKILL');
  }
});

test('4,002 commands through one shell: no zombies, no growth, no files left', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-spawner-long-'));
  const dir = path.join(base, 'exec');
  const s = createSpawnerExec({ dir });
  try {
    await s.run(['/usr/bin/true']);
    const pid = s.shellPid!;
    await waitFor(() => children(pid).all === 0, { timeoutMs: 5000, intervalMs: 20, what: 'an idle shell' });
    const before = memory(pid);
    let maxChildren = 0;
    // A multiple of 6 (the loop's step). Unreaped, these would leave 4,002 zombies and grow VmData ~150 kB.
    const total = 4_002;
    let done = 0;
    const t0 = Date.now();
    while (done < total) {
      // Alternate sequential commands and bursts of 6 (netd's parallel reads).
      if ((done / 6) % 2 < 1) {
        await Promise.all(Array.from({ length: 6 }, (_, i) => s.run(['/usr/bin/printf', '%s', String(done + i)]).then((r) => assert.equal(r.stdout, String(done + i)))));
        done += 6;
      } else {
        for (let i = 0; i < 6; i++) assert.equal((await s.run(['/usr/bin/printf', '%s', String(done + i)])).stdout, String(done + i));
        done += 6;
      }
      if (done % 600 === 0) maxChildren = Math.max(maxChildren, children(pid).all);
    }
    const ms = Date.now() - t0;
    assert.equal(s.shellPid, pid, 'one shell throughout');
    await waitFor(() => children(pid).all === 0, { timeoutMs: 5000, intervalMs: 20, what: 'no children once idle' });
    const after = memory(pid);
    process.stdout.write(`# ${done} commands in ${ms} ms (${(ms / done).toFixed(2)} ms each); shell VmRSS ${before.rss} → ${after.rss} kB, VmData ${before.data} → ${after.data} kB; most children seen ${maxChildren}\n`);
    // Unreaped, 20,000 jobs grew dash's VmData by ~780 kB (~39 bytes a job) and left 20,000 zombies.
    assert.ok(after.data - before.data < 100, `VmData grew ${after.data - before.data} kB`);
    assert.ok(after.rss - before.rss < 200, `VmRSS grew ${after.rss - before.rss} kB`);
    assert.ok(maxChildren <= 24, `at most a few jobs at a time (saw ${maxChildren})`);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    await s.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
});
