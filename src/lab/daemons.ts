/**
 * The command lines of the lab's daemons (pure): every process is the real
 * `edgenet` CLI (bin/edgenet.mjs under this Node), started inside its
 * namespace with the lab's private state/run/conf directories, so the lab
 * exercises exactly what an operator runs.
 */
import { fileURLToPath } from 'node:url';
import type { LabNodePlan, LabPlan } from './plan.ts';
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

function relayPorts(plan: LabPlan, which: LabRelay): { socket: string; port: number; portFile: string } {
  return which === 'api'
    ? { socket: plan.paths.apiSocket, port: plan.clcApiPort, portFile: plan.paths.apiPortFile }
    : { socket: plan.paths.ec2Socket, port: plan.ec2Port, portFile: plan.paths.ec2PortFile };
}

export function ctlRelaySpec(plan: LabPlan, ctlNs: string, which: LabRelay = 'api'): DaemonSpec {
  const r = relayPorts(plan, which);
  const role = which === 'api' ? 'relay-ctl' : 'relay-ctl-ec2';
  return {
    role,
    ns: ctlNs,
    argv: edgenetArgv(['lab', 'relay', '--listen', `unix:${r.socket}`, '--target', `tcp:127.0.0.1:${r.port}`, '--watch', plan.stateFile]),
    env: labDaemonEnv(plan),
    log: logFile(plan, role),
  };
}

export function hostRelaySpec(plan: LabPlan, which: LabRelay = 'api'): DaemonSpec {
  const r = relayPorts(plan, which);
  const role = which === 'api' ? 'relay-host' : 'relay-host-ec2';
  return {
    role,
    argv: edgenetArgv(['lab', 'relay', '--listen', 'tcp:127.0.0.1:0', '--target', `unix:${r.socket}`, '--port-file', r.portFile, '--watch', plan.stateFile]),
    env: labDaemonEnv(plan),
    log: logFile(plan, role),
  };
}

export function clcSpec(plan: LabPlan, ctlNs: string): DaemonSpec {
  return {
    role: 'clc',
    ns: ctlNs,
    argv: edgenetArgv([
      'clc',
      '--db', plan.paths.clcDb,
      '--listen', `127.0.0.1:${plan.clcApiPort}`,
      '--clc-ip', plan.ctlIp,
      '--token-file', plan.paths.clcToken,
      '--log-format', 'json',
    ]),
    env: {
      ...labDaemonEnv(plan),
      EDGENET_CLC_CERTS_DIR: plan.paths.certs,
      EDGENET_CLC_CERT_NAME: 'clc',
      EDGENET_CLC_METRICS_LISTEN: `127.0.0.1:${DEFAULT_PORTS.clcMetrics}`,
      // Dual stack: one dual-stack socket serves 172.31.0.2 and fd00:172:31::2 (IPv4 sources arrive
      // as ::ffff:a.b.c.d, which the metadata lookup maps back); IPv4-only: the ctl's IPv4 address.
      EDGENET_METADATA_LISTEN: plan.ipv6 ? `[::]:${plan.metadataPort}` : `${plan.ctlIp}:${plan.metadataPort}`,
      // The EC2 Query endpoint on the control namespace's loopback (clc.conf EC2_LISTEN); the
      // relay-ctl-ec2 / relay-host-ec2 pair brings it to the host's loopback for the AWS CLI.
      EDGENET_CLC_EC2_LISTEN: `127.0.0.1:${plan.ec2Port}`,
      // The CLC's IPv6 address (clc.conf CLC_IPV6): the document's configuration clc-address, the
      // target of netd's [fd00:ec2::254]:80 DNAT. Passed in the environment, like the keys above.
      ...(plan.ipv6 ? { EDGENET_CLC_CLC_IPV6: plan.ipv6.ctlIp } : {}),
      // Convergence is polled often in the lab so `status` and the tests see it quickly.
      EDGENET_STATUS_INTERVAL_MS: '200',
    },
    log: logFile(plan, 'clc'),
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

export function netdSpec(plan: LabPlan, node: LabNodePlan, nodeNs: string): DaemonSpec {
  return {
    role: 'netd',
    node: node.short,
    ns: nodeNs,
    argv: edgenetArgv(['netd', 'run', '--config', node.netdConfFile]),
    env: { ...labDaemonEnv(plan), EDGENET_RUN_DIR: node.runDir },
    log: node.netdLog,
  };
}
