/**
 * Network-namespace primitives for the lab and the integration tests, all
 * through the Exec seam (`ip`, `sysctl`, `kill`): nothing here touches the
 * root network namespace except `ip netns add/del` bookkeeping in /run/netns.
 *
 * STABLE API (netd's integration tests build their namespaces with it, through
 * test/helpers/netd-lab.ts; do not break):
 *   const ns = createNetns(exec, clock?)
 *   ns.add(name) · ns.delete(name) · ns.exists(name) · ns.list(prefix)
 *   ns.addBridge(ns, name) · ns.addVeth({ns, name, peerNs, peerName, mac?, peerMac?})
 *   ns.setMaster(ns, dev, bridge) · ns.addAddress(ns, dev, cidr) · ns.addRoute(ns, {dst, dev?, via?, nexthops?})
 *   ns.linkUp(ns, dev) · ns.setHairpin(ns, dev, on) · ns.sysctl(ns, key, value)
 *   ns.execIn(ns, argv, options?) → ExecResult · ns.startIn(ns, argv, {logFile?, env?, cwd?, detached?}) → Process
 *   ns.execFor(ns) → Exec (every command prefixed with `ip netns exec ns`)
 *   ns.pids(ns) → number[] · ns.killAll(ns, {graceMs?})
 *   assertIfName(name) — Linux interface names are at most 15 characters.
 *
 * Invariants: every function is idempotent where the kernel allows it
 * (deleting a missing namespace, killing an empty one and re-adding an existing
 * address succeed), and argv arrays are built here, never shell strings.
 */
import type { Exec, ExecOptions, ExecResult, Process } from '../shared/exec.ts';
import { prefixedExec } from '../shared/exec.ts';
import { EdgenetError, ExecError } from '../shared/errors.ts';
import type { Clock } from '../shared/clock.ts';
import { sleep, systemClock } from '../shared/clock.ts';

/** IFNAMSIZ is 16 including the NUL. */
const MAX_IFNAME = 15;

export function assertIfName(name: string): void {
  if (name.length === 0 || name.length > MAX_IFNAME || /[\s/:]/.test(name)) {
    throw new EdgenetError('LAB_BAD_IFNAME', `interface name "${name}" must be 1-${MAX_IFNAME} characters without spaces, '/' or ':'`);
  }
}

/** Namespace names become files under /run/netns: keep them simple. */
function assertNsName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new EdgenetError('LAB_BAD_NSNAME', `namespace name "${name}" must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}`);
  }
}

export interface VethSpec {
  /** Namespace of the first end. */
  readonly ns: string;
  readonly name: string;
  /** Namespace of the peer end (may equal `ns`). */
  readonly peerNs: string;
  readonly peerName: string;
  readonly mac?: string;
  readonly peerMac?: string;
}

export interface RouteSpec {
  /** Destination CIDR (either family) or `default`. */
  readonly dst: string;
  readonly dev?: string;
  readonly via?: string;
  /** A multipath (ECMP) route: one `nexthop via … dev …` each (instead of `via`/`dev`). */
  readonly nexthops?: readonly { readonly via: string; readonly dev?: string }[];
}

export interface StartInOptions {
  /** stdout+stderr appended here (default: discarded). */
  readonly logFile?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Own process group, survives the caller (lab daemons started by `edgenet lab up`). */
  readonly detached?: boolean;
}

export interface Netns {
  add(ns: string): Promise<void>;
  /** Kills nothing; deleting a missing namespace is not an error. */
  delete(ns: string): Promise<void>;
  exists(ns: string): Promise<boolean>;
  /** Namespace names starting with `prefix` (all when empty). */
  list(prefix?: string): Promise<string[]>;
  addBridge(ns: string, name: string): Promise<void>;
  addVeth(spec: VethSpec): Promise<void>;
  setMaster(ns: string, dev: string, bridge: string): Promise<void>;
  /** `cidr` like 10.0.0.1/24; an address already present is fine. */
  addAddress(ns: string, dev: string, cidr: string): Promise<void>;
  /** `ip route replace`: idempotent. */
  addRoute(ns: string, route: RouteSpec): Promise<void>;
  linkUp(ns: string, dev: string): Promise<void>;
  setHairpin(ns: string, dev: string, on: boolean): Promise<void>;
  sysctl(ns: string, key: string, value: string): Promise<void>;
  execIn(ns: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  startIn(ns: string, argv: readonly string[], options?: StartInOptions): Process;
  execFor(ns: string): Exec;
  pids(ns: string): Promise<number[]>;
  /** SIGTERM every process in the namespace, then SIGKILL what is left after `graceMs` (default 2000). */
  killAll(ns: string, options?: { graceMs?: number }): Promise<void>;
}

export function createNetns(exec: Exec, clock: Clock = systemClock): Netns {
  const ip = (args: readonly string[], options?: ExecOptions) => exec.run(['ip', ...args], { timeoutMs: 15_000, ...options });
  const inNs = (ns: string, argv: readonly string[]) => ['ip', 'netns', 'exec', ns, ...argv];

  const api: Netns = {
    async add(ns) {
      assertNsName(ns);
      await ip(['netns', 'add', ns]);
      // A fresh namespace has lo down; many tools (dhcpd, servers on 127.0.0.1) need it.
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    },

    async delete(ns) {
      assertNsName(ns);
      try {
        await ip(['netns', 'delete', ns]);
      } catch (err) {
        if (err instanceof ExecError && /No such file|does not exist|Invalid/.test(err.stderr)) return;
        throw err;
      }
    },

    async exists(ns) {
      return (await api.list(ns)).includes(ns);
    },

    async list(prefix = '') {
      const { stdout } = await ip(['netns', 'list']);
      // Lines look like "name" or "name (id: 3)".
      return stdout
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[0] ?? '')
        .filter((name) => name.length > 0 && name.startsWith(prefix));
    },

    async addBridge(ns, name) {
      assertIfName(name);
      await ip(['-n', ns, 'link', 'add', name, 'type', 'bridge']);
      await ip(['-n', ns, 'link', 'set', name, 'up']);
    },

    async addVeth(spec) {
      assertIfName(spec.name);
      assertIfName(spec.peerName);
      // Created directly inside the namespaces (never in the root namespace, not even briefly).
      const argv = ['-n', spec.ns, 'link', 'add', spec.name];
      if (spec.mac) argv.push('address', spec.mac);
      argv.push('type', 'veth', 'peer', 'name', spec.peerName);
      if (spec.peerMac) argv.push('address', spec.peerMac);
      if (spec.peerNs !== spec.ns) argv.push('netns', spec.peerNs);
      await ip(argv);
    },

    async setMaster(ns, dev, bridge) {
      await ip(['-n', ns, 'link', 'set', dev, 'master', bridge]);
    },

    async addAddress(ns, dev, cidr) {
      await ip(['-n', ns, 'addr', 'replace', cidr, 'dev', dev]);
    },

    async addRoute(ns, route) {
      const argv = ['-n', ns, 'route', 'replace', route.dst];
      if (route.via) argv.push('via', route.via);
      if (route.dev) argv.push('dev', route.dev);
      for (const hop of route.nexthops ?? []) argv.push('nexthop', 'via', hop.via, ...(hop.dev ? ['dev', hop.dev] : []));
      await ip(argv);
    },

    async linkUp(ns, dev) {
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
    },

    async setHairpin(ns, dev, on) {
      // `bridge link set` needs the port to be enslaved already.
      await exec.run(['bridge', '-n', ns, 'link', 'set', 'dev', dev, 'hairpin', on ? 'on' : 'off'], { timeoutMs: 15_000 });
    },

    async sysctl(ns, key, value) {
      await exec.run(inNs(ns, ['sysctl', '-q', '-w', `${key}=${value}`]), { timeoutMs: 15_000 });
    },

    execIn(ns, argv, options) {
      return exec.run(inNs(ns, argv), options);
    },

    startIn(ns, argv, options = {}) {
      return exec.start(inNs(ns, argv), {
        ...(options.logFile ? { logFile: options.logFile } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.detached ? { detached: true } : {}),
      });
    },

    execFor(ns) {
      return prefixedExec(exec, ['ip', 'netns', 'exec', ns]);
    },

    async pids(ns) {
      try {
        const { stdout } = await ip(['netns', 'pids', ns]);
        return stdout
          .split(/\s+/)
          .filter((s) => /^\d+$/.test(s))
          .map(Number);
      } catch (err) {
        if (err instanceof ExecError && /No such file|does not exist|Invalid/.test(err.stderr)) return [];
        throw err;
      }
    },

    async killAll(ns, options = {}) {
      const graceMs = options.graceMs ?? 2000;
      let pids = await api.pids(ns);
      if (pids.length === 0) return;
      await signal(exec, 'TERM', pids);
      const deadline = clock.now() + graceMs;
      while (clock.now() < deadline) {
        await sleep(clock, 50);
        pids = await api.pids(ns);
        if (pids.length === 0) return;
      }
      await signal(exec, 'KILL', pids);
      // SIGKILL is asynchronous too: wait (bounded) until the namespace is empty.
      const hardDeadline = clock.now() + 2000;
      while (clock.now() < hardDeadline && (await api.pids(ns)).length > 0) await sleep(clock, 50);
    },
  };
  return api;
}

/** `kill -SIG pid…`; processes that exited meanwhile are not an error. */
async function signal(exec: Exec, sig: 'TERM' | 'KILL', pids: readonly number[]): Promise<void> {
  if (pids.length === 0) return;
  await exec.run(['kill', `-${sig}`, ...pids.map(String)], { okExitCodes: [0, 1], timeoutMs: 10_000 });
}
