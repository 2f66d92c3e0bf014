/**
 * dhcpd supervision without private memory: the configuration, leases and pid
 * files live in the run directory; a running dhcpd is found again (after a
 * netd restart or kill -9) by reading the pid file and checking that
 * /proc/<pid>/cmdline is a dhcpd started with OUR configuration file, so a
 * recycled pid or another dhcpd on the host is never mistaken for ours.
 */
import * as path from 'node:path';
import type { HostOps } from './host.ts';

export interface DhcpdFiles {
  readonly dir: string;
  readonly conf: string;
  readonly leases: string;
  readonly pid: string;
  readonly log: string;
}

export function dhcpdFiles(runDir: string): DhcpdFiles {
  const dir = path.join(runDir, 'netd');
  return {
    dir,
    conf: path.join(dir, 'dhcpd.conf'),
    leases: path.join(dir, 'dhcpd.leases'),
    pid: path.join(dir, 'dhcpd.pid'),
    log: path.join(dir, 'dhcpd.log'),
  };
}

export function dhcpdArgv(binary: string, files: DhcpdFiles, iface: string): string[] {
  // -f: stay in the foreground of its own process group so we own its pid;
  // -4: DHCPv4 only; the interface restricts it to the bridge.
  return [binary, '-f', '-4', '-cf', files.conf, '-lf', files.leases, '-pf', files.pid, iface];
}

/** Pid of our live dhcpd, or undefined. */
export async function findDhcpd(host: HostOps, files: DhcpdFiles): Promise<number | undefined> {
  const text = await host.readFile(files.pid);
  const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const argv = await host.processArgv(pid);
  if (!argv) return undefined;
  const cf = argv.indexOf('-cf');
  const isDhcpd = argv.some((a) => path.basename(a).startsWith('dhcpd'));
  return isDhcpd && cf >= 0 && argv[cf + 1] === files.conf ? pid : undefined;
}
