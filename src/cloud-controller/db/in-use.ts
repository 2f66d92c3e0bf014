/**
 * `requireDatabaseUnused`: proves no CLC is using the database, for commands
 * that must not write under a running CLC: `edgenet import gni`, `edgenet
 * clc restore` (a running CLC keeps an in-memory snapshot of the state and
 * would go on broadcasting the empty cloud).
 *
 * SQLite: takes SQLite's exclusive lock for a moment — in WAL mode every open
 * connection holds a shared lock, so the attempt fails while a CLC runs. A
 * missing file is unused.
 *
 * PostgreSQL: no CLC may be connected to that database: every connection of
 * a CLC carries application_name `edgenet-clc` (postgres.ts PG_APPLICATION),
 * which pg_stat_activity shows to every role. It is a check, not a lock: a
 * CLC started right after it is not seen (stop them all first, as the
 * message says).
 */
import * as fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { EdgenetError } from '../../shared/errors.ts';
import { storeKindOf, redactLocation } from './location.ts';
import { clientConfig, PG_APPLICATION, unavailable, isConnectionError } from './postgres.ts';

/** application_name of the CLI's own PostgreSQL connections (never counted as a CLC). */
export const CLI_APPLICATION = 'edgenet-cli';

export async function requireDatabaseUnused(location: string, what: string): Promise<void> {
  if (storeKindOf(location) === 'postgres') {
    await requirePostgresUnused(location, what);
    return;
  }
  withDatabaseUnused(location, what, () => undefined);
}

/** DB_IN_USE while any CLC has a connection to the database of `url`. */
export async function requirePostgresUnused(url: string, what: string): Promise<void> {
  const n = await clcConnections(url);
  if (n.connections > 0) {
    throw new EdgenetError(
      'DB_IN_USE',
      `${redactLocation(url)} is in use: ${n.connections} connection(s) of a running CLC (application_name ${PG_APPLICATION}${n.hosts.length > 0 ? `, from ${n.hosts.join(', ')}` : ''}); stop every CLC using this database (systemctl stop edgenet-clc on each), then ${what}`,
    );
  }
}

/** The connections of CLCs (application_name edgenet-clc) to the database of `url`. */
export async function clcConnections(url: string): Promise<{ connections: number; hosts: string[] }> {
  const client = new pg.Client(clientConfig({ url, application: CLI_APPLICATION }));
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number; hosts: string[] | null }>(
      `SELECT count(*)::int AS n, array_remove(array_agg(DISTINCT host(client_addr)), NULL) AS hosts
         FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
      [PG_APPLICATION],
    );
    return { connections: Number(rows[0]?.n ?? 0), hosts: rows[0]?.hosts ?? [] };
  } catch (err) {
    if (isConnectionError(err)) throw unavailable(url, err);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
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
