import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/shared/clock.ts';
import { BoundedFrequencyRunner, type RunContext } from '../../../src/shared/runner.ts';

function setup(run: (ctx: RunContext) => Promise<void>) {
  const clock = new FakeClock(0);
  const runner = new BoundedFrequencyRunner({ name: 't', clock, run, minIntervalMs: 100, maxIntervalMs: 10_000, retryBaseMs: 1000, retryMaxMs: 8000 });
  return { clock, runner };
}

test('bursts of requests coalesce into one run per min interval', async () => {
  const runs: RunContext[] = [];
  const { clock, runner } = setup(async (ctx) => { runs.push(ctx); });
  runner.start();
  await clock.advance(0);
  assert.equal(runs.length, 1);
  for (let i = 0; i < 50; i++) runner.request();
  await clock.advance(99);
  assert.equal(runs.length, 1, 'no run before the minimum interval');
  await clock.advance(1);
  assert.equal(runs.length, 2, 'fifty requests became one run');
  assert.equal(runs[1]!.reason, 'request');
  runner.stop();
});

test('periodic run fires after the max interval without requests', async () => {
  const runs: RunContext[] = [];
  const { clock, runner } = setup(async (ctx) => { runs.push(ctx); });
  runner.start();
  await clock.advance(0);
  await clock.advance(9_999);
  assert.equal(runs.length, 1);
  await clock.advance(1);
  assert.equal(runs.length, 2);
  assert.equal(runs[1]!.reason, 'periodic');
  runner.stop();
});

test('failures back off exponentially, capped, and success resets', async () => {
  const times: number[] = [];
  let fail = 5;
  const { clock, runner } = setup(async () => {
    times.push(clock.now());
    if (fail-- > 0) throw new Error('boom');
  });
  runner.start();
  await clock.advance(60_000);
  // runs at 0, +1000, +2000, +4000, +8000, +8000 (cap), then success.
  assert.deepEqual(times.slice(0, 6), [0, 1000, 3000, 7000, 15000, 23000]);
  assert.equal(runner.consecutiveFailures, 0);
  runner.stop();
});

test('a request during a run causes exactly one more run', async () => {
  let release!: () => void;
  let count = 0;
  const { clock, runner } = setup(async () => {
    count++;
    if (count === 1) await new Promise<void>((r) => { release = r; });
  });
  runner.start();
  await clock.advance(0);
  runner.request();
  runner.request();
  release();
  await clock.advance(100);
  assert.equal(count, 2);
  await clock.advance(100);
  assert.equal(count, 2);
  runner.stop();
});

test('stop after a failed run: idle() resolves although a retry was pending (netd --once used to hang here)', async () => {
  const { clock, runner } = setup(async () => {
    throw new Error('boom');
  });
  runner.start();
  await clock.advance(0);
  assert.equal(runner.consecutiveFailures, 1, 'the run failed and a retry is scheduled');
  runner.stop();
  let idle = false;
  void runner.idle().then(() => (idle = true));
  await clock.advance(0);
  assert.equal(idle, true, 'idle() resolved without the retry');
  await clock.advance(60_000);
  assert.equal(runner.consecutiveFailures, 1, 'no retry ran after stop');
});
