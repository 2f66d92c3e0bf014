/**
 * The store: one SQLite database (better-sqlite3) behind Kysely, and the only
 * way to run transactions on it.
 *
 * Model: every write runs inside `write()`, which holds Kysely's single
 * connection for its whole duration and opens it with BEGIN IMMEDIATE, so
 * writes from concurrent API calls never interleave (inside this process the
 * connection mutex queues them; across processes SQLite's write lock does).
 * State changes a write records are delivered to listeners only after COMMIT
 * succeeded — a rolled-back transaction announces nothing.
 *
 * Durability: WAL journal with synchronous=FULL, so a committed transaction
 * survives a crash or power loss.
 *
 * Generation: opening a new database, or a backup copy carrying the restore
 * mark, takes a new generation (generation.ts); `generation` is the one the
 * broadcaster stamps on documents.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import { migrate } from './migrations.ts';
import { ensureGeneration, readGeneration } from './generation.ts';
import type { StateChange } from '../contracts.ts';
import { EdgenetError } from '../../shared/errors.ts';

export type Db = Kysely<Database>;

/** What a write transaction body receives. */
export interface Tx {
  readonly db: Db;
  /** Records a committed-state change to announce after COMMIT. */
  changed(change: StateChange): void;
}

export type ChangeListener = (change: StateChange) => void;

export class Store {
  private readonly listeners = new Set<ChangeListener>();
  private closed = false;

  private constructor(
    readonly db: Db,
    private readonly sqlite: BetterSqlite3.Database,
    readonly file: string,
    /** Set when this open took a new generation (a new database, or a restored backup). */
    readonly generationTaken?: 'new-database' | 'restored',
  ) {}

  /** Opens (creating if needed) and migrates the database; `:memory:` for tests. `now`: the clock for a new generation. */
  static open(file: string, options: { now?: number } = {}): Store {
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
    return new Store(db, sqlite, file, taken);
  }

  /** The database's current generation (generation.ts). */
  generation(): number {
    if (this.closed) throw new EdgenetError('DB_CLOSED', 'the database is closed');
    return readGeneration(this.sqlite) ?? 0;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Serialized write transaction (BEGIN IMMEDIATE). Changes are announced after commit. */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const changes: StateChange[] = [];
    const result = await this.transaction('begin immediate', (db) => fn({ db, changed: (c) => changes.push(c) }));
    for (const change of changes) {
      for (const listener of [...this.listeners]) {
        try {
          listener(change);
        } catch {
          // A listener's failure must not turn a committed write into an error.
        }
      }
    }
    return result;
  }

  /** Consistent read: every query in `fn` sees one state of the database. */
  read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.transaction('begin', fn);
  }

  private async transaction<T>(begin: string, fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.closed) throw new EdgenetError('DB_CLOSED', 'the database is closed');
    return this.db.connection().execute(async (conn) => {
      await sql.raw(begin).execute(conn);
      let result: T;
      try {
        result = await fn(conn);
      } catch (err) {
        await sql.raw('rollback').execute(conn);
        throw err;
      }
      await sql.raw('commit').execute(conn);
      return result;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }
}

/** True when `err` is SQLite refusing a row because of a UNIQUE / PRIMARY KEY constraint. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
