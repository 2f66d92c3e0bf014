/** The per-access-key token bucket (src/cloud-controller/ec2/rate-limit.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../src/cloud-controller/ec2/rate-limit.ts';

test('a bucket: burst, then rate tokens per second, never above burst', () => {
  const r = new RateLimiter({ rate: 50, burst: 200 });
  const t0 = 1_000_000;
  let granted = 0;
  for (let i = 0; i < 300; i++) if (r.take('k', t0)) granted++;
  assert.equal(granted, 200);
  assert.equal(r.take('k', t0 + 19), false); // 0.95 token
  assert.equal(r.take('k', t0 + 20), true); // 1 token after 20 ms at 50/s
  // A long idle refills to the burst, not beyond.
  let after = 0;
  for (let i = 0; i < 300; i++) if (r.take('k', t0 + 3_600_000)) after++;
  assert.equal(after, 200);
  // A clock that steps back gives nothing extra.
  assert.equal(r.take('k', t0), false);
});

test('memory is bounded: full buckets go first, then the least recently used', () => {
  const r = new RateLimiter({ rate: 1, burst: 2, maxKeys: 3 });
  r.take('a', 0);
  r.take('a', 0); // a drained
  r.take('b', 0);
  r.take('c', 0);
  assert.equal(r.size, 3);
  // At t=1.5 s b and c have refilled (full, forgettable); a has not (1.5 of 2).
  r.take('d', 1500);
  assert.equal(r.size, 2);
  assert.equal(r.take('a', 1500), true); // a kept its state: 1.5 tokens → 0.5
  assert.equal(r.take('a', 1500), false);
  // All drained and no room: the least recently used goes.
  const s = new RateLimiter({ rate: 1, burst: 1, maxKeys: 2 });
  s.take('x', 0);
  s.take('y', 0);
  s.take('z', 0);
  assert.equal(s.size, 2);
  assert.equal(s.take('x', 0), true, 'x was evicted, so it starts with a full bucket');
});
