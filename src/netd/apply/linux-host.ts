/**
 * The real HostOps: standard tools through the Exec seam (argv arrays only),
 * /proc and /sys through the Files seam. Every tool runs in whatever network
 * namespace netd runs in (`ip netns exec NS edgenet netd …` in the lab).
 */
import * as fs from 'node:fs/promises';
import type { Exec } from '../../shared/exec.ts';
import type { Files } from '../../shared/files.ts';
import { ExecError } from '../../shared/errors.ts';
import type { ObservedAddress, ObservedLink } from '../plan/observed.ts';
import type { HostOps, TableName } from './host.ts';

interface IpJsonAddr {
  readonly ifname?: string;
  readonly addr_info?: readonly { family?: string; local?: string; prefixlen?: number; label?: string }[];
}
interface IpJsonLink {
  readonly ifname?: string;
  readonly flags?: readonly string[];
  readonly master?: string;
  readonly address?: string;
  readonly linkinfo?: { info_kind?: string; info_slave_data?: { hairpin?: boolean } };
}

function linkOf(l: IpJsonLink & { ifname: string }, hairpin: boolean | undefined): ObservedLink {
  return {
    name: l.ifname,
    up: (l.flags ?? []).includes('UP'),
    ...(l.master ? { master: l.master } : {}),
    isBridge: l.linkinfo?.info_kind === 'bridge',
    ...(l.address ? { mac: l.address } : {}),
    ...(hairpin !== undefined ? { hairpin } : {}),
  };
}

function inetOf(l: IpJsonAddr): ObservedAddress[] {
  const result: ObservedAddress[] = [];
  for (const a of l.addr_info ?? []) {
    if (a.family !== 'inet' || !a.local || a.prefixlen === undefined) continue;
    result.push({ address: a.local, prefixlen: a.prefixlen, ...(a.label ? { label: a.label } : {}) });
  }
  return result;
}

function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

export function createLinuxHost(deps: { exec: Exec; files: Files }): HostOps {
  const { exec, files } = deps;
  const run = (argv: string[], input?: string) => exec.run(argv, input === undefined ? { timeoutMs: 120_000 } : { input, timeoutMs: 120_000 });

  return {
    async iptablesSave(table?: TableName) {
      return (await run(table ? ['iptables-save', '-t', table] : ['iptables-save'])).stdout;
    },
    async iptablesRestore(text) {
      await run(['iptables-restore', '-w', '5', '--noflush'], text);
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
        result.push(linkOf({ ...l, ifname: l.ifname }, hairpin));
      }
      return result;
    },
    async interfaces() {
      const out = JSON.parse((await run(['ip', '-j', '-d', 'addr', 'show'])).stdout || '[]') as (IpJsonLink & IpJsonAddr)[];
      const links: ObservedLink[] = [];
      const addresses = new Map<string, ObservedAddress[]>();
      for (const l of out) {
        if (!l.ifname) continue;
        // A bridge port's hairpin flag is in the details (-d), so no sysfs read
        // per port; an iproute2 too old to print it gets the sysfs read.
        let hairpin = l.master ? l.linkinfo?.info_slave_data?.hairpin : undefined;
        if (l.master && hairpin === undefined) {
          const h = await files.read(`/sys/class/net/${l.ifname}/brport/hairpin_mode`).catch(() => undefined);
          if (h !== undefined) hairpin = h.trim() === '1';
        }
        links.push(linkOf({ ...l, ifname: l.ifname }, hairpin));
        addresses.set(l.ifname, inetOf(l));
      }
      return { links, addresses };
    },
    async allAddresses() {
      const out = JSON.parse((await run(['ip', '-j', '-4', 'addr', 'show'])).stdout || '[]') as IpJsonAddr[];
      return out.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => a.local as string));
    },
    async addresses(ifname): Promise<ObservedAddress[]> {
      let stdout: string;
      try {
        stdout = (await run(['ip', '-j', '-4', 'addr', 'show', 'dev', ifname])).stdout;
      } catch (err) {
        if (err instanceof ExecError && /does not exist|Cannot find device/i.test(err.stderr)) return [];
        throw err;
      }
      return (JSON.parse(stdout || '[]') as IpJsonAddr[]).flatMap(inetOf);
    },
    async changeAddresses(ops) {
      if (ops.length === 0) return;
      // -force: keep going past "exists"/"not there" (both mean converged); a real
      // failure (no such device) still makes the batch exit non-zero.
      const lines = ops.map((o) =>
        o.op === 'add'
          ? `addr replace ${o.address}/32 dev ${o.interface}${o.label ? ` label ${o.label}` : ''}`
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
    async createBridge(name) {
      await run(['ip', 'link', 'add', 'name', name, 'type', 'bridge']);
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

    readFile: (file) => files.read(file),
    writeFile: (file, content) => files.writeAtomic(file, content, { mode: 0o644 }),
    removeFile: (file) => files.remove(file),
    mkdirp: (dir) => files.mkdirp(dir, 0o755),
  };
}
