/**
 * The lab's plan: every address, port, path, config file and command line of
 * a lab named N, computed from (name, dir) alone. Pure (no I/O), so `up`,
 * `down`, `status`, `vm`, the demo, the e2e tests and the benchmark all agree
 * on where things are, and a unit test pins the layout.
 *
 * Addresses (documentation / private ranges only, inside namespaces only):
 *   lan (management + private L2)  172.31.0.0/24   ctl .2, node nK .1K
 *   public L2                      203.0.113.0/24  client .2, node nK .1K, pool .100-.120
 *   VM subnet (cluster PARTI00)    10.111.0.0/16   gateway .0.1 (fake router on every node),
 *                                                  node nK's br0 .0.1K (dhcpd needs it), pool 10.111.103.30-99
 * Processes: CLC + CC + API relay in `P-ctl`; NC + netd in each `P-nK`; one
 * relay on the host's loopback so `edgenet ...` works from the host with
 * EDGENET_URL/EDGENET_TOKEN (see relay.ts).
 */
import * as path from 'node:path';
import { DEFAULT_PORTS, stateDir } from '../shared/paths.ts';
import { EdgenetError } from '../shared/errors.ts';
import type { TopologySpec } from './topology.ts';

export interface LabNodePlan {
  /** Lab-local short name (n1, n2, ...): namespace P-<short>. */
  readonly short: string;
  /** The node's registered name in the cloud = its management address. */
  readonly name: string;
  readonly mgmtIp: string;
  readonly publicIp: string;
  /** br0's address in the VM subnet (see TopologyNodeSpec.vmIp). */
  readonly vmIp: string;
  readonly ncUrl: string;
  readonly certName: string;
  readonly runDir: string;
  readonly netdConfFile: string;
  readonly ncLog: string;
  readonly netdLog: string;
}

export interface LabPlan {
  readonly name: string;
  readonly prefix: string;
  readonly dir: string;
  readonly stateFile: string;
  readonly topology: TopologySpec;
  readonly cluster: string;
  readonly ctlIp: string;
  readonly clientIp: string;
  readonly clcApiPort: number;
  readonly metadataPort: number;
  readonly ccPort: number;
  readonly ccUrl: string;
  readonly ncPort: number;
  readonly vmSubnet: string;
  readonly vmGateway: string;
  readonly publicPool: readonly string[];
  readonly nodes: readonly LabNodePlan[];
  readonly paths: {
    readonly certs: string;
    readonly logs: string;
    readonly clcDb: string;
    readonly clcToken: string;
    readonly ccState: string;
    readonly networkConfiguration: string;
    /** The ctl relay's unix socket (the host relay dials it). */
    readonly apiSocket: string;
    /** Env for every daemon: keeps them off the machine's /var/lib/edgenet, /run/edgenet, /etc/edgenet. */
    readonly stateDir: string;
    readonly runDir: string;
    readonly confDir: string;
  };
}

export const DEFAULT_LAB_NAME = 'lab';
const NODE_COUNT = 2;

export function assertLabName(name: string): void {
  if (!/^[a-z0-9]{1,10}$/.test(name)) throw new EdgenetError('LAB_BAD_NAME', `lab name "${name}" must be 1-10 of [a-z0-9]`);
}

export function labPrefix(name: string): string {
  return `edgenet_${name}`;
}

export function defaultLabDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'lab', name);
}

export function labPlan(name: string, dir: string): LabPlan {
  assertLabName(name);
  const abs = path.resolve(dir);
  const prefix = labPrefix(name);
  const nodes: LabNodePlan[] = [];
  for (let i = 1; i <= NODE_COUNT; i++) {
    const short = `n${i}`;
    const mgmtIp = `172.31.0.${10 + i}`;
    const nodeDir = path.join(abs, 'nodes', short);
    nodes.push({
      short,
      name: mgmtIp,
      mgmtIp,
      publicIp: `203.0.113.${10 + i}`,
      vmIp: `10.111.0.${10 + i}`,
      ncUrl: `https://${mgmtIp}:${DEFAULT_PORTS.nc}/`,
      certName: `nc-${short}`,
      runDir: path.join(nodeDir, 'run'),
      netdConfFile: path.join(nodeDir, 'netd.conf'),
      ncLog: path.join(abs, 'logs', `nc-${short}.log`),
      netdLog: path.join(abs, 'logs', `netd-${short}.log`),
    });
  }
  const ctlIp = '172.31.0.2';
  const clientIp = '203.0.113.2';
  const publicPool: string[] = [];
  for (let i = 100; i <= 120; i++) publicPool.push(`203.0.113.${i}`);
  return {
    name,
    prefix,
    dir: abs,
    stateFile: path.join(abs, 'lab.json'),
    topology: {
      prefix,
      nodes: nodes.map((n) => ({ name: n.short, mgmtIp: n.mgmtIp, publicIp: n.publicIp, vmIp: n.vmIp })),
      lan: '172.31.0.0/24',
      publicNet: '203.0.113.0/24',
      vmSubnet: '10.111.0.0/16',
      client: { ip: clientIp },
      ctl: { ip: ctlIp },
      workDir: path.join(abs, 'topology'),
    },
    cluster: 'PARTI00',
    ctlIp,
    clientIp,
    clcApiPort: DEFAULT_PORTS.clcApi,
    metadataPort: DEFAULT_PORTS.metadata,
    ccPort: DEFAULT_PORTS.cc,
    ccUrl: `https://${ctlIp}:${DEFAULT_PORTS.cc}/`,
    ncPort: DEFAULT_PORTS.nc,
    vmSubnet: '10.111.0.0/16',
    vmGateway: '10.111.0.1',
    publicPool,
    nodes,
    paths: {
      certs: path.join(abs, 'certs'),
      logs: path.join(abs, 'logs'),
      clcDb: path.join(abs, 'clc', 'edgenet.db'),
      clcToken: path.join(abs, 'clc', 'admin-token'),
      ccState: path.join(abs, 'cc'),
      networkConfiguration: path.join(abs, 'network_configuration.json'),
      apiSocket: path.join(abs, 'clc-api.sock'),
      stateDir: path.join(abs, 'state'),
      runDir: path.join(abs, 'run'),
      confDir: path.join(abs, 'conf'),
    },
  };
}

/**
 * The lab's copy of examples/network_configuration.json: same shape and
 * cluster, the lab's public pool and a private pool large enough for the
 * e2e tests (released addresses are held until nodes converge).
 */
export function labNetworkConfiguration(plan: LabPlan, example: Record<string, unknown>): Record<string, unknown> {
  const clusters = Array.isArray(example.Clusters) ? (example.Clusters as Record<string, unknown>[]) : [];
  const first = clusters[0] ?? {};
  return {
    ...example,
    InstanceDnsServers: [plan.vmGateway],
    PublicIps: [`${plan.publicPool[0]}-${plan.publicPool[plan.publicPool.length - 1]}`],
    Subnets: [],
    Clusters: [
      {
        ...first,
        Name: plan.cluster,
        Subnet: { Name: '10.111.0.0', Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: plan.vmGateway },
        PrivateIps: ['10.111.103.30-10.111.103.99'],
      },
    ],
  };
}

/** netd's KEY="value" file for one lab node (keys: src/netd/config.ts). */
export function labNetdConf(plan: LabPlan, node: LabNodePlan): string {
  const lines: Record<string, string> = {
    VNET_BRIDGE: 'br0',
    VNET_PUBINTERFACE: 'pub0',
    VNET_PRIVINTERFACE: 'priv0',
    VNET_DHCPDAEMON: '/usr/sbin/dhcpd',
    POLLING_FREQUENCY: '1',
    NC_ROUTER: 'Y',
    // The CLC answers metadata by private address; keeping it avoids a SNAT the ctl could not route back.
    METADATA_USE_VM_PRIVATE: 'Y',
    EDGENET_NODE_NAME: node.name,
    EDGENET_RUN_DIR: node.runDir,
    EDGENET_METRICS_LISTEN: `127.0.0.1:${DEFAULT_PORTS.netdMetrics}`,
  };
  return `# edgenet lab ${plan.name}: netd on node ${node.short} (${node.name})\n${Object.entries(lines)
    .map(([k, v]) => `${k}="${v}"`)
    .join('\n')}\n`;
}

/** Environment every lab daemon runs with (no default path on the machine is touched). */
export function labDaemonEnv(plan: LabPlan): Record<string, string> {
  return {
    EDGENET_STATE_DIR: plan.paths.stateDir,
    EDGENET_RUN_DIR: plan.paths.runDir,
    EDGENET_CONF_DIR: plan.paths.confDir,
    EDGENET_LOG_FORMAT: 'json',
  };
}
