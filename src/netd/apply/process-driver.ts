/**
 * What the generic supervisor (supervisor.ts) needs to know about one kind of
 * supervised daemon: how to start it, how to recognise it, what it needs on
 * disk and how to read why it died. Everything else (pid file, liveness,
 * config writes, reload or restart, stop, back-off, flush) is the same for
 * every kind. The drivers netd knows are listed in drivers.ts.
 */
import * as path from 'node:path';
import type { NetdConfig } from '../config.ts';
import type { HostOps } from './host.ts';
import type { ErrorCode } from '../../shared/error-codes.ts';

/** Where one process's files live: `<run dir>/netd/<kind>.pid`, `<kind>.log` and its configuration files. */
export interface ProcessLayout {
  readonly dir: string;
  readonly pid: string;
  readonly log: string;
  /** Path of a file of this process (configuration, leases, ...) by name. */
  file(name: string): string;
}

export function processLayout(runDir: string, kind: string): ProcessLayout {
  const dir = path.join(runDir, 'netd');
  return { dir, pid: path.join(dir, `${kind}.pid`), log: path.join(dir, `${kind}.log`), file: (name) => path.join(dir, name) };
}

export interface ProcessDriver {
  /** The kind in DesiredState.processes (`dhcpd`). */
  readonly kind: string;
  /** Its configuration files by name: read back by observe (to see a change) and removed when it is stopped. */
  readonly configFiles: readonly string[];
  /** Error code of a start whose process exited at once (`DHCPD_DIED`). */
  readonly diedCode: ErrorCode;
  /** The NetdStatus field that reports that failure's reason and log (operators and the NC read it), if any. */
  readonly statusField?: 'dhcpdFailure' | 'radvdFailure' | 'birdFailure';
  /**
   * argv that runs it in the foreground (so the pid we start is the daemon's),
   * writing its pid to `layout.pid` and reading its files from `layout`.
   */
  argv(input: { readonly config: NetdConfig; readonly layout: ProcessLayout; readonly interfaces: readonly string[] }): string[];
  /** True when a live process's argv is this kind started with OUR files: a recycled pid or another instance on the host is never adopted. */
  owns(argv: readonly string[], layout: ProcessLayout): boolean;
  /**
   * argv of the daemon's own configuration check (`radvd -c -C <conf>`), run
   * before every start and signal reload: a non-zero exit fails that step
   * (PROCESS_CONFIG_REFUSED) instead of a daemon that exits on it. None: no check.
   */
  checkArgv?(input: { readonly config: NetdConfig; readonly layout: ProcessLayout }): string[];
  /** Files it needs before a start besides its configuration (dhcpd: its leases file). */
  prepare?(host: HostOps, layout: ProcessLayout): Promise<void>;
  /** The line of its log that says why it exited; undefined when the log says nothing useful. */
  failureReason?(log: string): string | undefined;
}
