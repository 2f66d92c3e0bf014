/**
 * FileWatcher: a rename into place (how the NC writes the shared file) is seen
 * by the chokidar event and by the poll; with events off, the poll alone
 * still sees it (a missed event does not matter).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileWatcher } from '../../../src/netd/watcher.ts';
import { FakeClock, systemClock } from '../../../src/shared/clock.ts';
import { writeFileAtomic } from '../../../src/shared/files.ts';

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('chokidar sees the shared file replaced by rename', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'h6w-'));
  const file = path.join(dir, 'global_network_info.xml');
  const seen: string[] = [];
  const w = new FileWatcher({ file, pollMs: 3_600_000, clock: systemClock, onChange: (s) => seen.push(s) });
  try {
    await w.start();
    await new Promise((r) => setTimeout(r, 200));
    await writeFileAtomic(path.join(dir, 'other.txt'), 'x');
    await writeFileAtomic(file, '<network-data/>');
    await until(() => seen.includes('file'));
    assert.ok(seen.every((s) => s === 'file'));
  } finally {
    await w.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('with events off, the poll alone notices a change, a removal, and stays quiet otherwise', async () => {
  const clock = new FakeClock();
  let sig: string | undefined = 'a';
  const seen: string[] = [];
  let ticks = 0;
  const w = new FileWatcher({ file: '/x', pollMs: 1000, clock, events: false, stat: async () => sig, onChange: (s) => seen.push(s), onTick: () => ticks++ });
  await w.start();
  await clock.advance(3000);
  assert.deepEqual(seen, []);
  assert.equal(ticks, 3);
  sig = 'b';
  await clock.advance(1000);
  assert.deepEqual(seen, ['poll']);
  sig = undefined;
  await clock.advance(1000);
  assert.deepEqual(seen, ['poll', 'poll']);
  await w.stop();
  assert.equal(clock.timerCount, 0);
});

test('a change the event reported is not reported again by the poll; a later change is', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'h6w-'));
  const file = path.join(dir, 'global_network_info.xml');
  const seen: string[] = [];
  // Real chokidar events, polls driven by a FakeClock (so the order is ours, not the scheduler's).
  const clock = new FakeClock();
  const w = new FileWatcher({ file, pollMs: 1000, clock, onChange: (s) => seen.push(s) });
  try {
    await w.start();
    await new Promise((r) => setTimeout(r, 200));
    await writeFileAtomic(file, '<network-data version="1"/>');
    await until(() => seen.includes('file'));
    for (let k = 0; k < 5; k++) await clock.advance(1000);
    await new Promise((r) => setTimeout(r, 50)); // let the polls' stats finish
    assert.deepEqual(seen.filter((s) => s === 'poll'), [], `the poll re-reported an already reported change: ${seen.join(',')}`);
    // A replacement whose event is lost (events stopped): the poll still reports it.
    await w.stop();
    const polled: string[] = [];
    const w2 = new FileWatcher({ file, pollMs: 1000, clock, events: false, onChange: (s) => polled.push(s) });
    await w2.start();
    try {
      await writeFileAtomic(file, '<network-data version="2"/>');
      await clock.advance(1000);
      await until(() => polled.includes('poll'));
    } finally {
      await w2.stop();
    }
  } finally {
    await w.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
