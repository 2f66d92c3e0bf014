/** The sort-and-sweep overlap finders agree with the obvious quadratic check on random inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossOverlaps, selfOverlaps } from '../../../src/cloud-controller/config/overlaps.ts';
import type { Span } from '../../../src/cloud-controller/config/overlaps.ts';

/** Small deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function spans(rand: () => number, n: number, width: number): Span<number>[] {
  return Array.from({ length: n }, (_, i) => {
    const lo = Math.floor(rand() * 200);
    return { lo, hi: lo + Math.floor(rand() * width), item: i };
  });
}

const overlap = (a: Span<number>, b: Span<number>) => a.lo <= b.hi && b.lo <= a.hi;

test('selfOverlaps flags exactly the spans that overlap an earlier-starting one, with a real partner', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = rng(seed);
    const list = spans(rand, 1 + Math.floor(rand() * 30), 1 + Math.floor(rand() * 20));
    const pairs = selfOverlaps(list);
    for (const [a, b] of pairs) assert.ok(overlap(a, b) && a !== b, `seed ${seed}`);
    // Someone is flagged in every overlapping pair (the later of the two in sweep order).
    const flagged = new Set(pairs.flatMap(([a, b]) => [a.item, b.item]));
    for (const x of list) for (const y of list) if (x !== y && overlap(x, y)) assert.ok(flagged.has(x.item) || flagged.has(y.item), `seed ${seed}`);
    // No overlap, no report.
    const anyOverlap = list.some((x) => list.some((y) => x !== y && overlap(x, y)));
    assert.equal(pairs.length > 0, anyOverlap, `seed ${seed}`);
    assert.ok(pairs.length < list.length);
  }
});

test('crossOverlaps reports each span of a that overlaps some span of b, and only those', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = rng(seed * 7919);
    const a = spans(rand, Math.floor(rand() * 25), 1 + Math.floor(rand() * 15));
    const b = spans(rand, Math.floor(rand() * 25), 1 + Math.floor(rand() * 15));
    const pairs = crossOverlaps(a, b);
    for (const [x, y] of pairs) assert.ok(overlap(x, y), `seed ${seed}`);
    const reported = pairs.map(([x]) => x.item).sort((p, q) => p - q);
    const expected = a.filter((x) => b.some((y) => overlap(x, y))).map((x) => x.item).sort((p, q) => p - q);
    assert.deepEqual(reported, expected, `seed ${seed}`);
  }
});
