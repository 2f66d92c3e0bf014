/**
 * The database's generation: the epoch stamped with every broadcast sequence
 * (GNI root attribute `generation`, docs/gni.md), so that CCs, NCs and netd
 * can tell the documents of this database from those of a database it
 * superseded (shared/freshness.ts).
 *
 * Model: `meta.generation` holds a number of milliseconds since the epoch.
 * A new generation is `max(now, previous + 1)`: strictly increasing within a
 * database's lineage, and time-based so that a database restored from an old
 * backup (whose copied generation is older) still gets a generation newer than
 * the one the cloud holds — that generation was taken when the superseded
 * database was created or restored, before now.
 *
 * When a new one is taken:
 * - a new database: at creation (its first open);
 * - a restored backup: `edgenet clc backup` leaves `meta.supersede_generation`
 *   in the copy, and whoever opens it first (the CLC starting on it, or
 *   `edgenet clc restore`) takes a new generation and clears the mark, so a
 *   backup copied in place by hand is handled too;
 * - `edgenet clc restore` also takes one itself (a copy made by other means).
 * A CLC restarting on its own database keeps its generation.
 */
import type BetterSqlite3 from 'better-sqlite3';

export const GENERATION_KEY = 'generation';
/** Set in a backup copy: the database that opens it is a restore. */
export const SUPERSEDE_KEY = 'supersede_generation';

function metaValue(sqlite: BetterSqlite3.Database, key: string): number | undefined {
  const row = sqlite.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number } | undefined;
  return row?.value;
}

/** A generation newer than `previous`, from the clock when it allows. */
export function nextGeneration(previous: number | undefined, now: number): number {
  return Math.max(Math.floor(now), (previous ?? 0) + 1);
}

/** Takes a new generation (in its own immediate transaction) and clears the restore mark; returns it. */
function takeGeneration(sqlite: BetterSqlite3.Database, now: number): number {
  const run = sqlite.transaction(() => {
    const next = nextGeneration(metaValue(sqlite, GENERATION_KEY), now);
    sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(GENERATION_KEY, next);
    sqlite.prepare('DELETE FROM meta WHERE key = ?').run(SUPERSEDE_KEY);
    return next;
  });
  return run.immediate();
}

/**
 * At open, after the migrations: a database without a generation (new, or
 * created before generations existed) or carrying the restore mark takes a new
 * one. Returns what happened, for the open log.
 */
export function ensureGeneration(sqlite: BetterSqlite3.Database, now: number): { generation: number; taken?: 'new-database' | 'restored' } {
  const current = metaValue(sqlite, GENERATION_KEY);
  const restored = metaValue(sqlite, SUPERSEDE_KEY) !== undefined;
  if (current !== undefined && !restored) return { generation: current };
  return { generation: takeGeneration(sqlite, now), taken: restored ? 'restored' : 'new-database' };
}

export function readGeneration(sqlite: BetterSqlite3.Database): number | undefined {
  return metaValue(sqlite, GENERATION_KEY);
}

/** Marks a copy (a backup) so that the database that opens it takes a new generation. */
export function markAsBackup(sqlite: BetterSqlite3.Database, takenAt: number): void {
  sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(SUPERSEDE_KEY, Math.floor(takenAt));
}
