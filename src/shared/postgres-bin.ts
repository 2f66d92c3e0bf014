/**
 * Where PostgreSQL's programs are: Debian's `postgresql` package installs
 * each major version in /usr/lib/postgresql/VERSION/bin. The newest version
 * that has the program is used (pg_dump must not be older than the server;
 * the lab and the tests make their clusters with the newest initdb). One
 * place for the CLC's backup/restore, the lab and the tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const POSTGRES_BASE = '/usr/lib/postgresql';

/** The newest `base/VERSION/bin` that holds `program`, or undefined (no Debian layout, or not installed). */
export function newestPostgresBinDir(program: string, base = POSTGRES_BASE): string | undefined {
  let versions: string[];
  try {
    versions = fs.readdirSync(base);
  } catch {
    return undefined;
  }
  const newest = versions.filter((v) => fs.existsSync(path.join(base, v, 'bin', program))).sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : path.join(base, newest, 'bin');
}
