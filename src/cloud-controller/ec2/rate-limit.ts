/**
 * The EC2 endpoint's per-access-key rate limit (issue 15): a token bucket per
 * key, `rate` tokens a second up to `burst`; a request takes one token or is
 * refused (RequestLimitExceeded, 503).
 *
 * Only requests whose signature verified take tokens, so nobody can drain a
 * key's bucket without its secret, and the keys tracked are real ones.
 * Memory is bounded all the same: past `maxKeys` buckets, the ones that have
 * refilled completely (indistinguishable from a new bucket) are dropped, and
 * if that is not enough the least recently used go. Time comes from `now`
 * (the CLC's clock), so tests move it instead of sleeping.
 */

export interface RateLimitOptions {
  /** Tokens added per second. */
  readonly rate: number;
  /** Bucket size: the most requests in a burst. */
  readonly burst: number;
  /** Most buckets kept (default 10,000). */
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;

  constructor(private readonly options: RateLimitOptions) {
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Takes a token for `key` at `now` (ms); false when the bucket is empty. */
  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: Map order is least recently used first
      bucket.tokens = this.level(bucket, now);
      bucket.at = now;
    } else {
      bucket = { tokens: this.options.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.evict(now);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Buckets tracked (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private level(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    return Math.min(this.options.burst, bucket.tokens + elapsed * this.options.rate);
  }

  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.level(bucket, now) >= this.options.burst) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
