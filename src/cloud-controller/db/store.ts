/**
 * The store: the CLC's database behind Kysely, and the only way to run
 * transactions on it. Two backends, one model (db/location.ts picks):
 *
 * SQLite (the embedded default; better-sqlite3): every write runs inside
 * `write()`, which holds Kysely's single connection for its whole duration
 * and opens it with BEGIN IMMEDIATE, so writes never interleave (inside this
 * process the connection mutex queues them; across processes SQLite's write
 * lock does). WAL journal with synchronous=FULL: a committed transaction
 * survives a crash or power loss.
 *
 * PostgreSQL (several CLCs on one database; `pg` pool): the same model, made
 * to hold across processes. A write is BEGIN (READ COMMITTED) and, as its
 * first statement, `pg_advisory_xact_lock(WRITE_LOCK_KEY)`: one write
 * transaction at a time in the whole cloud, exactly SQLite's BEGIN IMMEDIATE.
 * Why a lock and not SERIALIZABLE with retry: every service was written for
 * serialized writes (IPAM's first-free scan, MAC and id allocation,
 * sequences, "held until converged" all read-then-write), a control plane
 * writes tens to hundreds of times a second at most and each write is a few
 * milliseconds, and a lock has no retry path to get wrong (write bodies call
 * the clock and random ids). READ COMMITTED because the lock is taken by
 * the first statement: each later statement sees everything committed
 * before it, and nothing can commit meanwhile. Reads are REPEATABLE READ,
 * READ ONLY: every query of `read()` sees one state, as on SQLite. Inside
 * one process writes also queue in memory before taking a pool connection
 * (only one of them could hold the lock anyway): a burst of writes waits
 * in order instead of holding every pooled connection idle on the lock,
 * starving reads and timing out in the pool's queue.
 *
 * Changes: a write records StateChanges; they are delivered to listeners
 * only after COMMIT succeeded (a rolled-back transaction announces nothing).
 * On PostgreSQL the write also bumps `meta.data_version` and sends its
 * changes with pg_notify (delivered by PostgreSQL only at commit, in commit
 * order); every other CLC's store delivers them to its listeners as
 * `remote`, so a change made through any CLC reaches the leader's
 * broadcaster as fast as one made there. `announcedThrough()` is the highest
 * data version below which every write has been announced here: the
 * snapshot cache reads everything again when the database is ahead of it.
 * A lost notification connection reconnects and delivers `resync`.
 *
 * A lost COMMIT answer (PostgreSQL restarting): every PostgreSQL write also
 * inserts a commit token; when COMMIT fails on a connection error the store
 * asks a fresh connection whether the token is there, so the caller is told
 * "done" or "failed" truthfully (DB_COMMIT_UNKNOWN only when the database
 * stays unreachable for COMMIT_RESOLVE_MS).
 *
 * Generation: opening a new database, or a backup copy carrying the restore
 * mark, takes a new generation (generation.ts); `generation()` is the one the
 * broadcaster stamps on documents.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Database, Db } from './schema.ts';
import { migrate, migratePostgres, MIGRATE_LOCK_KEY } from './migrations.ts';
import { ensureGeneration, GENERATION_KEY, nextGeneration, readGeneration, SUPERSEDE_KEY } from './generation.ts';
import type { ChangeOrigin, StateChange } from '../contracts.ts';
import { EdgenetError, errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { redactLocation, requirePostgresUrl, storeKindOf, type StoreKind } from './location.ts';
import { CHANGE_CHANNEL, ChangeListener, createPool, isConnectionError, lockedTransaction, mapPgError, MAX_NOTIFY_BYTES, PG_APPLICATION, unavailable, type ChangeNotification } from './postgres.ts';

export type { Db, StoreKind };

/** What a write transaction body receives. */
export interface Tx {
  readonly db: Db;
  /** Records a committed-state change to announce after COMMIT. */
  changed(change: StateChange): void;
  /**
   * Runs `fn` so that its failure leaves the transaction usable (a savepoint
   * on PostgreSQL, where a failed statement aborts the transaction): the
   * retry loops on a unique-key collision run their INSERT through it.
   */
  attempt<T>(fn: () => Promise<T>): Promise<T>;
}

/** A listener of committed changes (Store.onChange). */
export type ChangeListenerFn = (change: StateChange, origin: ChangeOrigin) => void;

export interface StoreOptions {
  /** The clock for a new generation (ms). */
  readonly now?: number;
  readonly logger?: Logger;
  /** PostgreSQL application_name (pg_stat_activity): `edgenet-clc` (default) or e.g. `edgenet-cli`. */
  readonly application?: string;
  /** PostgreSQL: hear other CLCs' changes (default true; one-shot CLI commands pass false). */
  readonly listen?: boolean;
  /** PostgreSQL pool size (default 10). */
  readonly poolSize?: number;
}

/** Advisory lock key of write transactions on PostgreSQL (one writer at a time, as SQLite's BEGIN IMMEDIATE). */
export const WRITE_LOCK_KEY = 0x6564_6e02;
/** How long a write whose COMMIT answer was lost keeps asking whether it committed. */
const COMMIT_RESOLVE_MS = 15_000;
/** Commit tokens older than this are deleted (by a write, at most once per COMMIT_TOKEN_PRUNE_MS). */
const COMMIT_TOKEN_KEEP_MS = 3_600_000;
const COMMIT_TOKEN_PRUNE_MS = 60_000;

export class Store {
  private readonly listeners = new Set<ChangeListenerFn>();
  private closed = false;
  /** PostgreSQL: cached generation (restores need every CLC stopped, so it cannot change under a running one). */
  private cachedGeneration: number | undefined;
  /** PostgreSQL: every write with data_version ≤ this has been announced here. */
  private seenThrough = 0;
  private readonly seenAbove = new Set<number>();
  private tokenCounter = 0;
  private lastPrune = 0;
  private notifications: ChangeListener | undefined;
  /** PostgreSQL: the write in progress in this process (writes queue behind it; see the header). */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly db: Db,
    readonly kind: StoreKind,
    /** The SQLite file, or the PostgreSQL URL with its password redacted. */
    readonly file: string,
    private readonly sqlite: BetterSqlite3.Database | undefined,
    private readonly pgUrl: string | undefined,
    /** Identifies this store in change notifications (its own are not delivered twice). */
    readonly instanceId: string,
    /** Set when this open took a new generation (a new database, or a restored backup). */
    readonly generationTaken?: 'new-database' | 'restored',
  ) {}

  /**
   * Opens (creating if needed) and migrates the database: a SQLite file
   * (`:memory:` for tests) or a `postgres://` URL (db/location.ts).
   */
  static async open(location: string, options: StoreOptions = {}): Promise<Store> {
    return storeKindOf(location) === 'postgres' ? Store.openPostgres(location, options) : Store.openSqlite(location, options);
  }

  private static openSqlite(file: string, options: StoreOptions): Store {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    const sqlite = new BetterSqlite3(file);
    let taken: 'new-database' | 'restored' | undefined;
    try {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = FULL');
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma('busy_timeout = 10000');
      migrate(sqlite);
      taken = ensureGeneration(sqlite, options.now ?? Date.now()).taken;
    } catch (err) {
      sqlite.close();
      throw new EdgenetError('DB_OPEN_FAILED', `cannot open database ${file}: ${(err as Error).message}`, { cause: err });
    }
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return new Store(db, 'sqlite', file, sqlite, undefined, randomUUID(), taken);
  }

  private static async openPostgres(url: string, options: StoreOptions): Promise<Store> {
    requirePostgresUrl(url);
    const application = options.application ?? PG_APPLICATION;
    const pool = createPool({ url, application, ...(options.poolSize !== undefined ? { max: options.poolSize } : {}), ...(options.logger ? { logger: options.logger } : {}) });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    let taken: 'new-database' | 'restored' | undefined;
    let generation: number;
    try {
      await migratePostgres(db);
      ({ generation, taken } = await ensureGenerationPostgres(db, options.now ?? Date.now()));
    } catch (err) {
      await db.destroy().catch(() => undefined);
      if (isConnectionError(err)) throw unavailable(url, err);
      throw new EdgenetError('DB_OPEN_FAILED', `cannot open database ${redactLocation(url)}: ${errorMessage(err)}`, { cause: err });
    }
    const store = new Store(db, 'postgres', redactLocation(url), undefined, url, randomUUID(), taken);
    store.cachedGeneration = generation;
    if (options.listen !== false) {
      store.notifications = new ChangeListener({
        url,
        application,
        ...(options.logger ? { logger: options.logger } : {}),
        onNotification: (n) => store.remote(n),
        onGap: () => store.resync(),
      });
    }
    try {
      await store.notifications?.start();
      // The watermark is read only once listening: a write committed between reading it and LISTEN would
      // never be announced, holding announcedThrough() below the database for good (every snapshot a full
      // read, seenAbove growing with every write) until the listener happened to reconnect.
      store.catchUp(await readMeta(db, 'data_version'));
    } catch (err) {
      await store.notifications?.stop();
      await db.destroy().catch(() => undefined);
      if (isConnectionError(err)) throw unavailable(url, err);
      throw err;
    }
    return store;
  }

  /** The database's current generation (generation.ts). */
  generation(): number {
    if (this.closed) throw new EdgenetError('DB_CLOSED', 'the database is closed');
    if (this.sqlite !== undefined) return readGeneration(this.sqlite) ?? 0;
    return this.cachedGeneration ?? 0;
  }

  /**
   * PostgreSQL: every write whose meta.data_version is ≤ this has been
   * announced to this store's listeners. Undefined on SQLite (the snapshot
   * cache uses PRAGMA data_version there).
   */
  announcedThrough(): number | undefined {
    return this.kind === 'postgres' ? this.seenThrough : undefined;
  }

  onChange(listener: ChangeListenerFn): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Serialized write transaction (see the header). Changes are announced
   * after commit. A store's writes run in the order they were called.
   */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') {
      const run = this.writing.then(
        () => this.writePostgres(fn),
        () => this.writePostgres(fn),
      );
      this.writing = run.catch(() => undefined);
      return run;
    }
    const changes: StateChange[] = [];
    const result = await this.transaction('begin immediate', (db) => fn({ db, changed: (c) => changes.push(c), attempt: (f) => f() }));
    this.deliver(changes, 'local');
    return result;
  }

  /** Consistent read: every query in `fn` sees one state of the database. */
  read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.transaction(this.kind === 'postgres' ? 'begin isolation level repeatable read read only' : 'begin', fn);
  }

  private deliver(changes: readonly StateChange[], origin: ChangeOrigin): void {
    for (const change of changes) {
      for (const listener of [...this.listeners]) {
        try {
          listener(change, origin);
        } catch {
          // A listener's failure must not turn a committed write into an error.
        }
      }
    }
  }

  private async transaction<T>(begin: string, fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.closed) throw new EdgenetError('DB_CLOSED', 'the database is closed');
    try {
      return await this.db.connection().execute(async (conn) => {
        await sql.raw(begin).execute(conn);
        let result: T;
        try {
          result = await fn(conn);
        } catch (err) {
          await sql.raw('rollback').execute(conn).catch(() => undefined);
          throw err;
        }
        await sql.raw('commit').execute(conn);
        return result;
      });
    } catch (err) {
      throw this.pgUrl === undefined ? err : mapPgError(this.pgUrl, err);
    }
  }

  private async writePostgres<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) throw new EdgenetError('DB_CLOSED', 'the database is closed');
    const url = this.pgUrl!;
    const changes: StateChange[] = [];
    const token = `${this.instanceId}:${++this.tokenCounter}`;
    let version: number | undefined;
    let result!: T;
    let commitFailed: unknown;
    try {
      await this.db.connection().execute(async (conn) => {
        await sql`begin`.execute(conn);
        try {
          await sql`SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(conn);
          let savepoints = 0;
          const tx: Tx = {
            db: conn,
            changed: (c) => changes.push(c),
            attempt: async (f) => {
              const name = sql.raw(`edgenet_attempt_${++savepoints}`);
              await sql`SAVEPOINT ${name}`.execute(conn);
              try {
                const value = await f();
                await sql`RELEASE SAVEPOINT ${name}`.execute(conn);
                return value;
              } catch (err) {
                await sql`ROLLBACK TO SAVEPOINT ${name}`.execute(conn);
                throw err;
              }
            },
          };
          result = await fn(tx);
          if (changes.length > 0) {
            version = await bumpDataVersion(conn);
            await sql`SELECT pg_notify(${CHANGE_CHANNEL}, ${notificationPayload(this.instanceId, version, changes)})`.execute(conn);
          }
          const now = Date.now();
          await sql`INSERT INTO commit_tokens (token, at) VALUES (${token}, ${now})`.execute(conn);
          if (now - this.lastPrune > COMMIT_TOKEN_PRUNE_MS) {
            this.lastPrune = now;
            await sql`DELETE FROM commit_tokens WHERE at < ${now - COMMIT_TOKEN_KEEP_MS}`.execute(conn);
          }
        } catch (err) {
          await sql`rollback`.execute(conn).catch(() => undefined);
          throw err;
        }
        try {
          await sql`commit`.execute(conn);
        } catch (err) {
          // The answer may have been lost after PostgreSQL committed: resolved below, off this connection.
          if (!isConnectionError(err)) throw err;
          commitFailed = err;
        }
      });
    } catch (err) {
      if (commitFailed === undefined) throw mapPgError(url, err);
    }
    if (commitFailed !== undefined && !(await this.committed(token, commitFailed))) throw unavailable(url, commitFailed);
    this.deliver(changes, 'local');
    if (version !== undefined) this.markSeen(version);
    return result;
  }

  /**
   * Whether the write with `token` committed, asked on fresh connections
   * until COMMIT_RESOLVE_MS, and under the write lock: the lost transaction
   * holds that lock until PostgreSQL has finished it (a COMMIT still being
   * flushed, or not yet read off the dead connection), so the token is never
   * looked for before the outcome is decided — a look without the lock could
   * answer "not committed" for a write that commits a moment later. A lock
   * still held at the deadline (lock_timeout) is DB_COMMIT_UNKNOWN too.
   */
  private async committed(token: string, cause: unknown): Promise<boolean> {
    const deadline = Date.now() + COMMIT_RESOLVE_MS;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      try {
        const row = await lockedTransaction(this.db, WRITE_LOCK_KEY, (conn) => conn.selectFrom('commit_tokens').select('token').where('token', '=', token).executeTakeFirst(), {
          lockTimeoutMs: deadline - Date.now(),
        });
        return row !== undefined;
      } catch (err) {
        if (!isConnectionError(err) || Date.now() > deadline) {
          throw new EdgenetError('DB_COMMIT_UNKNOWN', `the database connection was lost while committing and ${redactLocation(this.pgUrl!)} stayed unreachable: the write may or may not have been applied; look before retrying (${errorMessage(cause)})`, { cause });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private remote(n: ChangeNotification): void {
    if (n.origin === this.instanceId || this.closed) return;
    if (n.changes === undefined) this.deliver([{ kind: 'resync' }], 'remote');
    else this.deliver(n.changes as StateChange[], 'remote');
    this.markSeen(n.version);
  }

  /**
   * Notifications may have been lost (called once listening again): the
   * watermark catches up with the database, and in the same synchronous step
   * listeners are told to re-read everything. In that order: a snapshot
   * cache that takes its dirty set after the watermark moved also has the
   * resync; one that took it before compares the database's version with
   * the old watermark. Writes committed after the version was read are
   * announced by their own notifications (we listen again). When the
   * version cannot be read, resync is delivered anyway and the read retried.
   */
  private resync(delivered = false): void {
    if (this.closed) return;
    readMeta(this.db, 'data_version').then(
      (v) => {
        if (this.closed) return;
        this.catchUp(v);
        this.deliver([{ kind: 'resync' }], 'remote');
      },
      () => {
        if (this.closed) return;
        if (!delivered) this.deliver([{ kind: 'resync' }], 'remote');
        setTimeout(() => this.resync(true), 1000).unref();
      },
    );
  }

  /** Every write up to data version `v` has been committed before we listened (or is announced): the watermark moves to it. */
  private catchUp(v: number): void {
    if (v > this.seenThrough) this.seenThrough = v;
    for (const x of [...this.seenAbove]) if (x <= this.seenThrough) this.seenAbove.delete(x);
    while (this.seenAbove.delete(this.seenThrough + 1)) this.seenThrough++;
  }

  private markSeen(version: number): void {
    if (version <= this.seenThrough) return;
    this.seenAbove.add(version);
    while (this.seenAbove.delete(this.seenThrough + 1)) this.seenThrough++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.notifications?.stop();
    await this.db.destroy();
  }
}

function notificationPayload(origin: string, version: number, changes: readonly StateChange[]): string {
  const full = JSON.stringify({ origin, version, changes } satisfies ChangeNotification);
  return Buffer.byteLength(full) <= MAX_NOTIFY_BYTES ? full : JSON.stringify({ origin, version } satisfies ChangeNotification);
}

async function bumpDataVersion(db: Db): Promise<number> {
  const row = await db.updateTable('meta').set((eb) => ({ value: eb('value', '+', 1) })).where('key', '=', 'data_version').returning('value').executeTakeFirstOrThrow();
  return Number(row.value);
}

async function readMeta(db: Db, key: string): Promise<number> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row === undefined ? 0 : Number(row.value);
}

/** generation.ts's ensureGeneration on PostgreSQL: under the migration lock, so two CLCs starting together take one. */
async function ensureGenerationPostgres(db: Db, now: number): Promise<{ generation: number; taken?: 'new-database' | 'restored' }> {
  return lockedTransaction(db, MIGRATE_LOCK_KEY, async (conn) => {
    const rows = await conn.selectFrom('meta').select(['key', 'value']).where('key', 'in', [GENERATION_KEY, SUPERSEDE_KEY]).execute();
    const current = rows.find((r) => r.key === GENERATION_KEY)?.value;
    const restored = rows.some((r) => r.key === SUPERSEDE_KEY);
    if (current !== undefined && !restored) return { generation: Number(current) };
    const next = nextGeneration(current === undefined ? undefined : Number(current), now);
    await conn.insertInto('meta').values({ key: GENERATION_KEY, value: next }).onConflict((oc) => oc.column('key').doUpdateSet({ value: next })).execute();
    await conn.deleteFrom('meta').where('key', '=', SUPERSEDE_KEY).execute();
    return { generation: next, taken: restored ? ('restored' as const) : ('new-database' as const) };
  });
}

/** True when `err` is the database refusing a row because of a UNIQUE / PRIMARY KEY constraint (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
