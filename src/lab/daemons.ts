/**
 * The command lines of the lab's daemons (pure): every process is the real
 * `edgenet` CLI (bin/edgenet.mjs under this Node), started inside its
 * namespace with the lab's private state/run/conf directories, so the lab
 * exercises exactly what an operator runs.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabClcPlan, LabNodePlan, LabPlan } from './plan.ts';
import { labDaemonEnv } from './plan.ts';
import { DEFAULT_PORTS } from '../shared/paths.ts';
import type { LabRole } from './state.ts';

export const EDGENET_BIN = fileURLToPath(new URL('../../bin/edgenet.mjs', import.meta.url));

function edgenetArgv(args: readonly string[]): string[] {
  return [process.execPath, EDGENET_BIN, ...args];
}

export interface DaemonSpec {
  readonly role: LabRole;
  readonly node?: string;
  /** The CLC (clc-1, clc-2) of a two-CLC lab that this CLC or relay belongs to. */
  readonly clc?: string;
  /** Namespace; undefined = the host's. */
  readonly ns?: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly log: string;
}

const logFile = (plan: LabPlan, name: string) => `${plan.paths.logs}/${name}.log`;

/**
 * The relays that bring a CLC listener of the control namespace's loopback to
 * the host's (relay.ts): `api` (the admin API) and `ec2` (the EC2 Query
 * endpoint). Each is a pair: ctl 127.0.0.1:PORT ← unix socket in the lab
 * directory ← host 127.0.0.1:<free port, written to the port file>.
 */
type LabRelay = 'api' | 'ec2';

function relayPorts(plan: LabPlan, which: LabRelay, clc: LabClcPlan | undefined): { socket: string; port: number; portFile: string } {
  if (clc) return which === 'api' ? { socket: clc.apiSocket, port: clc.apiPort, portFile: clc.apiPortFile } : { socket: clc.ec2Socket, port: clc.ec2Port, portFile: clc.ec2PortFile };
  return which === 'api'
    ? { socket: plan.paths.apiSocket, port: plan.clcApiPort, portFile: plan.paths.apiPortFile }
    : { socket: plan.paths.ec2Socket, port: plan.ec2Port, portFile: plan.paths.ec2PortFile };
}

/** A relay's log: relay-ctl.log for the one CLC (and clc-1), relay-ctl-clc-2.log for clc-2. */
const relayLog = (plan: LabPlan, role: string, clc: LabClcPlan | undefined) => logFile(plan, clc && clc.id !== 'clc-1' ? `${role}-${clc.id}` : role);

export function ctlRelaySpec(plan: LabPlan, ctlNs: string, which: LabRelay = 'api', clc?: LabClcPlan): DaemonSpec {
  const r = relayPorts(plan, which, clc);
  const role = which === 'api' ? 'relay-ctl' : 'relay-ctl-ec2';
  return {
    role,
    ...(clc ? { clc: clc.id } : {}),
    ns: ctlNs,
    argv: edgenetArgv(['lab', 'relay', '--listen', `unix:${r.socket}`, '--target', `tcp:127.0.0.1:${r.port}`, '--watch', plan.stateFile, ...(which === 'api' ? ['--http-unavailable'] : [])]),
    env: labDaemonEnv(plan),
    log: relayLog(plan, role, clc),
  };
}

export function hostRelaySpec(plan: LabPlan, which: LabRelay = 'api', clc?: LabClcPlan): DaemonSpec {
  const r = relayPorts(plan, which, clc);
  const role = which === 'api' ? 'relay-host' : 'relay-host-ec2';
  return {
    role,
    ...(clc ? { clc: clc.id } : {}),
    argv: edgenetArgv(['lab', 'relay', '--listen', 'tcp:127.0.0.1:0', '--target', `unix:${r.socket}`, '--port-file', r.portFile, '--watch', plan.stateFile, ...(which === 'api' ? ['--http-unavailable'] : [])]),
    env: labDaemonEnv(plan),
    log: relayLog(plan, role, clc),
  };
}

/**
 * The CLC: the one CLC of a SQLite lab (`clc` undefined), or one of the two
 * CLCs of a `--db postgres` lab (plan.clcs), which share DB, token file and
 * credentials key and differ in CLC_ID, CLC_IP(V6) and every listener.
 */
export function clcSpec(plan: LabPlan, ctlNs: string, clc?: LabClcPlan): DaemonSpec {
  const pg = clc && plan.postgres ? plan.postgres : undefined;
  const clcIp = clc?.ip ?? plan.ctlIp;
  const clcIpv6 = clc ? clc.ipv6 : plan.ipv6?.ctlIp;
  return {
    role: 'clc',
    ...(clc ? { clc: clc.id } : {}),
    ns: ctlNs,
    argv: edgenetArgv([
      'clc',
      '--db', pg ? pg.url : plan.paths.clcDb,
      '--listen', `127.0.0.1:${clc?.apiPort ?? plan.clcApiPort}`,
      '--clc-ip', clcIp,
      '--token-file', plan.paths.clcToken,
      // One key for both CLCs (they decrypt each other's EC2 secrets); next to the SQLite file it is the default.
      ...(pg ? ['--credentials-key-file', path.join(path.dirname(plan.paths.clcDb), 'credentials.key')] : []),
      '--log-format', 'json',
    ]),
    env: {
      ...labDaemonEnv(plan),
      EDGENET_CLC_CERTS_DIR: plan.paths.certs,
      EDGENET_CLC_CERT_NAME: 'clc',
      EDGENET_CLC_METRICS_LISTEN: `127.0.0.1:${clc?.metricsPort ?? DEFAULT_PORTS.clcMetrics}`,
      // Dual stack: one dual-stack socket serves 172.31.0.2 and fd00:172:31::2 (IPv4 sources arrive
      // as ::ffff:a.b.c.d, which the metadata lookup maps back); IPv4-only: the ctl's IPv4 address.
      // Two CLCs cannot both bind [::]:8773: each binds its own CLC_IP, and the plugin adds
      // [CLC_IPV6]:8773 next to it.
      EDGENET_METADATA_LISTEN: !clc && plan.ipv6 ? `[::]:${plan.metadataPort}` : `${clcIp}:${plan.metadataPort}`,
      // The EC2 Query endpoint on the control namespace's loopback (clc.conf EC2_LISTEN); the
      // relay-ctl-ec2 / relay-host-ec2 pair brings it to the host's loopback for the AWS CLI.
      EDGENET_CLC_EC2_LISTEN: `127.0.0.1:${clc?.ec2Port ?? plan.ec2Port}`,
      // The CLC's IPv6 address (clc.conf CLC_IPV6): the document's configuration clc-address, the
      // target of netd's [fd00:ec2::254]:80 DNAT. Passed in the environment, like the keys above.
      ...(clcIpv6 ? { EDGENET_CLC_CLC_IPV6: clcIpv6 } : {}),
      // CLC_ID (leadership: `edgenet status` and the clc_terms rows say which CLC leads).
      ...(clc ? { EDGENET_CLC_CLC_ID: clc.id } : {}),
      // Convergence is polled often in the lab so `status` and the tests see it quickly.
      EDGENET_STATUS_INTERVAL_MS: '200',
    },
    log: logFile(plan, clc ? clc.id : 'clc'),
  };
}

export function ccSpec(plan: LabPlan, ctlNs: string): DaemonSpec {
  return {
    role: 'cc',
    ns: ctlNs,
    argv: edgenetArgv([
      'cc',
      '--listen', `${plan.ctlIp}:${plan.ccPort}`,
      '--metrics-listen', `127.0.0.1:${DEFAULT_PORTS.ccMetrics}`,
      '--certs', plan.paths.certs,
      '--cert-name', 'cc',
      '--state-dir', plan.paths.ccState,
      '--nodes', plan.nodes.map((n) => `${n.name}=${n.ncUrl}`).join(' '),
    ]),
    env: { ...labDaemonEnv(plan), EDGENET_LOG_FORMAT: 'json' },
    log: logFile(plan, 'cc'),
  };
}

export function ncSpec(plan: LabPlan, node: LabNodePlan, nodeNs: string): DaemonSpec {
  return {
    role: 'nc',
    node: node.short,
    ns: nodeNs,
    argv: edgenetArgv([
      'nc',
      '--listen', `${node.mgmtIp}:${plan.ncPort}`,
      '--metrics-listen', `127.0.0.1:${DEFAULT_PORTS.ncMetrics}`,
      '--certs', plan.paths.certs,
      '--cert-name', node.certName,
      '--run-dir', node.runDir,
      '--node-name', node.name,
    ]),
    env: labDaemonEnv(plan),
    log: node.ncLog,
  };
}

/**
 * The upstream router's BIRD (ROUTED labs) in its namespace, in the foreground
 * (`-f`): the pid the lab records is BIRD's own, so `lab down` and `lab status`
 * find it by pid like every other lab daemon.
 */
export function routerBirdSpec(plan: LabPlan, routerNs: string): DaemonSpec {
  const r = plan.routed?.router;
  if (!r) throw new Error(`lab ${plan.name} has no router (not a ROUTED lab)`);
  return {
    role: 'router',
    ns: routerNs,
    argv: [BIRD_BIN, '-f', '-c', r.conf, '-s', r.ctl, '-P', r.pidFile],
    env: {},
    log: r.log,
  };
}

export const BIRD_BIN = '/usr/sbin/bird';
export const BIRDC_BIN = '/usr/sbin/birdc';

export function netdSpec(plan: LabPlan, node: LabNodePlan, nodeNs: string): DaemonSpec {
  return {
    role: 'netd',
    node: node.short,
    ns: nodeNs,
    argv: edgenetArgv(['netd', 'run', '--config', node.netdConfFile]),
    // A ROUTED node's netd has a state directory of its own: its config drives live there, and
    // each netd keeps only its own instances' drives (a shared one would be swept by the other node).
    env: { ...labDaemonEnv(plan), EDGENET_RUN_DIR: node.runDir, ...(node.stateDir ? { EDGENET_STATE_DIR: node.stateDir } : {}) },
    log: node.netdLog,
  };
}
