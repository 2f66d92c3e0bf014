/**
 * Leadership on PostgreSQL: several CLCs on one database, exactly one leads
 * (builds, sequences and broadcasts documents).
 *
 * Model: the leader is the CLC whose DEDICATED connection (a pg.Client of
 * its own, never the pool: a session advisory lock belongs to one backend)
 * holds the session advisory lock LEADER_LOCK_KEY. Followers ask
 * `pg_try_advisory_lock` every RETRY_MS on their own dedicated connection.
 * The winner takes a term (terms.ts: meta.leader_term + 1, a clc_terms row,
 * written only while its lock session still holds the lock) and only then
 * tells its role listeners `true`.
 *
 * Losing it: the leader heartbeats its lock connection (`SELECT 1`) every
 * HEARTBEAT_MS; when a heartbeat fails or does not answer within
 * HEARTBEAT_TIMEOUT_MS, or the connection errors or ends (server restart,
 * pg_terminate_backend, network), it tells its listeners `false` FIRST —
 * the broadcaster stops at once — and only then drops the connection and
 * starts over as a follower. So a leader notices within HEARTBEAT_MS +
 * HEARTBEAT_TIMEOUT_MS (~1.5 s).
 *
 * The server side of the same bound: the lock session sets
 * `idle_session_timeout` (IDLE_SESSION_TIMEOUT_MS, 3 s > the leader's own
 * step-down time) and TCP keepalives of 1 s, so when a leader's process or
 * network is gone PostgreSQL ends its session — releasing the lock — within
 * about 3 s, and a follower (asking every 0.5 s) takes over well inside the
 * 5 s target. A leader killed outright (kill -9) loses its socket at once:
 * the server sees the connection close and releases the lock immediately.
 *
 * Overlap is still fenced: a deposed leader that has not noticed yet cannot
 * draw a sequence (CloudState.nextSequence checks its term is the newest)
 * and its documentBuilt/nodesApplied are ignored; the CCs refuse an older
 * (generation, sequence) anyway.
 *
 * A CLC that just lost leadership waits REJOIN_MS before competing again,
 * so a healthy follower takes over rather than the CLC whose connection
 * just failed.
 */
import pg from 'pg';
import type { ClcRole, Leadership, LeadershipView } from '../contracts.ts';
import type { Store } from '../db/store.ts';
import { clientConfig, PG_APPLICATION } from '../db/postgres.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Clock, TimerHandle } from '../../shared/clock.ts';
import { errorMessage } from '../../shared/errors.ts';
import { readLeadershipView, takeTerm } from './terms.ts';

/** Session advisory lock held by the leading CLC (store.ts WRITE_LOCK_KEY and migrations.ts MIGRATE_LOCK_KEY are its neighbours). */
export const LEADER_LOCK_KEY = 0x6564_6e03;

export interface ElectionTimings {
  /** How often a follower asks for the lock. */
  readonly retryMs: number;
  /** How often the leader checks its lock connection. */
  readonly heartbeatMs: number;
  /** A heartbeat not answered within this is a failure (the leader steps down). */
  readonly heartbeatTimeoutMs: number;
  /** The lock session's idle_session_timeout: the server ends a silent leader's session (and lock) after this. */
  readonly idleSessionTimeoutMs: number;
  /** A CLC that lost leadership (or its connection) waits this long before asking again. */
  readonly rejoinMs: number;
}

export const DEFAULT_TIMINGS: ElectionTimings = { retryMs: 500, heartbeatMs: 500, heartbeatTimeoutMs: 1000, idleSessionTimeoutMs: 3000, rejoinMs: 1500 };

export interface PostgresLeadershipOptions {
  /** The database URL (the store's DB setting, with its password). */
  readonly url: string;
  readonly apiUrl?: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timings?: Partial<ElectionTimings>;
}

type Role = { readonly role: ClcRole; readonly since: number; readonly term?: number };

export class PostgresLeadership implements Leadership {
  private readonly timings: ElectionTimings;
  private readonly listeners = new Set<(leading: boolean) => void>();
  private client: pg.Client | undefined;
  private current: Role;
  private timer: TimerHandle | undefined;
  private heartbeat: TimerHandle | undefined;
  private busy = false;
  private stopped = true;
  /** Bumped whenever the lock connection is dropped: an attempt that outlived its connection does not lead. */
  private epoch = 0;

  constructor(
    readonly id: string,
    private readonly store: Store,
    private readonly options: PostgresLeadershipOptions,
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.current = { role: 'follower', since: options.clock.now() };
  }

  /** Starts competing; resolves after the first attempt (a lone CLC leads when this returns). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.current = { role: 'follower', since: this.options.clock.now() };
    await this.attempt();
  }

  /** Clean stop: listeners hear `false`, the lock is released at once (the session ends). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    const wasLeader = this.current.role === 'leader';
    this.current = { role: 'follower', since: this.options.clock.now() };
    if (wasLeader) this.emit(false);
    const client = this.client;
    this.client = undefined;
    this.epoch++;
    if (client) {
      if (wasLeader) await withTimeout(client.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK_KEY]), 1000).catch(() => undefined);
      await withTimeout(client.end(), 2000).catch(() => undefined);
    }
  }

  role(): ClcRole {
    return this.current.role;
  }

  term(): number | undefined {
    return this.current.term;
  }

  view(): Promise<LeadershipView> {
    return readLeadershipView(this.store, { id: this.id, role: this.current.role, roleSince: this.current.since, election: 'postgres' });
  }

  onRoleChange(listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener);
    if (this.current.role === 'leader') queueMicrotask(() => {
      if (this.listeners.has(listener) && this.current.role === 'leader') listener(true);
    });
    return () => this.listeners.delete(listener);
  }

  /** The backend pid of the lock connection (tests terminate it). */
  async backendPid(): Promise<number | undefined> {
    const r = await this.client?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return r?.rows[0]?.pid;
  }

  private emit(leading: boolean): void {
    for (const l of [...this.listeners]) {
      try {
        l(leading);
      } catch (err) {
        this.options.logger.error('leadership listener failed', { error: errorMessage(err) });
      }
    }
  }

  private clearTimers(): void {
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    if (this.heartbeat) this.options.clock.clearTimeout(this.heartbeat);
    this.timer = undefined;
    this.heartbeat = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      void this.attempt();
    }, ms);
  }

  /** One follower step: connect if needed, ask for the lock, take a term when it is ours. */
  private async attempt(): Promise<void> {
    if (this.stopped || this.busy || this.current.role === 'leader') return;
    this.busy = true;
    try {
      const client = this.client ?? (await this.connect());
      const epoch = this.epoch;
      const got = await client.query<{ ok: boolean; pid: number }>('SELECT pg_try_advisory_lock($1) AS ok, pg_backend_pid() AS pid', [LEADER_LOCK_KEY]);
      if (got.rows[0]?.ok !== true) {
        this.schedule(this.timings.retryMs);
        return;
      }
      let term: number;
      try {
        // Recorded only while this session still holds the lock (terms.ts): a term taken after the
        // session ended could be newer than the next leader's and fence it out.
        const leaderLock = { key: LEADER_LOCK_KEY, pid: got.rows[0].pid };
        term = await takeTerm(this.store, { clcId: this.id, now: this.options.clock.now(), leaderLock, ...(this.options.apiUrl !== undefined ? { apiUrl: this.options.apiUrl } : {}) });
      } catch (err) {
        // Not leading without a term: give the lock back (dropping the session does) and try again.
        this.options.logger.warn('won the leader lock but could not record the term; trying again', { error: errorMessage(err) });
        this.drop();
        this.schedule(this.timings.retryMs);
        return;
      }
      if (this.stopped || epoch !== this.epoch) {
        // The lock connection went away while the term was being taken: the lock is gone with it.
        this.schedule(this.timings.retryMs);
        return;
      }
      this.current = { role: 'leader', since: this.options.clock.now(), term };
      this.options.logger.info('this CLC leads', { id: this.id, term });
      this.emit(true);
      this.scheduleHeartbeat();
    } catch (err) {
      if (!this.stopped) {
        this.options.logger.debug('leader election attempt failed; retrying', { error: errorMessage(err) });
        this.drop();
        this.schedule(this.timings.retryMs);
      }
    } finally {
      this.busy = false;
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ ...clientConfig({ url: this.options.url, application: `${PG_APPLICATION}-leader`, connectTimeoutMs: 2000 }) });
    client.on('error', (err) => this.lost(client, `lock connection error: ${errorMessage(err)}`));
    client.on('end', () => this.lost(client, 'lock connection closed'));
    try {
      await client.connect();
      const t = this.timings;
      // The server ends this session when it goes silent (see the header); statement_timeout bounds a heartbeat server-side.
      await client.query(
        `SET idle_session_timeout = ${Math.round(t.idleSessionTimeoutMs)}; SET statement_timeout = ${Math.round(t.heartbeatTimeoutMs)};` +
          ' SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 3',
      );
    } catch (err) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      client.removeAllListeners('end');
      void client.end().catch(() => undefined);
      throw new Error('stopped');
    }
    this.client = client;
    return client;
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeat = this.options.clock.setTimeout(() => {
      this.heartbeat = undefined;
      void this.beat();
    }, this.timings.heartbeatMs);
  }

  private async beat(): Promise<void> {
    const client = this.client;
    if (this.stopped || this.current.role !== 'leader' || client === undefined) return;
    try {
      await withTimeout(client.query('SELECT 1'), this.timings.heartbeatTimeoutMs);
    } catch (err) {
      this.lost(client, `heartbeat failed: ${errorMessage(err)}`);
      return;
    }
    if (this.client === client) this.scheduleHeartbeat();
  }

  /** A newer term than ours exists while we hold the lock (contracts.ts Leadership.resign): give the lock up and compete again. */
  resign(reason: string): void {
    if (this.client === undefined || this.current.role !== 'leader') return;
    this.lost(this.client, `resigned: ${reason}`);
  }

  /** The lock connection failed: step down first (listeners hear `false`), then drop it and compete again. */
  private lost(client: pg.Client, reason: string): void {
    if (this.stopped || this.client !== client) return;
    const wasLeader = this.current.role === 'leader';
    if (wasLeader) {
      this.current = { role: 'follower', since: this.options.clock.now() };
      this.options.logger.warn('this CLC no longer leads; stepping down', { id: this.id, reason, code: 'NOT_LEADER' });
      this.emit(false);
    } else {
      this.options.logger.debug('leader election connection lost; reconnecting', { reason });
    }
    this.drop();
    if (this.timer) {
      this.options.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule(wasLeader ? this.timings.rejoinMs : this.timings.retryMs);
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.epoch++;
    if (this.heartbeat) this.options.clock.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
    if (client) {
      client.removeAllListeners('end');
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}
