/**
 * `edgenet clc migrate`: brings the CLC database's schema to this edgenet's
 * version, explicitly (every CLC also does it when it opens the database,
 * store.ts). SQLite: the file must exist (the CLC creates it at its first
 * start; a mistyped path is not silently created). PostgreSQL: the database
 * must exist (the operator creates it, docs/cloud-controller.md); an empty
 * one gets the whole schema. Migrations run under the same lock as at CLC
 * start (BEGIN IMMEDIATE / the migration advisory lock), so running it next
 * to starting CLCs migrates once. A database newer than this code is refused
 * (DB_TOO_NEW), never changed. The generation is not touched: the first CLC
 * to open a new database takes it.
 */
import * as fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import { EdgenetError, errorMessage } from '../../shared/errors.ts';
import type { Database } from './schema.ts';
import { migrate, migratePostgres, postgresSchemaVersion, SCHEMA_VERSION } from './migrations.ts';
import { redactLocation, requirePostgresUrl, storeKindOf, type StoreKind } from './location.ts';
import { createPool, isConnectionError, unavailable } from './postgres.ts';
import { CLI_APPLICATION } from './in-use.ts';

export interface MigrateInfo {
  /** The SQLite file, or the PostgreSQL URL with its password redacted. */
  readonly database: string;
  readonly kind: StoreKind;
  readonly from: number;
  readonly to: number;
  /** This edgenet's schema version (`to` after a successful run). */
  readonly latest: number;
  readonly migrated: boolean;
}

export async function migrateDatabase(location: string): Promise<MigrateInfo> {
  const kind = storeKindOf(location);
  const { from, to } = kind === 'postgres' ? await migrateOnPostgres(location) : migrateOnSqlite(location);
  return { database: redactLocation(location), kind, from, to, latest: SCHEMA_VERSION, migrated: to !== from };
}

function migrateOnSqlite(file: string): { from: number; to: number } {
  if (file === ':memory:' || !fs.existsSync(file)) throw new EdgenetError('DB_NOT_FOUND', `no database at ${file} (the CLC creates it at its first start)`);
  const sqlite = new BetterSqlite3(file, { fileMustExist: true, timeout: 10_000 });
  try {
    const version = () => sqlite.pragma('user_version', { simple: true }) as number;
    const from = version();
    migrate(sqlite);
    return { from, to: version() };
  } finally {
    sqlite.close();
  }
}

async function migrateOnPostgres(url: string): Promise<{ from: number; to: number }> {
  requirePostgresUrl(url);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool({ url, application: CLI_APPLICATION, max: 1 }) }) });
  try {
    const before = await postgresSchemaVersion(db);
    const { to } = await migratePostgres(db);
    return { from: before, to };
  } catch (err) {
    if (err instanceof EdgenetError) throw err;
    if (isConnectionError(err)) throw unavailable(url, err);
    throw new EdgenetError('DB_OPEN_FAILED', `cannot migrate ${redactLocation(url)}: ${errorMessage(err)}`, { cause: err });
  } finally {
    await db.destroy().catch(() => undefined);
  }
}
