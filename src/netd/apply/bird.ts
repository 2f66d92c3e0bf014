/**
 * The BIRD driver of the supervisor (process-driver.ts): BIRD 2 in the
 * foreground (`-f`) with our configuration, pid file and control socket in
 * the run directory, logging to its standard error (bird.conf says `log
 * stderr all`), which the supervisor appends to `<run dir>/netd/bird.log`.
 * Render's entry is render/bird.ts.
 *
 * Ours: a live process is adopted (after a netd restart or kill -9; BIRD
 * keeps running and announcing while netd is away) only when the pid in OUR
 * pid file runs a bird whose argv names OUR configuration, OUR pid file and
 * OUR control socket, so a recycled pid, the host's own bird
 * (/etc/bird/bird.conf, /run/bird/bird.ctl) or another netd's (another run
 * directory, a lab node or router) is never taken over. The control socket is
 * per run directory too: BIRD refuses to start on a socket another BIRD
 * answers on ("I found another BIRD running").
 *
 * Check: `bird -p -c <conf>` parses the configuration and exits (about 10 ms),
 * before every start and every SIGHUP reload. BIRD keeps its previous
 * configuration when a reconfigure fails to parse, but a start on a bad file
 * would exit, and the check turns both into PROCESS_CONFIG_REFUSED with
 * BIRD's own `file:line:col` message.
 *
 * Reload: SIGHUP is BIRD's "configure" (the same as `birdc configure`):
 * changed static routes are re-announced within ~0.1 s and sessions whose
 * options did not change stay up — measured in
 * test/integration/netd-bird.test.ts, so ReloadPolicy needs nothing new.
 *
 * Runs as root inside netd's capability set (edgenet-netd.service):
 * CAP_NET_BIND_SERVICE for port 179, CAP_NET_ADMIN for kernel routes and the
 * TCP MD5 socket option.
 */
import * as path from 'node:path';
import { BIRD_CONF, BIRD_KIND } from '../render/bird.ts';
import type { ProcessDriver, ProcessLayout } from './process-driver.ts';

/** Debian's BIRD 2 (package `bird2`, scripts/setup.sh RUNTIME_PACKAGES). */
export const BIRD_BINARY = '/usr/sbin/bird';

/** BIRD's control socket in the run directory (`birdc -s <this>` talks to netd's BIRD). */
export function birdControlSocket(layout: ProcessLayout): string {
  return layout.file('bird.ctl');
}

/**
 * The line that says why BIRD exited: BIRD prints what stops it at start as
 * `bird: <why>` on stderr (`bird: /run/…/bird.conf:3:5 syntax error, …`,
 * `bird: I found another BIRD running.`, a socket it could not bind); later
 * failures are log lines `<ERR>`, `<FATAL>` or `<BUG>`. Only the last run
 * counts (from its last `<INFO> Started`, or the whole log when it never
 * started). Undefined when the log says nothing useful.
 */
export function birdFailureReason(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  let start = 0;
  lines.forEach((l, i) => {
    if (/<INFO> Started$/.test(l)) start = i;
  });
  let found: string | undefined;
  for (const line of lines.slice(start)) {
    const direct = /^bird: (.+)$/.exec(line);
    if (direct) found = direct[1];
    const logged = /<(?:ERR|FATAL|BUG)> (.+)$/.exec(line);
    if (logged) found = logged[1];
  }
  return found;
}

function isOurArgv(argv: readonly string[], layout: ProcessLayout): boolean {
  const after = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return path.basename(argv[0] ?? '') === 'bird'
    && !argv.includes('-p')
    && after('-c') === layout.file(BIRD_CONF)
    && after('-P') === layout.pid
    && after('-s') === birdControlSocket(layout);
}

export const birdDriver: ProcessDriver = {
  kind: BIRD_KIND,
  configFiles: [BIRD_CONF],
  diedCode: 'BIRD_DIED',
  statusField: 'birdFailure',
  argv: ({ layout }) =>
    // -f: stay in the foreground so the pid we start is BIRD's. No -R
    // (graceful-restart recovery): it holds every announcement until each
    // peer's End-of-RIB or `graceful restart wait`, 5–7 s on every start
    // (render/bird.ts). The peers keep our routes through a restart anyway.
    [BIRD_BINARY, '-f', '-c', layout.file(BIRD_CONF), '-s', birdControlSocket(layout), '-P', layout.pid],
  owns: isOurArgv,
  checkArgv: ({ layout }) => [BIRD_BINARY, '-p', '-c', layout.file(BIRD_CONF)],
  failureReason: birdFailureReason,
};
