/**
 * Simulated hosts for the production-path test: each host is a network
 * namespace (made by the lab topology) plus its own mount namespace in which
 * /etc, /opt, /usr, /var and /root are overlays on the machine's directories
 * (writes land in a tmpfs that dies with the host) and /run is a fresh tmpfs.
 * So `scripts/install.sh`, `useradd`, /etc/edgenet and /var/lib/edgenet are
 * per host, as on separate machines, and the machine itself is never changed.
 *
 * A keeper process (`sleep`) holds the mount namespace; commands enter it with
 * `nsenter -t <keeper> -m -n`. Units are started the way systemd would start
 * them, from the unit file installed on the host: ExecStart, User, Group,
 * Environment, WorkingDirectory, UMask, StateDirectory (created and chowned),
 * CapabilityBoundingSet (through `setpriv --bounding-set`). What cannot be
 * reproduced without systemd (seccomp, ProtectSystem, PrivateTmp) is checked
 * statically by test/unit/deploy/units.test.ts with systemd-analyze.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Exec, ExecOptions, ExecResult } from '../../src/shared/exec.ts';
import { waitFor } from '../../src/shared/wait.ts';

const OVERLAID = ['etc', 'opt', 'usr', 'var', 'root'] as const;
/** Where a host sees the repository (`options.repo`), as an operator's copy of it. */
export const HOST_REPO = '/usr/src/edgenet';

export interface UnitService {
  readonly execStart: readonly string[];
  readonly user: string;
  readonly group: string | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly workingDirectory: string | undefined;
  readonly umask: string | undefined;
  readonly stateDirectories: readonly string[];
  readonly stateDirectoryMode: string;
  readonly capabilityBoundingSet: readonly string[] | undefined;
  readonly raw: ReadonlyMap<string, readonly string[]>;
}

/** The [Service] section of a unit file, as the keys this test needs. */
export function parseUnit(text: string): UnitService {
  const raw = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      section = header[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) continue;
    const key = trimmed.slice(0, eq);
    raw.set(key, [...(raw.get(key) ?? []), trimmed.slice(eq + 1)]);
  }
  const one = (key: string) => raw.get(key)?.at(-1);
  const environment: Record<string, string> = {};
  for (const value of raw.get('Environment') ?? []) {
    for (const assignment of value.split(/\s+/).filter(Boolean)) {
      const eq = assignment.indexOf('=');
      environment[assignment.slice(0, eq)] = assignment.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  const caps = one('CapabilityBoundingSet');
  return {
    execStart: (one('ExecStart') ?? '').split(/\s+/).filter(Boolean),
    user: one('User') ?? 'root',
    group: one('Group'),
    environment,
    workingDirectory: one('WorkingDirectory'),
    umask: one('UMask'),
    stateDirectories: (one('StateDirectory') ?? '').split(/\s+/).filter(Boolean),
    stateDirectoryMode: one('StateDirectoryMode') ?? '0755',
    capabilityBoundingSet: caps === undefined ? undefined : caps.split(/\s+/).filter(Boolean),
    raw,
  };
}

export interface RunningUnit {
  readonly unit: string;
  readonly pid: number;
  /** Inside the host. */
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the process has exited. */
  exitedYet(): boolean;
  log(): Promise<string>;
}

export interface SimHost {
  readonly name: string;
  readonly ns: string;
  readonly keeperPid: number;
  /** Runs argv inside the host (its network and mount namespaces), as root. */
  run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a unit as systemd would (see the module header). */
  startUnit(unit: string): Promise<RunningUnit>;
  readFile(file: string): Promise<string>;
  writeFile(file: string, content: string, mode?: string): Promise<void>;
  /** Kills the keeper: the host's mounts (and its tmpfs) go with it. */
  destroy(): Promise<void>;
}

export interface SimHostOptions {
  readonly name: string;
  readonly ns: string;
  /** An empty directory of the test's own: the host's writes live in a tmpfs mounted on it. */
  readonly dir: string;
  readonly exec: Exec;
  /** The checkout, bind-mounted read-write at HOST_REPO inside the host. */
  readonly repo: string;
}

/** Builds the host's mount namespace inside network namespace `ns`. */
export async function startSimHost(options: SimHostOptions): Promise<SimHost> {
  const { name, ns, dir, exec } = options;
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const upper = path.join(dir, 'overlay');
  await fs.mkdir(upper, { mode: 0o700 });
  const mounts = OVERLAID.map(
    (d) => `mkdir -p "$U/${d}.u" "$U/${d}.w" && mount -t overlay overlay -o lowerdir=/${d},upperdir="$U/${d}.u",workdir="$U/${d}.w" /${d}`,
  ).join(' && ');
  // The tmpfs under $U holds every write of the host; /run starts empty as after a boot.
  // The repository is visible in the host at /usr/src/edgenet (where the README's
  // operator keeps a copy), wherever the checkout is, also under /tmp, which the
  // host then hides: /tmp is private (systemd's PrivateTmp; tsx's compile cache
  // stays in the host).
  const script =
    `set -e; mount -t tmpfs -o mode=0700 tmpfs "$U"; ${mounts}; ` +
    `mkdir -p ${HOST_REPO} && mount --bind "$REPO" ${HOST_REPO}; ` +
    'mount -t tmpfs -o mode=0755 tmpfs /run; mount -t tmpfs -o mode=1777 tmpfs /tmp; echo ready; exec sleep infinity';
  const keeper: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script], {
    env: { ...process.env, U: upper, REPO: options.repo },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  keeper.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  keeper.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  let keeperExited = false;
  keeper.on('exit', () => (keeperExited = true));
  await waitFor(() => output.includes('ready') || keeperExited, { timeoutMs: 10_000, what: `host ${name} mount namespace` });
  if (keeperExited || keeper.pid === undefined) throw new Error(`host ${name}: could not build its mount namespace: ${output}`);
  const keeperPid = keeper.pid;
  // `ip netns exec` and `unshare` exec into each other, so the spawned pid is the keeper's.
  const enter = (argv: readonly string[]) => ['nsenter', '-t', String(keeperPid), '-m', '-n', '--', ...argv];

  const host: SimHost = {
    name,
    ns,
    keeperPid,
    run: (argv, runOptions) => exec.run(enter(argv), runOptions),
    async readFile(file) {
      return (await exec.run(enter(['cat', file]))).stdout;
    },
    async writeFile(file, content, mode = '0644') {
      await exec.run(enter(['sh', '-c', 'umask 077; cat > "$1.tmp" && chmod "$2" "$1.tmp" && mv "$1.tmp" "$1"', 'sh', file, mode]), { input: content });
    },
    async startUnit(unit) {
      const spec = parseUnit(await host.readFile(`/etc/systemd/system/${unit}.service`));
      // systemd creates StateDirectory= under /var/lib, owned by User=/Group=.
      for (const sd of spec.stateDirectories) {
        const target = `/var/lib/${sd}`;
        await host.run(['install', '-d', '-m', spec.stateDirectoryMode, '-o', spec.user, '-g', spec.group ?? spec.user, target]);
      }
      // Like the journal: the unit's output, on the host.
      const logFile = `/var/log/edgenet-test/${unit}.log`;
      await host.run(['install', '-d', '-m', '0700', path.dirname(logFile)]);
      const setpriv = ['setpriv', '--reuid', spec.user, '--regid', spec.group ?? spec.user, '--init-groups'];
      if (spec.capabilityBoundingSet !== undefined) {
        const keep = spec.capabilityBoundingSet.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
        setpriv.push('--bounding-set', ['-all', ...keep].join(','), '--inh-caps', '-all');
      }
      // What systemd puts in a service's environment for User=, then Environment=.
      const home = (await host.run(['getent', 'passwd', spec.user])).stdout.split(':')[5] ?? '/';
      const base = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, USER: spec.user, LOGNAME: spec.user };
      const envArgs = Object.entries({ ...base, ...spec.environment }).map(
        ([k, v]) => `${k}=${v}`,
      );
      const argv = enter([
        'sh',
        '-c',
        'umask "$1"; cd "$2"; exec >>"$3" 2>&1; shift 3; exec "$@"',
        'sh',
        spec.umask ?? '0022',
        spec.workingDirectory ?? '/',
        logFile,
        ...setpriv,
        '--',
        'env',
        '-i',
        ...envArgs,
        ...spec.execStart,
      ]);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
      let done = false;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, signal) => {
          done = true;
          resolve({ code, signal });
        }),
      );
      child.unref();
      if (child.pid === undefined) throw new Error(`${unit}: spawn failed`);
      return {
        unit,
        pid: child.pid,
        logFile,
        exited,
        exitedYet: () => done,
        log: () => host.readFile(logFile).catch(() => ''),
      };
    },
    async destroy() {
      if (!keeperExited) {
        keeper.kill('SIGKILL');
        await waitFor(() => keeperExited, { timeoutMs: 5000, what: `host ${name} keeper exit` }).catch(() => undefined);
      }
    },
  };
  return host;
}
