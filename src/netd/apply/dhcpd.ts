/**
 * The dhcpd driver of the supervisor (process-driver.ts): ISC dhcpd in the
 * foreground with our configuration, leases and pid files from the run
 * directory. A running dhcpd is found again (after a netd restart or kill -9)
 * through the pid file and /proc/<pid>/cmdline: it must be a dhcpd started
 * with OUR configuration file, so a recycled pid or another dhcpd on the host
 * is never mistaken for ours. Its log is read by dhcpd-log.ts.
 */
import * as path from 'node:path';
import { DHCPD_CONF, DHCPD_KIND } from '../render/dhcpd.ts';
import { dhcpdFailureReason } from './dhcpd-log.ts';
import type { ProcessDriver } from './process-driver.ts';

const LEASES = 'dhcpd.leases';

export const dhcpdDriver: ProcessDriver = {
  kind: DHCPD_KIND,
  configFiles: [DHCPD_CONF],
  diedCode: 'DHCPD_DIED',
  statusField: 'dhcpdFailure',
  argv: ({ config, layout, interfaces }) =>
    // -f: stay in the foreground of its own process group so we own its pid;
    // -4: DHCPv4 only; the interface restricts it to the bridge.
    [config.dhcpDaemon, '-f', '-4', '-cf', layout.file(DHCPD_CONF), '-lf', layout.file(LEASES), '-pf', layout.pid, ...interfaces],
  owns: (argv, layout) => {
    const cf = argv.indexOf('-cf');
    return argv.some((a) => path.basename(a).startsWith('dhcpd')) && cf >= 0 && argv[cf + 1] === layout.file(DHCPD_CONF);
  },
  // dhcpd refuses to start without a leases file.
  prepare: async (host, layout) => {
    if ((await host.readFile(layout.file(LEASES))) === undefined) await host.writeFile(layout.file(LEASES), '');
  },
  failureReason: dhcpdFailureReason,
};
