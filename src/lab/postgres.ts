/**
 * The lab's PostgreSQL server (`lab up --db postgres`, issue 16): a
 * throwaway cluster made with Debian's `postgresql` package the way
 * platform-notes §7 and test/helpers/postgres.ts do it: initdb as the
 * `postgres` user (initdb refuses root) in a postgres-owned directory
 * (<tmp>/edgenet-lab-<name>-pg, mode 0700: plan.ts haPlan says why it is
 * not under the lab's), the server started with pg_ctl inside the control
 * namespace, listening on that namespace's 127.0.0.1:5432 and on a unix
 * socket in that directory. Trust authentication: nothing outside the namespace
 * (and root on the host) reaches it. fsync stays on: it is the lab, not a
 * test fixture, and the failover bench should pay what a real commit costs.
 *
 * Stopped by `lab down` with `pg_ctl stop -m fast` on its data directory
 * (the postmaster's pid is in postmaster.pid; SIGKILL by that pid when
 * pg_ctl fails), before the namespaces go, then its directory is removed.
 * Paths come from the plan alone, so `down` stops it after a crash too.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Exec } from '../shared/exec.ts';
import { newestPostgresBinDir, POSTGRES_BASE } from '../shared/postgres-bin.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { createNetns } from './netns.ts';
import type { LabPostgresPlan } from './plan.ts';
import type { LabProcess } from './state.ts';

/** The newest installed PostgreSQL's bin directory (Debian layout), or undefined. */
export function postgresBinDir(): string | undefined {
  return newestPostgresBinDir('initdb');
}

const failed = (message: string, cause?: unknown) => new EdgenetError('LAB_POSTGRES_FAILED', message, cause === undefined ? undefined : { cause });

async function serverLog(pg: LabPostgresPlan): Promise<string> {
  const text = await fs.readFile(pg.log, 'utf8').catch(() => '');
  return text ? `\n${pg.log}:\n${text.slice(-2000)}` : '';
}

/**
 * initdb + pg_ctl start in `ctlNs` + createdb; returns the postmaster's
 * state-file entry. The directory is made fresh (mkdir, never reused: a
 * left-over one is refused, `lab down` removes it).
 */
export async function startLabPostgres(pg: LabPostgresPlan, options: { labDir: string; ctlNs: string }, deps: { exec: Exec }): Promise<LabProcess> {
  const bin = postgresBinDir();
  if (bin === undefined) throw failed(`PostgreSQL is not installed (${POSTGRES_BASE}/*/bin/initdb missing): install Debian's postgresql package (bash scripts/setup.sh)`);
  // pg_ctl hands -o to a shell: refuse a path it would split or unquote.
  if (/['"\s\\$`]/.test(pg.dir)) throw failed(`PostgreSQL's directory ${pg.dir} has a quote, space or shell character; pg_ctl cannot take it (set TMPDIR to a plain path)`);
  const asPostgres = (argv: readonly string[]) => ['runuser', '-u', 'postgres', '--', ...argv];
  const run = async (what: string, argv: readonly string[], ns?: string) => {
    try {
      return ns ? await createNetns(deps.exec).execIn(ns, argv, { timeoutMs: 90_000 }) : await deps.exec.run(argv, { timeoutMs: 90_000 });
    } catch (err) {
      throw failed(`${what} failed: ${errorMessage(err)}${await serverLog(pg)}`, err);
    }
  };
  const id = async (flag: '-u' | '-g') => Number((await run('id postgres', ['id', flag, 'postgres'])).stdout.trim());
  const [uid, gid] = [await id('-u'), await id('-g')];
  try {
    await fs.mkdir(pg.dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw failed(`${pg.dir} exists (a lab's PostgreSQL left behind?): run edgenet lab down for that lab first, or remove it`, err);
    throw failed(`cannot make ${pg.dir}: ${errorMessage(err)}`, err);
  }
  await fs.chown(pg.dir, uid, gid);
  const reach = await deps.exec.run(asPostgres(['test', '-w', pg.dir]), { okExitCodes: [0, 1] });
  if (reach.exitCode !== 0) {
    throw failed(`the postgres user cannot reach ${pg.dir}: every directory above it must be searchable by others (chmod o+x; TMPDIR picks another place)`);
  }
  await run('initdb', asPostgres([path.join(bin, 'initdb'), '-D', pg.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']));
  await run('pg_ctl start', asPostgres([path.join(bin, 'pg_ctl'), '-D', pg.dataDir, '-l', pg.log, '-w', '-t', '60', '-o', `-k '${pg.dir}' -h 127.0.0.1 -p ${pg.port}`, 'start']), options.ctlNs);
  // Over the unix socket (the filesystem is shared; the TCP port is only in the control namespace).
  await run('createdb', asPostgres([path.join(bin, 'createdb'), '-h', pg.dir, '-p', String(pg.port), pg.database]));
  const pid = await postmasterPid(pg);
  if (pid === undefined) throw failed(`PostgreSQL started but ${pg.dataDir}/postmaster.pid has no pid${await serverLog(pg)}`);
  return { role: 'postgres', ns: options.ctlNs, pid, argv: [path.join(bin, 'postgres'), '-D', pg.dataDir], log: pg.log };
}

/** The postmaster on this data directory is alive at `pid` (pids are reused: its command line must name the directory). */
async function isPostmaster(pid: number, pg: LabPostgresPlan): Promise<boolean> {
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').join(' ').includes(pg.dataDir);
}

async function postmasterPid(pg: LabPostgresPlan): Promise<number | undefined> {
  const text = await fs.readFile(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/**
 * Stops the lab's server if its data directory says one runs: pg_ctl stop
 * -m fast (sessions are terminated), else SIGKILL by the postmaster's pid
 * when that pid is still a postgres on this data directory. True when it stopped one.
 */
export async function stopLabPostgres(pg: LabPostgresPlan, deps: { exec: Exec; log: (line: string) => void }): Promise<boolean> {
  const pid = await postmasterPid(pg);
  if (pid === undefined || !(await isPostmaster(pid, pg))) return false;
  const bin = postgresBinDir();
  try {
    if (bin === undefined) throw new Error('PostgreSQL binaries missing');
    await deps.exec.run(['runuser', '-u', 'postgres', '--', path.join(bin, 'pg_ctl'), '-D', pg.dataDir, '-m', 'fast', '-w', '-t', '20', 'stop'], { timeoutMs: 30_000 });
  } catch (err) {
    deps.log(`lab: pg_ctl stop failed (${errorMessage(err)}); killing the postmaster, pid ${pid}`);
    if (await isPostmaster(pid, pg)) process.kill(pid, 'SIGKILL');
  }
  return true;
}
