/**
 * `requireDatabaseUnused`: proves no process (a running CLC) has the database
 * open, by taking SQLite's exclusive lock for a moment — in WAL mode every
 * open connection holds a shared lock, so the attempt fails while a CLC runs.
 * For commands that must not write under a running CLC: `edgenet import gni`,
 * `edgenet clc restore`
 * (a running CLC keeps an in-memory snapshot of the state and would go on
 * broadcasting the empty cloud). A missing file is unused.
 */
import * as fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { EdgenetError } from '../../shared/errors.ts';

export function requireDatabaseUnused(dbFile: string, what: string): void {
  withDatabaseUnused(dbFile, what, () => undefined);
}

/**
 * Runs `read` inside that exclusive transaction (what `clc restore` reads of
 * the database it replaces) and returns its result; undefined when there is
 * no file. DB_IN_USE when another connection holds the database.
 */
export function withDatabaseUnused<T>(dbFile: string, what: string, read: (db: BetterSqlite3.Database) => T): T | undefined {
  if (!fs.existsSync(dbFile)) return undefined;
  const live = new BetterSqlite3(dbFile, { fileMustExist: true, timeout: 200 });
  try {
    live.pragma('locking_mode = EXCLUSIVE');
    live.exec('BEGIN EXCLUSIVE');
    const value = read(live);
    live.exec('COMMIT');
    return value;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new EdgenetError('DB_IN_USE', `${dbFile} is in use (is the CLC running?); stop the CLC (systemctl stop edgenet-clc), then ${what}`, { cause: err });
    }
    throw err;
  } finally {
    live.close();
  }
}
