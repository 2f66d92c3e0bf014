/**
 * `edgenet clc backup FILE` and `edgenet clc restore FILE`: subcommands of
 * `edgenet clc` (added to it here, so clc.ts stays the daemon's command).
 * Both work on the database file (src/cloud-controller/db/backup.ts): backup
 * with the CLC running or not, restore with the CLC stopped. The database is
 * `--db`, else DB from `--config` (clc.conf) or EDGENET_CLC_DB, else the
 * default path — the same resolution as `edgenet clc`.
 */
import type { Command } from 'commander';
import { CliExit, type CliContext } from '../context.ts';
import { resolveClcConfig } from '../../cloud-controller/main.ts';
import { backupDatabase, restoreDatabase } from '../../cloud-controller/db/backup.ts';
import { EdgenetError } from '../../shared/errors.ts';

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
    .description('online, consistent copy of the CLC database to FILE (works while the CLC runs); FILE must not exist')
    .option('--db <PATH>', 'database file (default: DB of --config / EDGENET_CLC_DB / the default path)')
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

Example:
  edgenet clc backup /var/backups/edgenet/clc-$(date +%F).db`,
    )
    .action((file: string, _flags: Flags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<Flags>();
      let info;
      try {
        info = backupDatabase({ source: databaseOf(cmd, ctx), dest: file, now: Date.now() });
      } catch (err) {
        fail(err);
      }
      if (flags.json) ctx.out(JSON.stringify(info, null, 2));
      else ctx.out(`backup written: ${info.file} (${info.bytes} bytes, generation ${info.generation ?? '-'}, sequence ${info.sequence ?? '-'}, schema ${info.schemaVersion})`);
    });
  clc
    .command('restore <FILE>')
    .description('replace the CLC database by the backup FILE (the CLC must be stopped); the restored database takes a new generation')
    .option('--db <PATH>', 'database file (default: DB of --config / EDGENET_CLC_DB / the default path)')
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

Example:
  systemctl stop edgenet-clc && edgenet clc restore /var/backups/edgenet/clc-2024-05-01.db && systemctl start edgenet-clc`,
    )
    .action((file: string, _flags: Flags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<Flags>();
      let info;
      try {
        info = restoreDatabase({ backup: file, dbFile: databaseOf(cmd, ctx), now: Date.now() });
      } catch (err) {
        fail(err);
      }
      if (flags.json) ctx.out(JSON.stringify(info, null, 2));
      else {
        ctx.out(`restored ${info.file} from ${info.from}: generation ${info.generation} (backup's was ${info.previousGeneration ?? '-'}), sequence ${info.sequence ?? '-'}`);
        if (info.replacedKeptAs) ctx.out(`the replaced database is kept as ${info.replacedKeptAs}`);
      }
    });
}
