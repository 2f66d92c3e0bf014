/**
 * The few SQL spellings SQLite and PostgreSQL do not share, in one place.
 * Everything else the services write is SQL both accept (through Kysely).
 *
 * What the two engines otherwise do differently is handled in the driver
 * setup, not by the services: integer types (int8 parsed to number,
 * db/postgres.ts), text order (COLLATE "C" on every TEXT column,
 * migrations.ts forPostgres), a failed statement aborting the transaction
 * (Tx.attempt), unique violations (isUniqueViolation, store.ts).
 */
import { PostgresAdapter, sql, type RawBuilder } from 'kysely';
import type { Db } from './store.ts';

/** Which database `db` (a Kysely instance or a transaction's connection) talks to. */
export function dialectOf(db: Db): 'sqlite' | 'postgres' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** `column` values joined by `separator` in `orderBy` order (SQLite group_concat ≥ 3.44, PostgreSQL string_agg). */
export function orderedJoin(db: Db, column: string, separator: string, orderBy: string): RawBuilder<string | null> {
  const fn = dialectOf(db) === 'postgres' ? 'string_agg' : 'group_concat';
  return sql<string | null>`${sql.raw(fn)}(${sql.ref(column)}, ${sql.lit(separator)} ORDER BY ${sql.ref(orderBy)})`;
}

/**
 * A counter of committed writes for the snapshot cache's "was anything
 * written that I was not told of?". SQLite: `PRAGMA data_version`, which
 * moves only when ANOTHER connection committed (this connection's own
 * writes leave it alone). PostgreSQL: `meta.data_version`, bumped by every
 * write that announces changes, from any CLC (store.ts; compare it with
 * Store.announcedThrough()). The first statement of a read transaction on
 * PostgreSQL also fixes its snapshot.
 */
export async function dataVersion(db: Db): Promise<number> {
  if (dialectOf(db) === 'postgres') {
    const row = await db.selectFrom('meta').select('value').where('key', '=', 'data_version').executeTakeFirst();
    return Number(row?.value ?? NaN);
  }
  const { rows } = await sql<{ data_version: number }>`PRAGMA data_version`.execute(db);
  return Number(rows[0]?.data_version ?? NaN);
}
