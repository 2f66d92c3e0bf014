/**
 * Backup and restore of the CLC database (docs/cloud-controller.md).
 *
 * Backup works on the database FILE with its own SQLite connection, not
 * through the running CLC: `VACUUM INTO` copies the database as seen by one
 * read transaction, so the copy is consistent; in WAL mode a reader neither
 * blocks nor waits for the CLC's writes, so it works the same with the CLC
 * running or stopped, and needs no token, no API and no CLC code path. The
 * copy is written to a temporary name, checked (`quick_check`), marked as a
 * backup (generation.ts: whoever opens it first takes a new generation),
 * fsynced and renamed into place, so FILE is either absent or complete.
 *
 * Restore replaces the database with a backup while the CLC is stopped: it
 * proves nobody has the database open by taking SQLite's exclusive lock, keeps
 * the replaced file next to it, takes a generation newer than both the
 * backup's and the replaced database's, and gives the new file the replaced
 * one's owner and mode (the CLC may run as another user than root).
 *
 * PostgreSQL databases are backed up and restored by backup-postgres.ts
 * (pg_dump / psql); `edgenet clc backup|restore` choose by DB.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { EdgenetError } from '../../shared/errors.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { GENERATION_KEY, markAsBackup, nextGeneration, readGeneration, SUPERSEDE_KEY } from './generation.ts';
import { withDatabaseUnused } from './in-use.ts';

export interface BackupInfo {
  readonly file: string;
  readonly bytes: number;
  /** Generation of the database the copy was taken from (a restore takes a newer one). */
  readonly generation?: number;
  /** Last broadcast sequence drawn when the copy was taken. */
  readonly sequence?: number;
  readonly schemaVersion: number;
  readonly takenAt: string;
}

function metaOf(sqlite: BetterSqlite3.Database, key: string): number | undefined {
  return (sqlite.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number } | undefined)?.value;
}

export function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function tempBeside(file: string, tag: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${tag}-${process.pid}-${Date.now()}`);
}

/** Online, consistent copy of `source` into `dest` (which must not exist). */
export function backupDatabase(options: { source: string; dest: string; now: number }): BackupInfo {
  const { source, dest } = options;
  if (!fs.existsSync(source)) throw new EdgenetError('DB_NOT_FOUND', `no database at ${source}`);
  if (fs.existsSync(dest)) throw new EdgenetError('BACKUP_EXISTS', `${dest} exists; choose a new file name (a backup never overwrites)`);
  const destDir = path.dirname(path.resolve(dest));
  fs.mkdirSync(destDir, { recursive: true, mode: 0o700 });
  const temp = tempBeside(path.resolve(dest), 'backup');
  let src: BetterSqlite3.Database | undefined;
  try {
    src = new BetterSqlite3(source, { fileMustExist: true, timeout: 10_000 });
    if ((src.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() as unknown) === undefined) {
      throw new EdgenetError('NOT_A_CLC_DATABASE', `${source} is not an edgenet CLC database (no meta table)`);
    }
    src.prepare('VACUUM INTO ?').run(temp);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    if (err instanceof EdgenetError) throw err;
    throw new EdgenetError('BACKUP_FAILED', `backup of ${source} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    src?.close();
  }
  try {
    const copy = new BetterSqlite3(temp, { fileMustExist: true });
    let info: Omit<BackupInfo, 'file' | 'bytes'>;
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new EdgenetError('BACKUP_FAILED', `the copy fails quick_check: ${String(check)}`);
      markAsBackup(copy, options.now);
      const generation = readGeneration(copy);
      const sequence = metaOf(copy, 'broadcast_sequence');
      info = {
        ...(generation === undefined ? {} : { generation }),
        ...(sequence === undefined ? {} : { sequence }),
        schemaVersion: copy.pragma('user_version', { simple: true }) as number,
        takenAt: new Date(options.now).toISOString(),
      };
    } finally {
      copy.close();
    }
    fs.chmodSync(temp, 0o600);
    fsyncPath(temp);
    fs.renameSync(temp, dest);
    fsyncPath(destDir);
    return { file: dest, bytes: fs.statSync(dest).size, ...info };
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

export interface RestoreInfo {
  readonly file: string;
  readonly from: string;
  /** Where the replaced database was kept (absent when there was none). */
  readonly replacedKeptAs?: string;
  readonly generation: number;
  readonly previousGeneration?: number;
  readonly sequence?: number;
}

/** Replaces `dbFile` by a copy of `backup` with a new generation; refuses while the database is in use. */
export function restoreDatabase(options: { backup: string; dbFile: string; now: number }): RestoreInfo {
  const { backup, dbFile } = options;
  if (!fs.existsSync(backup)) throw new EdgenetError('BACKUP_NOT_FOUND', `no backup at ${backup}`);
  let replacedGeneration: number | undefined;
  let owner: { uid: number; gid: number; mode: number } | undefined;
  if (fs.existsSync(dbFile)) {
    const st = fs.statSync(dbFile);
    owner = { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
    // In WAL mode another open connection (a running CLC) holds a shared lock: this fails with DB_IN_USE.
    replacedGeneration = withDatabaseUnused(dbFile, 'restore', (live) =>
      (live.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() as unknown) === undefined ? undefined : readGeneration(live));
  }
  const temp = tempBeside(path.resolve(dbFile), 'restore');
  fs.mkdirSync(path.dirname(path.resolve(dbFile)), { recursive: true, mode: 0o700 });
  fs.copyFileSync(backup, temp);
  let generation: number;
  let previousGeneration: number | undefined;
  let sequence: number | undefined;
  try {
    const copy = new BetterSqlite3(temp, { fileMustExist: true });
    try {
      if ((copy.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() as unknown) === undefined) {
        throw new EdgenetError('NOT_A_CLC_DATABASE', `${backup} is not an edgenet CLC database (no meta table)`);
      }
      const version = copy.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new EdgenetError('DB_TOO_NEW', `${backup} has schema version ${version}, newer than this edgenet (${SCHEMA_VERSION})`);
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new EdgenetError('BACKUP_CORRUPT', `${backup} fails quick_check: ${String(check)}`);
      previousGeneration = readGeneration(copy);
      generation = nextGeneration(Math.max(previousGeneration ?? 0, replacedGeneration ?? 0), options.now);
      const upsert = copy.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
      copy.transaction(() => {
        upsert.run(GENERATION_KEY, generation);
        copy.prepare('DELETE FROM meta WHERE key = ?').run(SUPERSEDE_KEY);
      }).immediate();
      sequence = metaOf(copy, 'broadcast_sequence');
    } finally {
      copy.close();
    }
    if (owner) {
      fs.chownSync(temp, owner.uid, owner.gid);
      fs.chmodSync(temp, owner.mode);
    } else fs.chmodSync(temp, 0o600);
    fsyncPath(temp);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  let replacedKeptAs: string | undefined;
  if (owner) {
    replacedKeptAs = `${dbFile}.replaced-${new Date(options.now).toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(dbFile, replacedKeptAs);
  }
  // Closing the exclusive connection checkpointed and removed the WAL; any left over belongs to the old file.
  for (const suffix of ['-wal', '-shm']) fs.rmSync(`${dbFile}${suffix}`, { force: true });
  fs.renameSync(temp, dbFile);
  fsyncPath(path.dirname(path.resolve(dbFile)));
  return {
    file: dbFile,
    from: backup,
    ...(replacedKeptAs === undefined ? {} : { replacedKeptAs }),
    generation: generation!,
    ...(previousGeneration === undefined ? {} : { previousGeneration }),
    ...(sequence === undefined ? {} : { sequence }),
  };
}
