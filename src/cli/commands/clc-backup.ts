/**
 * `edgenet clc backup FILE`, `edgenet clc restore FILE` and `edgenet clc
 * migrate`: subcommands of `edgenet clc` (added to it here, so clc.ts stays
 * the daemon's command). They work on the database itself, not through a
 * CLC: a SQLite file (src/cloud-controller/db/backup.ts) or a PostgreSQL
 * database (db/backup-postgres.ts: pg_dump / psql); backup with the CLCs
 * running or not, restore with every CLC stopped. The database is `--db`,
 * else DB from `--config` (clc.conf) or EDGENET_CLC_DB, else the default
 * path — the same resolution as `edgenet clc`.
 */
import type { Command } from 'commander';
import { CliExit, type CliContext } from '../context.ts';
import { resolveClcConfig } from '../../cloud-controller/main.ts';
import { backupDatabase, restoreDatabase, type BackupInfo, type RestoreInfo } from '../../cloud-controller/db/backup.ts';
import { backupKindOf, backupPostgres, restorePostgres } from '../../cloud-controller/db/backup-postgres.ts';
import { migrateDatabase } from '../../cloud-controller/db/migrate-database.ts';
import { storeKindOf } from '../../cloud-controller/db/location.ts';
import { createExec } from '../../shared/exec.ts';
import { EdgenetError } from '../../shared/errors.ts';
import * as fs from 'node:fs';

interface Flags {
  db?: string;
  config?: string;
  json?: boolean;
}

/** `--db` / `--config` may land on `edgenet clc` itself (commander gives a parent's options to the parent): merge them. */
function databaseOf(cmd: Command, ctx: CliContext): string {
  const flags = cmd.optsWithGlobals<Flags>();
  return resolveClcConfig({ db: flags.db, config: flags.config }, ctx.env).config.db;
}

function fail(err: unknown): never {
  if (err instanceof EdgenetError) throw new CliExit(1, `error: ${err.message}`, { code: err.code });
  throw err;
}

export function registerClcBackup(program: Command, ctx: CliContext): void {
  const clc = program.commands.find((c) => c.name() === 'clc');
  if (!clc) return;
  clc
    .command('backup <FILE>')
    .description('online, consistent copy of the CLC database to FILE (works while the CLC runs; SQLite or PostgreSQL); FILE must not exist')
    .option('--db <PATH|URL>', 'SQLite file or postgres:// URL (default: DB of --config / EDGENET_CLC_DB / the default path)')
    .option('--config <FILE>', 'clc.conf to read DB from')
    .option('--json', 'JSON output')
    .addHelpText(
      'after',
      `
The copy is one read transaction of the live database (SQLite VACUUM INTO),
checked and marked as a backup: a CLC that starts on it (restored with
"edgenet clc restore", or copied in place by hand) takes a new generation, so
the cloud's CCs and nodes accept its documents and refuse those of the CLC it
replaced. Run it as the database's owner (or root).

The credentials key file (CREDENTIALS_KEY_FILE, default
/var/lib/edgenet/clc/credentials.key), which seals the EC2 secret access keys
stored in the database, is NOT copied, so a backup reveals no secret: back
that file up apart, once (it does not change), and restore it with the
database, or the restored access keys do not work.

On PostgreSQL (DB=postgres://...) the copy is a plain-SQL pg_dump of the
database (one snapshot; the CLCs keep running) with the same backup mark
appended; pg_dump comes from the newest /usr/lib/postgresql/*/bin, else PATH,
and must not be older than the server. Run it as a role that may read every
table (the CLCs' role).

Examples:
  edgenet clc backup /var/backups/edgenet/clc-$(date +%F).db
  edgenet clc backup --db postgres://edgenet@db.example/edgenet /var/backups/edgenet/clc-$(date +%F).sql`,
    )
    .action(async (file: string, _flags: Flags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<Flags>();
      let info: BackupInfo;
      try {
        const db = databaseOf(cmd, ctx);
        info = storeKindOf(db) === 'postgres' ? await backupPostgres({ url: db, dest: file, now: Date.now(), exec: createExec() }) : backupDatabase({ source: db, dest: file, now: Date.now() });
      } catch (err) {
        fail(err);
      }
      if (flags.json) ctx.out(JSON.stringify(info, null, 2));
      else ctx.out(`backup written: ${info.file} (${info.bytes} bytes, generation ${info.generation ?? '-'}, sequence ${info.sequence ?? '-'}, schema ${info.schemaVersion})`);
    });
  clc
    .command('restore <FILE>')
    .description('replace the CLC database by the backup FILE (every CLC must be stopped); the restored database takes a new generation')
    .option('--db <PATH|URL>', 'SQLite file or postgres:// URL (default: DB of --config / EDGENET_CLC_DB / the default path)')
    .option('--config <FILE>', 'clc.conf to read DB from')
    .option('--json', 'JSON output')
    .addHelpText(
      'after',
      `
Refused while the database is open (a running CLC). The replaced database is
kept next to it as <db>.replaced-<time>. Start the CLC afterwards: every CC
and node converges to the restored state with no other step. On a new host,
put the credentials key file back first (CREDENTIALS_KEY_FILE, mode 0600):
without it the restored EC2 access keys are unavailable (AuthFailure).

On PostgreSQL: refused while any CLC is connected to the database
(DB_IN_USE) and unless the database is empty (RESTORE_TARGET_NOT_EMPTY:
edgenet never drops a live database; recreate it with dropdb/createdb). The
backup is loaded with psql in one transaction together with the new
generation: the database is restored completely or not at all.

Examples:
  systemctl stop edgenet-clc && edgenet clc restore /var/backups/edgenet/clc-2024-05-01.db && systemctl start edgenet-clc
  # PostgreSQL, every CLC stopped, as the postgres user: dropdb edgenet && createdb -O edgenet edgenet
  edgenet clc restore --db postgres://edgenet@db.example/edgenet /var/backups/edgenet/clc-2024-05-01.sql`,
    )
    .action(async (file: string, _flags: Flags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<Flags>();
      let info: RestoreInfo;
      try {
        const db = databaseOf(cmd, ctx);
        if (storeKindOf(db) === 'postgres') info = await restorePostgres({ backup: file, url: db, now: Date.now(), exec: createExec() });
        else {
          if (fs.existsSync(file) && backupKindOf(file) === 'postgres') {
            throw new EdgenetError('BACKUP_KIND_MISMATCH', `${file} is a PostgreSQL backup (SQL text); DB is the SQLite file ${db}: restore it with DB=postgres://...`);
          }
          info = restoreDatabase({ backup: file, dbFile: db, now: Date.now() });
        }
      } catch (err) {
        fail(err);
      }
      if (flags.json) ctx.out(JSON.stringify(info, null, 2));
      else {
        ctx.out(`restored ${info.file} from ${info.from}: generation ${info.generation} (backup's was ${info.previousGeneration ?? '-'}), sequence ${info.sequence ?? '-'}`);
        if (info.replacedKeptAs) ctx.out(`the replaced database is kept as ${info.replacedKeptAs}`);
      }
    });
  clc
    .command('migrate')
    .description("bring the CLC database's schema to this edgenet's version (SQLite or PostgreSQL); every CLC also does it at start")
    .option('--db <PATH|URL>', 'SQLite file or postgres:// URL (default: DB of --config / EDGENET_CLC_DB / the default path)')
    .option('--config <FILE>', 'clc.conf to read DB from')
    .option('--json', 'JSON output')
    .addHelpText(
      'after',
      `
Safe next to running or starting CLCs (the migrations take the same lock as a
CLC's start and run once). A database whose schema is newer than this edgenet
is refused (DB_TOO_NEW) and left alone: upgrade edgenet first. A SQLite file
must exist (the CLC creates it at its first start); a PostgreSQL database must
exist (createdb) and may be empty.

Example:
  edgenet clc migrate --config /etc/edgenet/clc.conf`,
    )
    .action(async (_flags: Flags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<Flags>();
      let info;
      try {
        info = await migrateDatabase(databaseOf(cmd, ctx));
      } catch (err) {
        fail(err);
      }
      if (flags.json) ctx.out(JSON.stringify(info, null, 2));
      else if (info.migrated) ctx.out(`${info.database}: schema migrated from version ${info.from} to ${info.to}`);
      else ctx.out(`${info.database}: schema already current (version ${info.to})`);
    });
}
