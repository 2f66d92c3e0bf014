/**
 * An instance's resolv.conf in the lab: the IPv4 name servers from DHCP
 * (dhclient.ts) and, on a dual-stack lab, the IPv6 ones from the node's router
 * advertisements (RDNSS, RFC 8106), read by rdnssd running inside the
 * instance namespace.
 *
 * Model: each source writes its own fragment in the instance's directory
 * (`<workDir>/dns/<id>/`): dhclient's script writes `ipv4.resolv`, rdnssd
 * writes `ipv6.resolv` (`-r`). A fixed merge script (`merge-resolv`, rdnssd's
 * `-H` hook, also run by dhclient's script) concatenates them into
 * /etc/netns/<ns>/resolv.conf, which `ip netns exec <ns>` bind-mounts over
 * /etc/resolv.conf. Never the host's /etc/resolv.conf: Debian's rdnssd
 * merge-hook (/etc/rdnssd/merge-hook) edits /etc/resolv.conf, which inside
 * `ip netns exec` is the host's file unless /etc/netns/<ns>/resolv.conf
 * existed before the command started, and its temp files land in the host's
 * /etc either way; so rdnssd always gets our own hook.
 *
 * rdnssd runs as root (`-u root`): its unprivileged half writes the `-r`
 * file, and the lab's directories are root-only (0700); the namespace is a
 * lab instance, not a host. It daemonizes and writes its pid file; it is
 * stopped by that pid after checking the pid is still rdnssd with our pid
 * file (pids are reused), and the namespace's teardown kills whatever is left.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Netns } from './netns.ts';
import type { Clock } from '../shared/clock.ts';
import { sleep, systemClock } from '../shared/clock.ts';
import { waitFor } from '../shared/wait.ts';
import { labNames } from './names.ts';

export interface InstanceDnsFiles {
  readonly dir: string;
  /** dhclient's fragment (nameserver/search lines from the DHCPv4 lease). */
  readonly ipv4: string;
  /** rdnssd's `-r` file (nameserver lines from RDNSS). */
  readonly ipv6: string;
  /** The merge script (rdnssd's `-H` hook; dhclient's script runs it too). */
  readonly merge: string;
  readonly rdnssdPid: string;
  /** /etc/netns/<ns>/resolv.conf: what the instance sees as /etc/resolv.conf. */
  readonly resolvConf: string;
}

export function instanceDnsFiles(workDir: string, instance: { readonly id: string; readonly ns: string }): InstanceDnsFiles {
  const dir = path.join(workDir, 'dns', instance.id);
  return {
    dir,
    ipv4: path.join(dir, 'ipv4.resolv'),
    ipv6: path.join(dir, 'ipv6.resolv'),
    merge: path.join(dir, 'merge-resolv'),
    rdnssdPid: path.join(dir, 'rdnssd.pid'),
    resolvConf: path.join(labNames.etcNetnsDir(instance.ns), 'resolv.conf'),
  };
}

export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The merge script (POSIX sh; every path baked in: rdnssd and dhclient pass
 * no environment of ours). It builds the new text in the instance's own
 * directory and rewrites resolv.conf in place, only when the text changed:
 * rdnssd runs its hook on every advertisement (every few seconds), and
 * `ip netns exec` bind-mounts every file in /etc/netns/<ns>/, so a temp file
 * there would race every command run in the namespace; in place, processes
 * that already bind-mounted the file see the change too.
 */
export function mergeResolvScript(files: InstanceDnsFiles): string {
  const out = shQuote(files.resolvConf);
  const next = shQuote(path.join(files.dir, 'resolv.conf.next'));
  return `#!/bin/sh
# edgenet lab: resolv.conf = DHCPv4 name servers + RDNSS (IPv6) name servers (see src/lab/instance-dns.ts).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
cat ${shQuote(files.ipv4)} ${shQuote(files.ipv6)} 2>/dev/null > ${next}
mkdir -p ${shQuote(path.dirname(files.resolvConf))}
cmp -s ${next} ${out} || cat ${next} > ${out}
rm -f ${next}
exit 0
`;
}

/** Writes the merge script (and the directory) for an instance; idempotent. */
export async function prepareInstanceDns(files: InstanceDnsFiles): Promise<void> {
  await fs.mkdir(files.dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(files.merge, mergeResolvScript(files), { mode: 0o700 });
}

/** rdnssd's command line: daemon, our fragment, our hook, our pid file, no privilege drop (see header). */
export function rdnssdArgv(files: InstanceDnsFiles): string[] {
  return ['rdnssd', '-u', 'root', '-r', files.ipv6, '-H', files.merge, '-p', files.rdnssdPid];
}

/** `nameserver X` lines of a resolv.conf text, in order. */
export function parseNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Starts rdnssd in the namespace (it daemonizes) and waits (bounded) for its pid file; returns the pid. */
export async function startRdnssd(netns: Netns, ns: string, files: InstanceDnsFiles, options: { clock?: Clock; timeoutMs?: number } = {}): Promise<number> {
  await prepareInstanceDns(files);
  await fs.rm(files.rdnssdPid, { force: true });
  await netns.execIn(ns, rdnssdArgv(files), { timeoutMs: 15_000 });
  return waitFor(async () => readPid(files.rdnssdPid), { timeoutMs: options.timeoutMs ?? 5_000, intervalMs: 20, what: `rdnssd's pid file ${files.rdnssdPid}`, clock: options.clock ?? systemClock });
}

async function readPid(file: string): Promise<number | undefined> {
  const text = (await fs.readFile(file, 'utf8').catch(() => '')).trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Our rdnssd: the process still runs rdnssd with our pid file on its command line. */
async function isOurRdnssd(pid: number, files: InstanceDnsFiles): Promise<boolean> {
  const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return path.basename(argv[0] ?? '') === 'rdnssd' && argv.includes(files.rdnssdPid);
}

/**
 * Stops the instance's rdnssd by its recorded pid (SIGTERM; its unprivileged
 * half exits with it), SIGKILL after `graceMs`. Nothing recorded, or the pid
 * now something else: nothing is signalled. Returns whether it signalled.
 */
export async function stopRdnssd(files: InstanceDnsFiles, options: { clock?: Clock; graceMs?: number } = {}): Promise<boolean> {
  const clock = options.clock ?? systemClock;
  const pid = await readPid(files.rdnssdPid);
  if (pid === undefined || !(await isOurRdnssd(pid, files))) return false;
  const alive = () => isOurRdnssd(pid, files);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return true;
  }
  const deadline = clock.now() + (options.graceMs ?? 2000);
  while (clock.now() < deadline && (await alive())) await sleep(clock, 20);
  if (await alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return true;
}
