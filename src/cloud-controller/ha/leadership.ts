/**
 * Starts this CLC's leadership for its store: SoleLeadership on SQLite (one
 * CLC per file, always the leader), PostgresLeadership on PostgreSQL (elected
 * through the database, postgres-election.ts); either way this CLC is
 * announced in clc_members (members.ts). main.ts starts it once the admin
 * API listens (the advertised apiUrl is known) and before the plugins, and
 * stops it after the plugins, before the store.
 */
import type { Leadership } from '../contracts.ts';
import type { Store } from '../db/store.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Clock } from '../../shared/clock.ts';
import { SoleLeadership } from './sole.ts';
import { PostgresLeadership, type ElectionTimings } from './postgres-election.ts';
import { Members } from './members.ts';

export interface RunningLeadership extends Leadership {
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  /** This CLC's id (clc.conf CLC_ID). */
  readonly id: string;
  /** The admin API URL other CLCs reach this one at (followers proxy /v1/status to the leader's). */
  readonly apiUrl?: string;
  /** The store's location (the PostgreSQL URL with its password: the election opens its own connection). */
  readonly location: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timings?: Partial<ElectionTimings>;
  readonly announceMs?: number;
}

export async function startLeadership(store: Store, options: LeadershipOptions): Promise<RunningLeadership> {
  const apiUrl = options.apiUrl !== undefined ? { apiUrl: options.apiUrl } : {};
  const election =
    store.kind === 'postgres'
      ? new PostgresLeadership(options.id, store, { url: options.location, logger: options.logger, clock: options.clock, ...apiUrl, ...(options.timings ? { timings: options.timings } : {}) })
      : new SoleLeadership(options.id, store, { now: () => options.clock.now(), ...apiUrl });
  const members = new Members(store, { id: options.id, logger: options.logger, clock: options.clock, ...apiUrl, ...(options.announceMs !== undefined ? { announceMs: options.announceMs } : {}) });
  await members.start();
  try {
    await election.start();
  } catch (err) {
    await members.stop();
    throw err;
  }
  return {
    id: election.id,
    role: () => election.role(),
    term: () => election.term(),
    view: () => election.view(),
    onRoleChange: (listener) => election.onRoleChange(listener),
    async stop() {
      await election.stop();
      await members.stop();
    },
  };
}
