/**
 * Backup and restore of a CLC database on PostgreSQL (docs/cloud-controller.md,
 * "Running on PostgreSQL"), with PostgreSQL's own tools through the Exec seam.
 *
 * Backup: `pg_dump --format=plain --no-owner --no-privileges` of the database
 * (one consistent snapshot, online, the CLCs keep running), taken on a
 * snapshot this module exported, so the generation, sequence and schema
 * version it reports are those of the copy. Appended to the dump: a marker
 * line (`-- edgenet clc backup ...`, which restore requires: a truncated file
 * has none) and the statement that marks the copy as a backup (meta
 * supersede_generation, generation.ts): whoever opens a restored copy first
 * takes a new generation, also when it was loaded by hand with psql. The file
 * is written under a temporary name (mode 0600), fsynced and linked into
 * place: FILE is absent or complete, and never overwritten.
 *
 * Restore: refused while any CLC is connected (in-use.ts) and into a database
 * that holds any table: the safe, simple rule — an empty database is created
 * with `createdb` (or `DROP DATABASE` + `CREATE DATABASE`), nothing of a live
 * database is ever dropped by edgenet. Loaded with `psql -v ON_ERROR_STOP=1
 * --single-transaction`, together with taking a new generation, so the
 * database is either fully restored or untouched.
 *
 * Tools: the newest /usr/lib/postgresql/VERSION/bin (Debian's layout; pg_dump
 * must not be older than the server), else `pg_dump`/`psql` in PATH. A
 * password in the URL is passed in PGPASSWORD, never in argv.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pg from 'pg';
import type { Exec } from '../../shared/exec.ts';
import { newestPostgresBinDir, POSTGRES_BASE } from '../../shared/postgres-bin.ts';
import { EdgenetError, ExecError, errorMessage } from '../../shared/errors.ts';
import { clientConfig, isConnectionError, unavailable } from './postgres.ts';
import { redactLocation, requirePostgresUrl } from './location.ts';
import { GENERATION_KEY, nextGeneration, SUPERSEDE_KEY } from './generation.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { CLI_APPLICATION, requirePostgresUnused } from './in-use.ts';
import { fsyncPath, tempBeside, type BackupInfo, type RestoreInfo } from './backup.ts';

/** The first words of the marker line at the end of every PostgreSQL backup. */
const MARKER = '-- edgenet clc backup:';
/** Long enough for a large cloud; PostgreSQL's tools report their own progress problems. */
const TOOL_TIMEOUT_MS = 3_600_000;

/** The newest installed PostgreSQL's `name` (pg_dump, psql), else `name` from PATH. */
export function postgresTool(name: 'pg_dump' | 'psql', base = POSTGRES_BASE): string {
  const dir = newestPostgresBinDir(name, base);
  return dir === undefined ? name : path.join(dir, name);
}

/** What a backup file is: a SQLite database, a PostgreSQL (plain SQL) dump, or neither. */
export function backupKindOf(file: string): 'sqlite' | 'postgres' | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString('latin1');
    if (text.startsWith('SQLite format 3\0')) return 'sqlite';
    if (text.startsWith('--')) return 'postgres';
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * libpq's view of the URL: the password — in the user info or as libpq's
 * `password` query parameter (`?password=…`, which pg accepts too) — moved to
 * the environment (PGPASSWORD), so it is never in argv (ps, ExecError).
 */
export function libpqTarget(url: string): { dbname: string; env: Record<string, string> } {
  const u = new URL(url);
  const password = u.searchParams.get('password') ?? decodeURIComponent(u.password);
  u.password = '';
  // Only when there: deleting re-serializes the whole query (form encoding).
  if (u.searchParams.has('password')) u.searchParams.delete('password');
  return { dbname: u.toString(), env: { PGAPPNAME: CLI_APPLICATION, ...(password !== '' ? { PGPASSWORD: password } : {}) } };
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client(clientConfig({ url, application: CLI_APPLICATION }));
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw isConnectionError(err) ? unavailable(url, err) : err;
  }
  return client;
}

async function metaNumber(client: pg.Client, schema: string, key: string): Promise<number | undefined> {
  const { rows } = await client.query<{ value: number }>(`SELECT value FROM ${quoteIdent(schema)}.meta WHERE key = $1`, [key]);
  return rows[0] === undefined ? undefined : Number(rows[0].value);
}

/** Online, consistent pg_dump of the database at `url` into `dest` (which must not exist). */
export async function backupPostgres(options: { url: string; dest: string; now: number; exec: Exec }): Promise<BackupInfo> {
  const { url, dest, exec } = options;
  requirePostgresUrl(url);
  if (fs.existsSync(dest)) throw new EdgenetError('BACKUP_EXISTS', `${dest} exists; choose a new file name (a backup never overwrites)`);
  const destDir = path.dirname(path.resolve(dest));
  fs.mkdirSync(destDir, { recursive: true, mode: 0o700 });
  const temp = tempBeside(path.resolve(dest), 'backup');
  const client = await connect(url);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ schema: string | null; version: number | null }>(
      `SELECT (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('meta')) AS schema,
              (SELECT 1 WHERE to_regclass('edgenet_schema') IS NOT NULL) AS version`,
    );
    const schema = rows[0]?.schema ?? undefined;
    if (schema === undefined || rows[0]?.version == null) {
      throw new EdgenetError('NOT_A_CLC_DATABASE', `${redactLocation(url)} is not an edgenet CLC database (no meta or edgenet_schema table)`);
    }
    const schemaVersion = Number((await client.query<{ version: number }>(`SELECT version FROM ${quoteIdent(schema)}.edgenet_schema`)).rows[0]?.version ?? 0);
    const generation = await metaNumber(client, schema, GENERATION_KEY);
    const sequence = await metaNumber(client, schema, 'broadcast_sequence');
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    // The file exists (mode 0600) before pg_dump writes it: the dump is never readable by others.
    fs.closeSync(fs.openSync(temp, 'wx', 0o600));
    const target = libpqTarget(url);
    await exec.run([postgresTool('pg_dump'), '--format=plain', '--no-owner', '--no-privileges', `--snapshot=${snapshot}`, `--file=${temp}`, `--dbname=${target.dbname}`], {
      env: target.env,
      timeoutMs: TOOL_TIMEOUT_MS,
    });
    await client.query('COMMIT');
    const takenAt = new Date(options.now).toISOString();
    fs.appendFileSync(
      temp,
      [
        '',
        `${MARKER} schema ${schemaVersion}, generation ${generation ?? '-'}, sequence ${sequence ?? '-'}, taken ${takenAt}`,
        '-- The first CLC that opens a restored copy takes a new generation (edgenet db/generation.ts):',
        `INSERT INTO ${quoteIdent(schema)}.meta (key, value) VALUES ('${SUPERSEDE_KEY}', ${Math.floor(options.now)}) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;`,
        '',
      ].join('\n'),
    );
    fsyncPath(temp);
    try {
      fs.linkSync(temp, dest);
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') throw new EdgenetError('BACKUP_EXISTS', `${dest} appeared while the backup ran; the backup is not kept (a backup never overwrites)`);
      throw err;
    }
    fsyncPath(destDir);
    return {
      file: dest,
      bytes: fs.statSync(dest).size,
      ...(generation === undefined ? {} : { generation }),
      ...(sequence === undefined ? {} : { sequence }),
      schemaVersion,
      takenAt,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof ExecError) throw new EdgenetError('BACKUP_FAILED', `pg_dump of ${redactLocation(url)} failed: ${err.message}`, { cause: err });
    if (err instanceof EdgenetError) throw err;
    if (isConnectionError(err)) throw unavailable(url, err);
    throw new EdgenetError('BACKUP_FAILED', `backup of ${redactLocation(url)} failed: ${errorMessage(err)}`, { cause: err });
  } finally {
    fs.rmSync(temp, { force: true });
    await client.end().catch(() => undefined);
  }
}

/** The marker line's fields, read from the end of the file (a truncated dump has none). */
function readMarker(file: string): { schema: number; generation?: number } | undefined {
  const size = fs.statSync(file).size;
  const length = Math.min(size, 4096);
  const fd = fs.openSync(file, 'r');
  try {
    const tail = Buffer.alloc(length);
    fs.readSync(fd, tail, 0, length, size - length);
    const line = tail.toString('utf8').split('\n').reverse().find((l) => l.startsWith(MARKER));
    const m = line === undefined ? null : /schema (\d+), generation (\d+|-)/.exec(line);
    if (m === null) return undefined;
    return { schema: Number(m[1]), ...(m[2] !== '-' ? { generation: Number(m[2]) } : {}) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Loads the backup into the EMPTY database at `url` (no CLC connected) and takes a new generation. */
export async function restorePostgres(options: { backup: string; url: string; now: number; exec: Exec }): Promise<RestoreInfo> {
  const { backup, url, exec } = options;
  requirePostgresUrl(url);
  if (!fs.existsSync(backup)) throw new EdgenetError('BACKUP_NOT_FOUND', `no backup at ${backup}`);
  const kind = backupKindOf(backup);
  if (kind === 'sqlite') {
    throw new EdgenetError('BACKUP_KIND_MISMATCH', `${backup} is a SQLite backup; DB is PostgreSQL (${redactLocation(url)}): restore a backup taken with DB on PostgreSQL`);
  }
  const marker = kind === 'postgres' ? readMarker(backup) : undefined;
  if (marker === undefined) {
    throw new EdgenetError('BACKUP_CORRUPT', `${backup} is not a complete edgenet PostgreSQL backup (the "${MARKER}" line at its end is missing: truncated, or not made by edgenet clc backup)`);
  }
  if (marker.schema > SCHEMA_VERSION) throw new EdgenetError('DB_TOO_NEW', `${backup} has schema version ${marker.schema}, newer than this edgenet (${SCHEMA_VERSION})`);
  await requirePostgresUnused(url, 'restore');
  const client = await connect(url);
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY 1 LIMIT 6`,
    );
    if (rows.length > 0) {
      const names = rows.slice(0, 5).map((r) => r.name).join(', ');
      const db = decodeURIComponent(new URL(url).pathname.slice(1));
      throw new EdgenetError(
        'RESTORE_TARGET_NOT_EMPTY',
        `${redactLocation(url)} is not empty (${names}${rows.length > 5 ? ', ...' : ''}); a PostgreSQL restore loads into an empty database only: with every CLC stopped, recreate it (dropdb ${db} && createdb -O OWNER ${db}, as the postgres user) or restore into a new database and point DB at it`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  const target = libpqTarget(url);
  // After the dump (which empties search_path for its own statements), in the same transaction:
  // a generation newer than the backup's and than now, and the restore mark cleared.
  const generationSql =
    `INSERT INTO meta (key, value) VALUES ('${GENERATION_KEY}', ${nextGeneration(undefined, options.now)}) ` +
    `ON CONFLICT (key) DO UPDATE SET value = GREATEST(EXCLUDED.value, meta.value + 1); DELETE FROM meta WHERE key = '${SUPERSEDE_KEY}'`;
  try {
    await exec.run(
      [postgresTool('psql'), '--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--single-transaction', `--file=${backup}`, '--command=RESET search_path', `--command=${generationSql}`, `--dbname=${target.dbname}`],
      { env: target.env, timeoutMs: TOOL_TIMEOUT_MS },
    );
  } catch (err) {
    if (err instanceof ExecError) throw new EdgenetError('DB_RESTORE_FAILED', `loading ${backup} into ${redactLocation(url)} failed; nothing was restored (one transaction): ${err.message}`, { cause: err });
    throw err;
  }
  const after = await connect(url);
  try {
    const { rows } = await after.query<{ key: string; value: number }>(`SELECT key, value FROM meta WHERE key IN ('${GENERATION_KEY}', 'broadcast_sequence')`);
    const value = (key: string) => rows.find((r) => r.key === key)?.value;
    const sequence = value('broadcast_sequence');
    return {
      file: redactLocation(url),
      from: backup,
      generation: Number(value(GENERATION_KEY)),
      ...(marker.generation === undefined ? {} : { previousGeneration: marker.generation }),
      ...(sequence === undefined ? {} : { sequence: Number(sequence) }),
    };
  } finally {
    await after.end().catch(() => undefined);
  }
}
