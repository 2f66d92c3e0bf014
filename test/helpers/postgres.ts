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
 * `testDatabaseUrl()`: a fresh, empty database on this process's shared
 * server (started on first use), for the store's and services' tests when
 * EDGENET_TEST_DB=postgres.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import pg from 'pg';

export interface PgServer {
  readonly dir: string;
  readonly port: number;
  /** The unix socket directory. */
  readonly socketDir: string;
  /** Data directory (pg_ctl -D). */
  readonly dataDir: string;
  /** postgres://postgres@127.0.0.1:PORT/NAME */
  url(database?: string): string;
  /** A new empty database; its URL. */
  createDatabase(name?: string): Promise<string>;
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
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? undefined : path.join(base, versions[0]!, 'bin');
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
    async createDatabase(name) {
      const db = name ?? `t${process.pid}_${++counter}`;
      const client = new pg.Client({ connectionString: server.url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return server.url(db);
    },
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

let shared: Promise<PgServer> | undefined;

/** This process's shared throwaway server (started on first use, stopped at exit). */
export function sharedPostgres(): Promise<PgServer> {
  shared ??= startPostgres();
  return shared;
}

/** A fresh empty database on the shared server. */
export async function testDatabaseUrl(): Promise<string> {
  return (await sharedPostgres()).createDatabase();
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
