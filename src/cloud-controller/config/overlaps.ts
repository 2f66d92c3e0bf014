/**
 * Overlap detection between inclusive integer intervals (IP ranges, subnets)
 * in O(n log n): sort, then sweep. Validation uses it for every "must not
 * overlap" rule, so a document with 10,000 list entries costs milliseconds,
 * not the 50 million comparisons of the pairwise approach.
 *
 * Model: a Span is an interval [lo, hi] carrying the item it came from.
 * Invariants: inputs are never mutated; each span is reported at most once
 * as the later member of a pair, so the output is at most n pairs.
 */

export interface Span<T> {
  readonly lo: number;
  readonly hi: number;
  readonly item: T;
}

const byLoThenHi = <T>(a: Span<T>, b: Span<T>) => a.lo - b.lo || a.hi - b.hi;

/**
 * Every span that overlaps another of the same list, paired with one span it
 * overlaps (the one reaching furthest among those starting at or before it).
 * Sweep: after sorting by start, a span overlaps an earlier one exactly when
 * it starts at or before the furthest end seen so far.
 */
export function selfOverlaps<T>(spans: readonly Span<T>[]): [Span<T>, Span<T>][] {
  const sorted = [...spans].sort(byLoThenHi);
  const out: [Span<T>, Span<T>][] = [];
  let widest: Span<T> | undefined;
  for (const s of sorted) {
    if (widest && s.lo <= widest.hi) out.push([widest, s]);
    if (!widest || s.hi > widest.hi) widest = s;
  }
  return out;
}

/**
 * For each span of `a` that overlaps some span of `b`, one such span of `b`.
 * `b` is sorted once with a running "furthest end" index; each span of `a`
 * then binary-searches the last `b` starting at or before its end: it overlaps
 * something in `b` exactly when the furthest-reaching of those ends at or after
 * its start.
 */
export function crossOverlaps<A, B>(a: readonly Span<A>[], b: readonly Span<B>[]): [Span<A>, Span<B>][] {
  if (a.length === 0 || b.length === 0) return [];
  const sorted = [...b].sort(byLoThenHi);
  const furthest: number[] = new Array<number>(sorted.length);
  let best = 0;
  sorted.forEach((s, i) => {
    if (s.hi > (sorted[best]?.hi ?? -1)) best = i;
    furthest[i] = best;
  });
  const out: [Span<A>, Span<B>][] = [];
  for (const s of a) {
    let lo = 0;
    let hi = sorted.length - 1;
    let last = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid]?.lo ?? Infinity) <= s.hi) {
        last = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (last < 0) continue;
    const candidate = sorted[furthest[last] ?? last];
    if (candidate && candidate.hi >= s.lo) out.push([s, candidate]);
  }
  return out;
}
