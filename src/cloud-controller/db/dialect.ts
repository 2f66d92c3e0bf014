/**
 * The few SQL spellings SQLite and PostgreSQL do not share, in one place.
 * Everything else the services write is SQL both accept (through Kysely).
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
