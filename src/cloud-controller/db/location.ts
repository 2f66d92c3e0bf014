/**
 * Where the CLC's database is: `DB` in clc.conf (EDGENET_CLC_DB, --db).
 * A `postgres://` or `postgresql://` URL selects PostgreSQL; anything else is a
 * SQLite file (`:memory:` for tests). The one place that decides.
 */
import * as path from 'node:path';
import { EdgenetError } from '../../shared/errors.ts';

export type StoreKind = 'sqlite' | 'postgres';

export function storeKindOf(location: string): StoreKind {
  return /^postgres(ql)?:\/\//i.test(location) ? 'postgres' : 'sqlite';
}

/** The location with any password replaced by `***` (for logs, errors and `--json`). */
export function redactLocation(location: string): string {
  if (storeKindOf(location) !== 'postgres') return location;
  try {
    const u = new URL(location);
    if (u.password !== '') u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/^(ssl)?pass(word)?$/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Refuses a PostgreSQL URL that cannot be one (checked before connecting, and by --check-config). */
export function checkPostgresUrl(location: string): string | undefined {
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    return 'not a URL: expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (a unix socket: postgres:///DATABASE?host=/run/postgresql)';
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '') return 'names no database: expected postgres://USER@HOST[:PORT]/DATABASE';
  if (u.port !== '' && !(Number(u.port) >= 1 && Number(u.port) <= 65535)) return `port ${u.port} is not 1-65535`;
  return undefined;
}

/**
 * The directory of a CLC's own files (token, credentials key) when they are
 * not configured: next to a SQLite file; `fallback` (the CLC data directory)
 * for PostgreSQL and `:memory:`.
 */
export function dataDirOf(location: string, fallback: string): string {
  if (location === ':memory:' || storeKindOf(location) === 'postgres') return fallback;
  return path.dirname(path.resolve(location));
}

export function requirePostgresUrl(location: string): void {
  const problem = checkPostgresUrl(location);
  if (problem !== undefined) throw new EdgenetError('DB_URL_INVALID', `DB=${redactLocation(location)}: ${problem}`);
}
