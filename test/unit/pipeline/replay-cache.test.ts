/**
 * The WS-Security replay cache (src/shared/soap/replay-cache.ts): a key is
 * refused while its window lasts, forgotten after it, and a full cache of
 * unexpired keys refuses new ones instead of forgetting an old one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayCache } from '../../../src/shared/soap/replay-cache.ts';

test('a key is a replay until its window ends, then fresh again', () => {
  const cache = new ReplayCache(10);
  assert.equal(cache.remember('a', 1000, 0), 'fresh');
  assert.equal(cache.remember('a', 1000, 500), 'replayed');
  assert.equal(cache.remember('a', 1000, 1000), 'replayed', 'the window end is inclusive');
  assert.equal(cache.remember('a', 3000, 1001), 'fresh', 'after the window the timestamp check refuses it anyway');
});

test('bounded: full of unexpired keys refuses new ones (never evicts a live one); expired ones are swept to make room', () => {
  const cache = new ReplayCache(2);
  assert.equal(cache.remember('a', 100, 0), 'fresh');
  assert.equal(cache.remember('b', 200, 0), 'fresh');
  assert.equal(cache.remember('c', 300, 50), 'full');
  assert.equal(cache.remember('a', 100, 60), 'replayed', 'a is still remembered');
  assert.equal(cache.remember('c', 300, 150), 'fresh', 'a expired and was swept');
  assert.equal(cache.size, 2);
  assert.equal(cache.remember('b', 200, 160), 'replayed');
});
