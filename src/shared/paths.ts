/**
 * Default locations and ports, in one place. Every path can be overridden by a
 * daemon's config file or flags; EDGENET_STATE_DIR, EDGENET_RUN_DIR and
 * EDGENET_CONF_DIR move the defaults as a whole (tests, the lab, non-root use).
 */
import * as path from 'node:path';

export const DEFAULT_PORTS = {
  /** Cloud controller admin HTTP API (token-authenticated, loopback by default). */
  clcApi: 8770,
  /** Metadata service (EC2 style); netd DNATs 169.254.169.254:80 here. */
  metadata: 8773,
  /** EC2 Query API (SigV4 per account; issue 15). Not 8773, which is the metadata service. */
  ec2: 8788,
  /** Cluster controller SOAP (mutual TLS). */
  cc: 8774,
  /** Node controller SOAP (mutual TLS). */
  nc: 8775,
  /** Plain-HTTP health and Prometheus metrics listeners, bound to loopback. */
  clcMetrics: 9770,
  ccMetrics: 9774,
  ncMetrics: 9775,
  netdMetrics: 9776,
} as const;

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EDGENET_STATE_DIR ?? '/var/lib/edgenet';
}

export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EDGENET_RUN_DIR ?? '/run/edgenet';
}

export function confDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EDGENET_CONF_DIR ?? '/etc/edgenet';
}

export const paths = {
  clcDatabase: (env?: NodeJS.ProcessEnv) => path.join(stateDir(env), 'clc', 'edgenet.db'),
  /** The admin token a CLC started with defaults writes (mode 0600) and the CLI reads. */
  clcToken: (env?: NodeJS.ProcessEnv) => path.join(stateDir(env), 'clc', 'admin-token'),
  /** The key that seals the EC2 secret access keys in the CLC database (mode 0600; not in `edgenet clc-backup`). */
  ccDocument: (env?: NodeJS.ProcessEnv) => path.join(stateDir(env), 'cc', 'network-info.json'),
  /** The shared file the NC writes and netd watches. */
  gniFile: (env?: NodeJS.ProcessEnv) => path.join(runDir(env), 'global_network_info.xml'),
  netdStatus: (env?: NodeJS.ProcessEnv) => path.join(runDir(env), 'netd-status.json'),
  netdVersion: (env?: NodeJS.ProcessEnv) => path.join(runDir(env), 'global_network_info.version'),
  certsDir: (env?: NodeJS.ProcessEnv) => path.join(confDir(env), 'certs'),
  netdConf: (env?: NodeJS.ProcessEnv) => path.join(confDir(env), 'netd.conf'),
  /** ROUTED: netd's config drives, `<dir>/<instance>/` and `<dir>/<instance>.iso` (state, not run: a hypervisor attaches them). */
  configDrives: (env?: NodeJS.ProcessEnv) => path.join(stateDir(env), 'config-drive'),
};
