/**
 * A throwaway PostgreSQL server for tests (Debian's `postgresql` package,
 * installed by scripts/setup.sh): initdb as the `postgres` user in a fresh
 * temporary directory, listening on loopback (a free port) and on a unix
 * socket in that directory, no durability by default (fsync off: it is thrown away;
 * `durability` asks for more: a server-crash test, a benchmark).
 * Removed when stopped, and at process exit whatever happens (the server by
 * its pid, the directory by its path).
 *
 * `postgresUnavailable()` says why a test cannot run (not root, package
 * missing); tests skip loudly with it, and fail under CI=true (root.ts).
 *
 * `testDatabaseUrl()`: a fresh database at the current schema on this
 * process's shared server (started on first use), for the store's and
 * services' tests when EDGENET_TEST_DB=postgres. It is a copy of a template
 * this process migrated once (CREATE DATABASE … TEMPLATE: a few ms instead of
 * running every migration per test); Store.open takes a new generation on it
 * as on a new database. `server.createDatabase()` is an empty one (migration
 * tests).
 *
 * One server for many processes: test/helpers/with-postgres.ts starts one
 * and runs a command (scripts/test.sh's unit-postgres phase: `node --test`
 * and its per-file processes) with EDGENET_TEST_PG_URL set; sharedPostgres()
 * then attaches to it instead of starting its own (initdb + start is the
 * larger part of a small test file's time). An attached server cannot be
 * stopped or restarted by a test: those start their own (startPostgres).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { migratePostgres } from '../../src/cloud-controller/db/migrations.ts';
import { createPool } from '../../src/cloud-controller/db/postgres.ts';
import type { Database } from '../../src/cloud-controller/db/schema.ts';
import { newestPostgresBinDir } from '../../src/shared/postgres-bin.ts';

export interface PgServer {
  readonly dir: string;
  readonly port: number;
  /** The unix socket directory. */
  readonly socketDir: string;
  /** Data directory (pg_ctl -D). */
  readonly dataDir: string;
  /** postgres://postgres@127.0.0.1:PORT/NAME */
  url(database?: string): string;
  /** A new database (empty, or a copy of `template`); its URL. */
  createDatabase(name?: string, options?: { readonly template?: string }): Promise<string>;
  /** pg_ctl stop -m MODE (fast: connections are terminated), server stays stopped. */
  stopServer(mode?: 'fast' | 'immediate'): void;
  /** Starts it again on the same port and directory. */
  startServer(): void;
  /** pg_ctl restart -m fast. */
  restart(): void;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops the server and removes its directory. */
  stop(): void;
}

function binDir(): string | undefined {
  return newestPostgresBinDir('initdb');
}

/** Why a PostgreSQL test cannot run here, or undefined when it can. */
export function postgresUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'PostgreSQL tests need root (initdb and postgres run as the postgres user via runuser)';
  if (binDir() === undefined) return 'PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb missing): run bash scripts/setup.sh';
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'no postgres user (the postgresql package creates it): run bash scripts/setup.sh';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<PgServer>();
let exitHook = false;

export interface PgServerOptions {
  /**
   * `none` (default): fsync, synchronous_commit and full_page_writes off — fast, and a commit
   * can be lost when the server process crashes (stop -m immediate). `crash`: synchronous_commit
   * on (a commit is in the OS before COMMIT answers: survives the server's crash, not the
   * machine's). `full`: also fsync and full_page_writes on (production settings, for benchmarks).
   */
  readonly durability?: 'none' | 'crash' | 'full';
}

/** Starts a throwaway server (about 0.5 s). Throws with the reason when it cannot. */
export async function startPostgres(options: PgServerOptions = {}): Promise<PgServer> {
  const why = postgresUnavailable();
  if (why !== undefined) throw new Error(why);
  const bin = binDir()!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-pg-'));
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  const socketDir = dir;
  const logFile = path.join(dir, 'server.log');
  const pgUid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const pgGid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  fs.chownSync(dir, pgUid, pgGid);
  const asPostgres = (cmd: string, args: string[]) => {
    const r = spawnSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}\n${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : ''}`);
    return r.stdout;
  };
  const port = await freePort();
  const durability = options.durability ?? 'none';
  const settings = {
    fsync: durability === 'full' ? 'on' : 'off',
    synchronous_commit: durability === 'none' ? 'off' : 'on',
    full_page_writes: durability === 'full' ? 'on' : 'off',
    max_connections: '200',
  };
  const serverOptions = `-k ${socketDir} -h 127.0.0.1 -p ${port} ${Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ')}`;
  let running = false;
  const startServer = () => {
    asPostgres('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '30', '-o', serverOptions, 'start']);
    running = true;
  };
  const stopServer = (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return;
    asPostgres('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
    running = false;
  };
  let counter = 0;
  const server: PgServer = {
    dir,
    port,
    socketDir,
    dataDir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    createDatabase: (name, options) => createDatabaseOn(server.url(), name ?? `t${process.pid}_${++counter}`, options?.template),
    stopServer,
    startServer,
    restart() {
      asPostgres('pg_ctl', ['-D', dataDir, '-l', logFile, '-m', 'fast', '-w', '-t', '30', '-o', serverOptions, 'restart']);
      running = true;
    },
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    stop() {
      live.delete(server);
      try {
        stopServer('immediate');
      } catch {
        killByPidFile(dataDir);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(server);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const s of [...live]) s.stop();
    });
    // A test process ended by a signal (node --test cancelling a file, ^C) runs no 'exit' handlers:
    // stop the servers, then die of the same signal.
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, () => {
        for (const s of [...live]) s.stop();
        process.kill(process.pid, signal);
      });
    }
  }
  try {
    asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    startServer();
  } catch (err) {
    server.stop();
    throw err;
  }
  return server;
}

/** The postmaster started by this helper, ended by the pid in its own data directory (never by name). */
function killByPidFile(dataDir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    // Not running.
  }
}

async function createDatabaseOn(adminUrl: string, name: string, template: string | undefined): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"${template === undefined ? '' : ` TEMPLATE "${template}"`}`);
  } finally {
    await client.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Environment variable naming a server started by with-postgres.ts (its postgres database's URL). */
export const SHARED_SERVER_ENV = 'EDGENET_TEST_PG_URL';

/** A server this process did not start (SHARED_SERVER_ENV): databases only; never stopped from here. */
function attachedServer(adminUrl: string): PgServer {
  const u = new URL(adminUrl);
  let counter = 0;
  const notOurs = (what: string) => () => {
    throw new Error(`${what}: the shared test server (${SHARED_SERVER_ENV}) is not this process's; start one with startPostgres()`);
  };
  return {
    dir: '',
    port: Number(u.port),
    socketDir: '',
    dataDir: '',
    url: (database = 'postgres') => {
      const x = new URL(adminUrl);
      x.pathname = `/${database}`;
      return x.toString();
    },
    createDatabase: (name, options) => createDatabaseOn(adminUrl, name ?? `t${process.pid}_${++counter}`, options?.template),
    stopServer: notOurs('stopServer'),
    startServer: notOurs('startServer'),
    restart: notOurs('restart'),
    log: () => '',
    stop: () => undefined,
  };
}

let shared: Promise<PgServer> | undefined;

/** This process's shared throwaway server (started on first use, stopped at exit; or the one of SHARED_SERVER_ENV). */
export function sharedPostgres(): Promise<PgServer> {
  const attached = process.env[SHARED_SERVER_ENV];
  shared ??= attached !== undefined && attached !== '' ? Promise.resolve(attachedServer(attached)) : startPostgres();
  return shared;
}

let template: Promise<string> | undefined;

/** This process's template: an empty database brought to the current schema, never connected to again. */
async function migratedTemplate(server: PgServer): Promise<string> {
  const name = `tpl${process.pid}_${Date.now().toString(36)}`;
  const url = await server.createDatabase(name);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool({ url, max: 1 }) }) });
  try {
    await migratePostgres(db);
  } finally {
    await db.destroy();
  }
  return name;
}

/** A fresh database at the current schema on the shared server (see the header). */
export async function testDatabaseUrl(): Promise<string> {
  const server = await sharedPostgres();
  template ??= migratedTemplate(server);
  return server.createDatabase(undefined, { template: await template });
}

/** Which store the store/services unit tests use: EDGENET_TEST_DB=postgres selects PostgreSQL. */
export function testStoreKind(): 'sqlite' | 'postgres' {
  return process.env.EDGENET_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * For tests that need a throwaway server: true when they may run; otherwise
 * a loud skip with the reason, a failure under CI=true (as root.ts).
 */
export function requirePostgres(t: { skip(message?: string): void }): boolean {
  const why = postgresUnavailable();
  if (why === undefined) return true;
  const msg = `PostgreSQL test NOT run: ${why}`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI=true makes this a failure`);
  process.stderr.write(`\n!!! SKIPPED: ${msg}\n`);
  t.skip(msg);
  return false;
}
