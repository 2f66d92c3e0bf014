/**
 * The CLCs that run on a database (table clc_members): each CLC upserts its
 * row (id, api_url, host, pid, started_at, seen_at) every ANNOUNCE_MS and
 * deletes it on a clean stop, so `edgenet status` lists the followers and
 * how recently each was seen. A CLC killed outright leaves its row; a row
 * not seen for FORGET_MS is deleted by whichever CLC announces next (and a
 * restarted CLC with the same id simply updates it).
 *
 * The writes announce no change (nothing to broadcast, nothing to
 * invalidate). Failures (the database away) are logged once per outage;
 * the next announcement retries.
 */
import * as os from 'node:os';
import type { Store } from '../db/store.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Clock, TimerHandle } from '../../shared/clock.ts';
import { errorMessage } from '../../shared/errors.ts';

export const ANNOUNCE_MS = 2000;
/** Rows of CLCs not seen for this long are removed. */
export const FORGET_MS = 600_000;

export interface MemberOptions {
  readonly id: string;
  readonly apiUrl?: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly host?: string;
  readonly pid?: number;
  readonly announceMs?: number;
}

export class Members {
  private timer: TimerHandle | undefined;
  private stopped = true;
  private failing = false;
  private startedAt = 0;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly options: MemberOptions,
  ) {}

  /** Announces this CLC (first write awaited; a failure is logged, not thrown) and keeps announcing. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.startedAt = this.options.clock.now();
    await this.announce();
  }

  /** Stops announcing and removes this CLC's row (best effort). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.store.write(async (tx) => {
      await tx.db.deleteFrom('clc_members').where('id', '=', this.options.id).execute();
    }).catch((err: unknown) => this.options.logger.debug('could not remove this CLC from clc_members', { error: errorMessage(err) }));
  }

  private async announce(): Promise<void> {
    const now = this.options.clock.now();
    const row = {
      id: this.options.id,
      api_url: this.options.apiUrl ?? null,
      host: this.options.host ?? os.hostname(),
      pid: this.options.pid ?? process.pid,
      started_at: this.startedAt,
      seen_at: now,
    };
    this.inFlight = this.store
      .write(async (tx) => {
        await tx.db
          .insertInto('clc_members')
          .values(row)
          .onConflict((oc) => oc.column('id').doUpdateSet({ api_url: row.api_url, host: row.host, pid: row.pid, started_at: row.started_at, seen_at: row.seen_at }))
          .execute();
        await tx.db.deleteFrom('clc_members').where('seen_at', '<', now - FORGET_MS).execute();
      })
      .then(
        () => {
          if (this.failing) this.options.logger.info('announcing this CLC in clc_members works again');
          this.failing = false;
        },
        (err: unknown) => {
          if (!this.failing) this.options.logger.warn('could not announce this CLC in clc_members; retrying', { error: errorMessage(err) });
          this.failing = true;
        },
      );
    await this.inFlight;
    this.inFlight = undefined;
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      void this.announce();
    }, this.options.announceMs ?? ANNOUNCE_MS);
  }
}
