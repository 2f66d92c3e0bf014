/**
 * The bounded memory of WS-Security requests already accepted, so the same
 * signed request cannot be sent twice (shared/soap/wssec.ts).
 *
 * An entry is kept until the request's own acceptance window ends (its signed
 * Timestamp's expiry plus the clock skew): after that the timestamp check
 * refuses the request anyway, so forgetting it opens nothing. Only requests
 * whose signature verified are remembered, so only the trusted peer can fill
 * the cache; when it is full of unexpired entries the request is refused (fail
 * closed) instead of evicting an entry, which would re-open that entry to a
 * replay.
 */
export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

export class ReplayCache {
  /** key → end of its window (epoch ms); insertion order is roughly expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records `key` until `until` (epoch ms) unless it is already held; `now` sweeps expired entries. */
  remember(key: string, until: number, now: number): ReplayVerdict {
    const held = this.seen.get(key);
    if (held !== undefined && held >= now) return 'replayed';
    if (held !== undefined) this.seen.delete(key);
    if (this.seen.size >= this.maxEntries) this.sweep(now);
    if (this.seen.size >= this.maxEntries) return 'full';
    this.seen.set(key, until);
    return 'fresh';
  }

  private sweep(now: number): void {
    for (const [key, until] of this.seen) if (until < now) this.seen.delete(key);
  }
}
