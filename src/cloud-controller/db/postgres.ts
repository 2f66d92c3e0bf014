/**
 * PostgreSQL specifics of the store, in one place: the connection pool, how
 * PostgreSQL's types come back (the one place they are mapped), which errors
 * mean "the database is not there", and the notification listener that
 * carries changes between CLCs.
 *
 * Types: every integer column is BIGINT (migrations.ts forPostgres) and pg
 * returns int8 as a string; values here are milliseconds, ids, counts and
 * IPv4 numbers, all far below 2^53, so int8 (and COUNT's int8, and numeric
 * from SUM) are parsed to JavaScript numbers on this pool's connections (a
 * type parser set per client, not pg's process-wide defaults). The schema has
 * no booleans or timestamps (times are INTEGER milliseconds on both stores).
 */
import pg from 'pg';
import { sql } from 'kysely';
import type { Db } from './schema.ts';
import { EdgenetError, UserError, errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { redactLocation } from './location.ts';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Type parsers of edgenet's connections (see the header). */
export const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** application_name of edgenet's connections (pg_stat_activity; in-use checks look for it). */
export const PG_APPLICATION = 'edgenet-clc';

export interface PgConnectOptions {
  readonly url: string;
  /** application_name suffix (`edgenet-clc`, `edgenet-cli`). */
  readonly application?: string;
  readonly connectTimeoutMs?: number;
}

export function clientConfig(options: PgConnectOptions): pg.ClientConfig {
  return {
    connectionString: options.url,
    application_name: options.application ?? PG_APPLICATION,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 1000,
    types: PG_TYPES,
  };
}

/** The store's pool. Errors of idle connections (the server went away) are logged, never thrown. */
export function createPool(options: PgConnectOptions & { readonly max?: number; readonly logger?: Logger }): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(options),
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    // A transaction whose client is gone without the server noticing (a partition: no FIN, no RST) would hold
    // the cloud-wide write lock until TCP keepalive gave up (hours); the server ends it after this instead.
    // Our transactions wait on the client for milliseconds between statements, never close to this.
    idle_in_transaction_session_timeout: 60_000,
  });
  pool.on('error', (err) => options.logger?.warn('database connection lost (it is replaced on the next query)', { code: 'DB_UNAVAILABLE', error: errorMessage(err) }));
  // pg-pool listens for errors of IDLE clients only: a client checked out by a transaction that is between
  // two statements when the server terminates it (a restart: FATAL 57P01) emits 'error' with no listener,
  // which would end the process. Its next statement fails as "not queryable" (a connection error: the
  // write answers DB_UNAVAILABLE) and the pool drops it on release; idle clients' errors are logged above.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** SQLSTATE classes and socket errors that mean the database is not reachable (or is restarting), not that the query is wrong. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P)/.test(code) || code === '53300') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EAI_AGAIN'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end|terminating connection|timeout exceeded when trying to connect/i.test(message);
}

/** The error the API answers when PostgreSQL is not there: 503, nothing changed. */
export function unavailable(url: string, err: unknown): UserError {
  return new UserError('DB_UNAVAILABLE', `the database ${redactLocation(url)} is unavailable (${errorMessage(err)}); nothing was changed, retry when it is back`, { status: 503, cause: err });
}

/** `err` as the store reports it: connection problems become DB_UNAVAILABLE; the rest unchanged. */
export function mapPgError(url: string, err: unknown): unknown {
  if (err instanceof EdgenetError) return err;
  return isConnectionError(err) ? unavailable(url, err) : err;
}

/** Channel of change notifications between CLCs. */
export const CHANGE_CHANNEL = 'edgenet_changes';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; bigger batches are sent as "resync". */
export const MAX_NOTIFY_BYTES = 7000;

export interface ChangeNotification {
  /** The store instance that committed (a CLC ignores its own). */
  readonly origin: string;
  /** meta.data_version after the write. */
  readonly version: number;
  /** The changes, or absent: too many to send (resync). */
  readonly changes?: readonly unknown[];
}

/**
 * LISTENs on CHANGE_CHANNEL with a dedicated connection and hands every
 * notification to `onNotification`; when the connection is lost it
 * reconnects (250 ms doubling to 2 s) and calls `onGap` once it listens
 * again — notifications sent meanwhile are lost, so the caller resyncs.
 */
export class ChangeListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 250;
  private readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(
    private readonly options: PgConnectOptions & {
      readonly logger?: Logger;
      readonly onNotification: (n: ChangeNotification) => void;
      /** Called after a reconnect (not after the first connect). */
      readonly onGap: () => void;
    },
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  /** Connects; resolves once listening (or immediately fails with DB_UNAVAILABLE when the first connect fails). */
  async start(): Promise<void> {
    await this.connect(false);
    this.markReady();
    await this.ready;
  }

  private async connect(isReconnect: boolean): Promise<void> {
    const client = new pg.Client(clientConfig({ ...this.options, application: `${this.options.application ?? PG_APPLICATION}` }));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGE_CHANNEL || msg.payload === undefined) return;
      try {
        const n = JSON.parse(msg.payload) as ChangeNotification;
        if (typeof n.origin === 'string' && typeof n.version === 'number') this.options.onNotification(n);
      } catch {
        // Not ours: ignored.
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      if (!isReconnect) throw unavailable(this.options.url, err);
      this.schedule();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.backoffMs = 250;
    if (isReconnect) {
      this.options.logger?.info('change notifications from other CLCs resumed (re-reading everything once)');
      this.options.onGap();
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.options.logger?.warn('change notifications from other CLCs interrupted (database connection lost); reconnecting', { code: 'DB_UNAVAILABLE' });
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect(true);
    }, delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * One transaction on one connection of `db` whose first statement takes the
 * transaction-level advisory lock `key` (released at COMMIT or ROLLBACK);
 * committed when `fn` returns, rolled back when it throws. `lockTimeoutMs`:
 * stop waiting for the lock after that long (lock_timeout). Migrations, the
 * generation at open and the commit-token look-up run this way; the store's
 * writes take WRITE_LOCK_KEY the same way but handle a lost COMMIT themselves.
 */
export async function lockedTransaction<T>(db: Db, key: number, fn: (conn: Db) => Promise<T>, options: { readonly lockTimeoutMs?: number } = {}): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`BEGIN`.execute(conn);
    try {
      if (options.lockTimeoutMs !== undefined) await sql.raw(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs))}`).execute(conn);
      await sql`SELECT pg_advisory_xact_lock(${key})`.execute(conn);
      const result = await fn(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (err) {
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
