/**
 * The radvd driver of the supervisor (process-driver.ts): radvd in the
 * foreground with our configuration and pid file from the run directory,
 * logging to its standard error, which the supervisor appends to
 * `<run dir>/netd/radvd.log`. Render's entry is render/radvd.ts.
 *
 * Ours: a live process is adopted (after a netd restart or kill -9) only when
 * the pid in OUR pid file runs a radvd whose argv names OUR configuration and
 * OUR pid file, so a recycled pid, the host's own radvd (/etc/radvd.conf) or
 * another netd's (another run directory, a lab node) is never taken over.
 * radvd forks a privilege-separation helper with the same argv; the pid file
 * holds the main process, which is the one signalled and stopped (the helper
 * exits when the main process closes their pipe).
 *
 * Check: radvd exits when it cannot read its configuration, on a start and
 * on a SIGHUP reload alike, so `radvd -c` checks every configuration before
 * either; a refused one fails the step (PROCESS_CONFIG_REFUSED) and a running
 * radvd keeps advertising its previous one.
 *
 * Runs as root inside netd's capability set (edgenet-netd.service): a raw
 * ICMPv6 socket (CAP_NET_RAW), per-interface sysctls such as the advertised
 * MTU (CAP_NET_ADMIN). No `-u`: dropping to another user needs CAP_SETUID,
 * which netd's unit does not have.
 */
import * as path from 'node:path';
import { RADVD_CONF, RADVD_KIND } from '../render/radvd.ts';
import type { ProcessDriver, ProcessLayout } from './process-driver.ts';

/** Debian's radvd (package `radvd`, scripts/setup.sh RUNTIME_PACKAGES). */
export const RADVD_BINARY = '/usr/sbin/radvd';

/** radvd's prefix on each log line: `[Dec 04 20:35:06] radvd (15040): `. */
const LINE_PREFIX = /^\[[^\]]*\] radvd \(\d+\): /;

/** Lines that are never why radvd exited: start-up chatter and warnings it carries on after. */
const CHATTER = [
  /^version \S+ started$/,
  /^warning: /,
  /forwarding (setting is|seems to be disabled|on interface seems)/,
  /^resuming normal operation$/,
  /^sending stop adverts$/,
  /^removing \S+$/,
  /^returning from radvd main$/,
  /^Exiting, privsep_read_loop/,
  /^exiting, \d+ sig(term|int)\(s\) received$/,
];

/**
 * The line of radvd's last run that says why it exited: a parse error
 * (`…/radvd.conf:7 error: syntax error`), a pid file another radvd holds, a
 * socket it could not open; else its own closing line (`exiting, failed to
 * read config file`). Undefined when the log says nothing useful.
 */
export function radvdFailureReason(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trim());
  let start = 0;
  lines.forEach((l, i) => {
    if (/radvd \(\d+\): version \S+ started$/.test(l)) start = i;
  });
  let fallback: string | undefined;
  for (const raw of lines.slice(start)) {
    const line = raw.replace(LINE_PREFIX, '');
    if (line === '' || CHATTER.some((re) => re.test(line))) continue;
    if (/^exiting, /.test(line)) { fallback ??= line; continue; }
    return line;
  }
  return fallback;
}

function isOurArgv(argv: readonly string[], layout: ProcessLayout): boolean {
  const after = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return path.basename(argv[0] ?? '') === 'radvd' && !argv.includes('-c') && after('-C') === layout.file(RADVD_CONF) && after('-p') === layout.pid;
}

export const radvdDriver: ProcessDriver = {
  kind: RADVD_KIND,
  configFiles: [RADVD_CONF],
  diedCode: 'RADVD_DIED',
  statusField: 'radvdFailure',
  argv: ({ layout }) =>
    // -n: stay in the foreground so the pid we start is radvd's; -m stderr:
    // log lines go to the supervisor's log file (no syslog); interfaces come
    // from the configuration file, not the command line.
    [RADVD_BINARY, '-C', layout.file(RADVD_CONF), '-p', layout.pid, '-n', '-m', 'stderr'],
  owns: isOurArgv,
  checkArgv: ({ layout }) => [RADVD_BINARY, '-c', '-C', layout.file(RADVD_CONF), '-m', 'stderr'],
  failureReason: radvdFailureReason,
};
