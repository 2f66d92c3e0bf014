/**
 * The real HostOps: standard tools through the Exec seam (argv arrays only),
 * /proc and /sys through the Files seam. Every tool runs in whatever network
 * namespace netd runs in (`ip netns exec NS edgenet netd …` in the lab).
 */
import * as fs from 'node:fs/promises';
import type { Exec } from '../../shared/exec.ts';
import type { Files } from '../../shared/files.ts';
import { ExecError, errorMessage } from '../../shared/errors.ts';
import type { ObservedAddress, ObservedLink, ObservedNeighbour, ObservedRoute, ObservedRoute6 } from '../plan/observed.ts';
import type { HostOps, ObservedInterfaces, TableName } from './host.ts';
import { portBatchFailures, portBatchLines } from './port-batch.ts';

interface IpJsonAddr {
  readonly ifname?: string;
  readonly addr_info?: readonly { family?: string; local?: string; prefixlen?: number; label?: string; broadcast?: string }[];
}
interface IpJsonLink {
  readonly ifname?: string;
  readonly flags?: readonly string[];
  readonly master?: string;
  readonly address?: string;
  readonly linkinfo?: { info_kind?: string; info_slave_data?: { hairpin?: boolean } };
}

interface IpJsonRoute {
  readonly type?: string;
  readonly dst?: string;
  readonly gateway?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly metric?: number;
  readonly prefsrc?: string;
  readonly flags?: readonly string[];
  readonly nexthops?: unknown;
  /** Present with -d or for a table other than main. */
  readonly table?: string;
  /** IPv6 routes only (the router preference the kernel sends with each). */
  readonly pref?: string;
}

function linkOf(l: IpJsonLink & { ifname: string }, hairpin: boolean | undefined, macPinned: boolean | undefined): ObservedLink {
  return {
    name: l.ifname,
    up: (l.flags ?? []).includes('UP'),
    ...(l.master ? { master: l.master } : {}),
    isBridge: l.linkinfo?.info_kind === 'bridge',
    ...(l.address ? { mac: l.address } : {}),
    ...(macPinned !== undefined ? { macPinned } : {}),
    ...(hairpin !== undefined ? { hairpin } : {}),
  };
}

/** The spec of a route after `ip route replace|del` (the device is added by the caller). */
function routeArgs(r: ObservedRoute): string[] {
  return [
    r.dst,
    ...(r.gateway ? ['via', r.gateway] : []),
    ...(r.protocol ? ['proto', r.protocol] : []),
    ...(r.scope ? ['scope', r.scope] : []),
    ...(r.metric !== undefined ? ['metric', String(r.metric)] : []),
    ...(r.prefsrc ? ['src', r.prefsrc] : []),
    ...(r.onlink ? ['onlink'] : []),
  ];
}

function inetOf(l: IpJsonAddr, family: 'inet' | 'inet6' = 'inet'): ObservedAddress[] {
  const result: ObservedAddress[] = [];
  for (const a of l.addr_info ?? []) {
    if (a.family !== family || !a.local || a.prefixlen === undefined) continue;
    result.push({ address: a.local, prefixlen: a.prefixlen, ...(a.label ? { label: a.label } : {}), ...(a.broadcast ? { broadcast: a.broadcast } : {}) });
  }
  return result;
}

/** sysctl(8)'s mapping: dots separate the path's components, a '/' in the key is a dot in a component (`eth0/100` → `eth0.100`). */
function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;
}

interface IpJsonNeigh {
  readonly dst?: string;
  readonly dev?: string;
  readonly lladdr?: string;
  readonly state?: readonly string[];
}

/** `[{dst, dev}]` of `ip -j route show` (multipath routes left out: never ours). */
function ownedRoutes(list: readonly (IpJsonRoute & { dev?: string })[]): ObservedRoute6[] {
  const out: ObservedRoute6[] = [];
  for (const r of list) if (r.dst && r.dev && r.nexthops === undefined) out.push({ dst: r.dst, dev: r.dev });
  return out;
}

export function createLinuxHost(deps: { exec: Exec; files: Files }): HostOps {
  const { exec, files } = deps;
  const run = (argv: string[], input?: string) => exec.run(argv, input === undefined ? { timeoutMs: 120_000 } : { input, timeoutMs: 120_000 });
  // addr_assign_type 3 (NET_ADDR_SET): the MAC was set explicitly and a bridge keeps it
  // whatever ports come and go. Read for bridges only (one small sysfs read each).
  const macPinned = async (l: IpJsonLink): Promise<boolean | undefined> => {
    if (l.linkinfo?.info_kind !== 'bridge' || !l.ifname) return undefined;
    const t = await files.read(`/sys/class/net/${l.ifname}/addr_assign_type`).catch(() => undefined);
    return t === undefined ? undefined : t.trim() === '3';
  };
  // Links and their addresses of both families from `ip -j -d addr show`.
  const interfacesOf = async (out: readonly (IpJsonLink & IpJsonAddr)[]): Promise<ObservedInterfaces> => {
    const links: ObservedLink[] = [];
    const addresses = new Map<string, ObservedAddress[]>();
    const addresses6 = new Map<string, ObservedAddress[]>();
    for (const l of out) {
      if (!l.ifname) continue;
      // A bridge port's hairpin flag is in the details (-d), so no sysfs read
      // per port; an iproute2 too old to print it gets the sysfs read.
      let hairpin = l.master ? l.linkinfo?.info_slave_data?.hairpin : undefined;
      if (l.master && hairpin === undefined) {
        const h = await files.read(`/sys/class/net/${l.ifname}/brport/hairpin_mode`).catch(() => undefined);
        if (h !== undefined) hairpin = h.trim() === '1';
      }
      links.push(linkOf({ ...l, ifname: l.ifname }, hairpin, await macPinned(l)));
      addresses.set(l.ifname, inetOf(l));
      addresses6.set(l.ifname, inetOf(l, 'inet6'));
    }
    return { links, addresses, addresses6 };
  };

  return {
    async ipv6Available() {
      // The IPv6 stack creates /proc/net/if_inet6 (per network namespace, like
      // /proc/net itself) when it initialises; with ipv6.disable=1 it never does.
      return files.exists('/proc/net/if_inet6');
    },
    async iptablesSave(table?: TableName) {
      return (await run(table ? ['iptables-save', '-t', table] : ['iptables-save'])).stdout;
    },
    async iptablesRestore(text) {
      await run(['iptables-restore', '-w', '5', '--noflush'], text);
    },
    async ip6tablesSave(table?: TableName) {
      return (await run(table ? ['ip6tables-save', '-t', table] : ['ip6tables-save'])).stdout;
    },
    async ip6tablesRestore(text) {
      await run(['ip6tables-restore', '-w', '5', '--noflush'], text);
    },
    async ebtablesSave(table?: TableName) {
      // With -t one table; without it every table (nft and legacy backends alike).
      return (await run(table ? ['ebtables-save', '-t', table] : ['ebtables-save'])).stdout;
    },
    async ebtablesRestore(text) {
      await run(['ebtables-restore', '--noflush'], text);
    },
    async ipsetSave() {
      return (await run(['ipset', 'save'])).stdout;
    },
    async ipsetRestore(text) {
      await run(['ipset', 'restore'], text);
    },

    async links(): Promise<ObservedLink[]> {
      const out = JSON.parse((await run(['ip', '-j', '-d', 'link', 'show'])).stdout || '[]') as IpJsonLink[];
      const result: ObservedLink[] = [];
      for (const l of out) {
        if (!l.ifname) continue;
        let hairpin: boolean | undefined;
        if (l.master) {
          const h = await files.read(`/sys/class/net/${l.ifname}/brport/hairpin_mode`).catch(() => undefined);
          if (h !== undefined) hairpin = h.trim() === '1';
        }
        result.push(linkOf({ ...l, ifname: l.ifname }, hairpin, await macPinned(l)));
      }
      return result;
    },
    async hostReads(protocol) {
      // One process for every read: with -j each batch line prints one JSON array on its
      // own line, and -d (hairpin, bridge kind) applies to each. `table all` without a
      // family lists both families (`table main` alone would mean IPv4 only), each route
      // with its table (-d prints "main" too; without -d main's is left out).
      const input = `addr show\nroute show table all proto ${protocol}\nneigh show proto ${protocol}\n`;
      const lines = (await run(['ip', '-j', '-d', '-batch', '-'], input)).stdout.split('\n').filter((l) => l.trim() !== '');
      if (lines.length !== 3) throw new ExecError(['ip', '-j', '-d', '-batch', '-'], 0, `expected 3 JSON lines, got ${lines.length}`);
      const [addrLine, routeLine, neighLine] = lines as [string, string, string];
      const parse = <T>(line: string, what: string): T => {
        try {
          return JSON.parse(line) as T;
        } catch (err) {
          throw new ExecError(['ip', '-j', '-d', '-batch', '-'], 0, `its ${what} output is not JSON: ${errorMessage(err)}`);
        }
      };
      const interfaces = await interfacesOf(parse<(IpJsonLink & IpJsonAddr)[]>(addrLine, 'addr show'));
      // Only the main table's: a route of our protocol in another table is someone else's policy routing.
      const main = parse<(IpJsonRoute & { dev?: string })[]>(routeLine, 'route show').filter((r) => r.table === undefined || r.table === 'main');
      // The family: the JSON has no field for it, and `default` is either's destination; the kernel sends
      // every IPv6 route with its preference (`pref`), never an IPv4 one.
      const isIpv6 = (r: IpJsonRoute) => (r.dst ?? '').includes(':') || (r.gateway ?? '').includes(':') || r.pref !== undefined;
      const routes4 = ownedRoutes(main.filter((r) => !isIpv6(r)));
      const routes6 = ownedRoutes(main.filter(isIpv6));
      const neighbours: ObservedNeighbour[] = [];
      for (const n of parse<IpJsonNeigh[]>(neighLine, 'neigh show')) {
        if (!n.dst || !n.dev) continue;
        neighbours.push({ dst: n.dst, dev: n.dev, ...(n.lladdr ? { lladdr: n.lladdr } : {}), permanent: (n.state ?? []).includes('PERMANENT') });
      }
      return { interfaces, routes4, routes6, neighbours };
    },
    async allAddresses() {
      const out = JSON.parse((await run(['ip', '-j', '-4', 'addr', 'show'])).stdout || '[]') as IpJsonAddr[];
      return out.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => a.local as string));
    },
    async changeAddresses(ops) {
      if (ops.length === 0) return;
      // -force: keep going past "exists"/"not there" (both mean converged); a real
      // failure (no such device) still makes the batch exit non-zero.
      const lines = ops.map((o) =>
        o.op === 'add'
          ? `addr replace ${o.address}/${o.prefixlen ?? 32}${o.broadcast ? ` brd ${o.broadcast}` : ''} dev ${o.interface}${o.label ? ` label ${o.label}` : ''}`
          : `addr del ${o.address}/${o.prefixlen} dev ${o.interface}`,
      );
      await exec.run(['ip', '-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 60_000 }).catch((err) => {
        if (err instanceof ExecError && /Cannot assign requested address|File exists/.test(err.stderr) && !/Cannot find device/.test(err.stderr)) return;
        throw err;
      });
    },
    gratuitousArp(ifname, address) {
      // Best effort (EUCA-12813), in the background: an unsolicited ARP gets no
      // answer, so waiting for arping would cost its whole deadline per address.
      // Habets arping takes -i; iputils arping (-I) ignores this and fails harmlessly.
      try {
        exec.start(['arping', '-q', '-U', '-c', '1', '-w', '1', '-i', ifname, '-S', address, address]);
      } catch {
        // no arping installed: neighbours learn the address at their next ARP
      }
    },
    async createBridge(name, mac) {
      await run(['ip', 'link', 'add', 'name', name, ...(mac ? ['address', mac] : []), 'type', 'bridge']);
    },
    async setMac(name, mac) {
      await run(['ip', 'link', 'set', 'dev', name, 'address', mac]);
    },
    async routes(ifname) {
      let stdout: string;
      try {
        stdout = (await run(['ip', '-j', '-4', 'route', 'show', 'table', 'main', 'dev', ifname])).stdout;
      } catch (err) {
        if (err instanceof ExecError && /does not exist|Cannot find device/i.test(err.stderr)) return [];
        throw err;
      }
      const out: ObservedRoute[] = [];
      for (const r of JSON.parse(stdout || '[]') as IpJsonRoute[]) {
        if (!r.dst || r.nexthops !== undefined) continue; // multipath routes are the operator's
        out.push({
          dst: r.dst,
          ...(r.gateway ? { gateway: r.gateway } : {}),
          ...(r.protocol ? { protocol: r.protocol } : {}),
          ...(r.scope && r.scope !== 'global' ? { scope: r.scope } : {}),
          ...(r.metric !== undefined ? { metric: r.metric } : {}),
          ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
          ...(r.type && r.type !== 'unicast' ? { type: r.type } : {}),
          ...((r.flags ?? []).includes('onlink') ? { onlink: true } : {}),
        });
      }
      return out;
    },
    async moveRoute(route, from, to) {
      await run(['ip', 'route', 'replace', ...routeArgs(route), 'dev', to]);
      // Replace took over the route with the same key; a copy that had another key stays on `from`.
      await exec.run(['ip', 'route', 'del', ...routeArgs(route), 'dev', from], { okExitCodes: [0, 2], timeoutMs: 120_000 });
    },
    async changePorts(ops) {
      if (ops.length === 0) return;
      const lines = portBatchLines(ops);
      const argv = ['ip', '-force', '-batch', '-'];
      const r = await exec.run(argv, { input: `${lines.join('\n')}\n`, timeoutMs: 60_000, okExitCodes: [0, 1, 2] });
      if (r.exitCode === 0) return;
      const failures = portBatchFailures(ops, lines, r.stderr);
      if (failures.length > 0) throw new ExecError(argv, r.exitCode, failures.join('\n'));
    },
    async setNoMaster(name) {
      await run(['ip', 'link', 'set', 'dev', name, 'nomaster']);
    },
    async replaceRoute6(prefix, dev, protocol) {
      await run(['ip', '-6', 'route', 'replace', prefix, 'dev', dev, 'proto', String(protocol)]);
    },
    async deleteRoute6(prefix, dev, protocol) {
      // Exit 2 (No such process / Cannot find device): already gone, which is the result we want.
      await exec.run(['ip', '-6', 'route', 'del', prefix, 'dev', dev, 'proto', String(protocol)], { okExitCodes: [0, 2], timeoutMs: 120_000 });
    },
    async setMaster(name, bridge) {
      await run(['ip', 'link', 'set', 'dev', name, 'master', bridge]);
    },
    async setUp(name) {
      await run(['ip', 'link', 'set', 'dev', name, 'up']);
    },
    async setHairpin(name) {
      await run(['ip', 'link', 'set', 'dev', name, 'type', 'bridge_slave', 'hairpin', 'on']);
    },

    async readSysctl(key) {
      const v = await files.read(sysctlPath(key)).catch(() => undefined);
      return v?.trim();
    },
    async writeSysctl(key, value) {
      // /proc/sys files cannot be replaced by rename: write in place.
      await fs.writeFile(sysctlPath(key), `${value}\n`);
    },
    async loadModule(name) {
      await exec.run(['modprobe', name], { okExitCodes: [0, 1] }).catch(() => undefined);
    },

    monitorLinks(onLine) {
      // Not detached: it ends with netd (execa's cleanup), and netd stops it when it leaves ROUTED.
      const p = exec.start(['ip', '-o', 'monitor', 'link'], { onLine });
      return { exited: p.exited.then(() => undefined), stop: () => p.kill('SIGTERM') };
    },

    async processArgv(pid) {
      const raw = await files.read(`/proc/${pid}/cmdline`).catch(() => undefined);
      if (raw === undefined || raw === '') return undefined;
      // A zombie has an empty cmdline; a dead pid has no directory.
      const stat = await files.read(`/proc/${pid}/stat`).catch(() => undefined);
      if (stat !== undefined && / Z /.test(stat.slice(stat.lastIndexOf(')')))) return undefined;
      return raw.split('\0').filter((a) => a !== '');
    },
    async startDaemon(argv, logFile) {
      const p = exec.start(argv, { detached: true, logFile });
      if (p.pid <= 0) throw new ExecError(argv, undefined, 'failed to start');
      return p.pid;
    },
    async kill(pid, signal) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    },

    async runCheck(argv) {
      try {
        const r = await exec.run(argv, { timeoutMs: 10_000 });
        return { ok: true, output: `${r.stdout}${r.stderr}` };
      } catch (err) {
        if (err instanceof ExecError) return { ok: false, output: err.stderr || err.message };
        throw err;
      }
    },

    readFile: (file) => files.read(file),
    writeFile: (file, content, mode = 0o644) => files.writeAtomic(file, typeof content === 'string' ? content : Buffer.from(content), { mode }),
    async fileMode(file) {
      try {
        return (await fs.stat(file)).mode & 0o7777;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    removeFile: (file) => files.remove(file),
    mkdirp: (dir) => files.mkdirp(dir, 0o755),
    async listDir(dir) {
      try {
        return await fs.readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    removeTree: (target) => fs.rm(target, { recursive: true, force: true }),
    async buildIso(output, label, inputs) {
      const tmp = `${output}.tmp`;
      try {
        await exec.run(['genisoimage', '-quiet', '-output', tmp, '-volid', label, '-joliet', '-rock', ...inputs], { timeoutMs: 30_000 });
        // 0600: the image carries the instance's user-data, which may hold secrets (apply/config-drive.ts DRIVE_FILE_MODE).
        await fs.chmod(tmp, 0o600);
        await fs.rename(tmp, output);
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw err;
      }
    },
  };
}
