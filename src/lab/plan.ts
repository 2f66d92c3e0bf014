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
 * and, unless the lab is IPv4-only (`lab up --ipv4-only`), IPv6 next to them:
 *   lan management /64             fd00:172:31::/64     ctl ::2 (the CLC's CLC_IPV6), node nK's br0 ::1K
 *   public L2                      2001:db8:ffff::/64   client ::2 (routes the cluster /64 via both nodes), node nK's pub0 ::1K
 *   cluster PARTI00's Ipv6Prefix   2001:db8:10::/64     instances: EUI-64 of their MAC by SLAAC (netd's radvd);
 *                                                       no Ipv6DnsServers (the lab runs no DNS server: see LAB_IPV6)
 * Processes: CLC + CC + API relay in `P-ctl`; NC + netd in each `P-nK`; one
 * relay on the host's loopback so `edgenet ...` works from the host with
 * EDGENET_URL/EDGENET_TOKEN (see relay.ts). The CLC's EC2 Query endpoint
 * (EC2_LISTEN 127.0.0.1:8788 in `P-ctl`) has its own pair of relays, so the
 * AWS CLI and boto3 on the host reach it at http://127.0.0.1:<port>.
 * `lab up --db postgres` (issue 16): PostgreSQL on 127.0.0.1:5432 of `P-ctl`
 * (data under <lab>/pg) and two CLCs on it, clc-1 as above, clc-2 at
 * 172.31.0.3 / fd00:172:31::3 with API 8771, EC2 8789, metrics 9771 and a
 * relay pair of its own for each (haPlan below).
 *
 * `lab up --mode routed` (issue 17, docs/lab.md "ROUTED"): the same lan, ctl
 * and nodes (no bridge and no public interface on a node), plus an upstream
 * router namespace `P-rt` running BIRD:
 *   lan (management + BGP peering)  172.31.0.0/24, fd00:172:31::/64   router .1 / ::1 (AS 65000)
 *   client link (router ↔ client)   203.0.113.0/24, 2001:db8:ffff::/64 router .1 / ::1, client .2 / ::2
 *   routed IPv4 pool                10.50.0.10-10.50.0.100            (cluster PARTI00's Ipv4Pool)
 *   routed IPv6 prefix              2001:db8:50::/64                  (its Ipv6Prefix; absent with --ipv4-only)
 *   elastic addresses               10.60.0.1-10.60.0.9               (PublicIps: routed /32s, never NAT)
 *   BGP                             cloud LocalAsn 65001, node n2 overrides it with 65002
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PORTS, stateDir } from '../shared/paths.ts';
import { EdgenetError } from '../shared/errors.ts';
import { formatIp, parseRangeEntry } from '../shared/ip.ts';
import type { TopologySpec } from './topology.ts';

export interface LabNodePlan {
  /** Lab-local short name (n1, n2, ...): namespace P-<short>. */
  readonly short: string;
  /** The node's registered name in the cloud = its management address. */
  readonly name: string;
  readonly mgmtIp: string;
  /** pub0's address (EDGE labs; a ROUTED node has no public interface). */
  readonly publicIp?: string;
  /** br0's address in the VM subnet (see TopologyNodeSpec.vmIp; EDGE labs). */
  readonly vmIp?: string;
  readonly ncUrl: string;
  readonly certName: string;
  readonly runDir: string;
  readonly netdConfFile: string;
  readonly ncLog: string;
  readonly netdLog: string;
  /** br0's address in the management /64 (dual-stack labs only). */
  readonly mgmtIpv6?: string;
  /**
   * netd's EDGENET_STATE_DIR on this node (ROUTED labs: each node's netd writes its
   * config drives under `<stateDir>/config-drive/<instance>/`; the nodes must not share it).
   */
  readonly stateDir?: string;
  /** pub0's address in the public /64 (dual-stack labs only). */
  readonly publicIpv6?: string;
}

/** The IPv6 half of a dual-stack lab (absent: the lab is IPv4-only, as before issue 14). */
export interface LabIpv6Plan {
  /** Cluster PARTI00's `Ipv6Prefix` (a /64 of the documentation range). */
  readonly prefix: string;
  /** Its `Ipv6DnsServers` (empty: see LAB_IPV6). */
  readonly dnsServers: readonly string[];
  /** Management /64 on the lan L2. */
  readonly lan: string;
  /** Public /64 on the public L2. */
  readonly publicNet: string;
  /** The control namespace's address: the CLC's CLC_IPV6 (netd's IPv6 metadata DNAT target). */
  readonly ctlIp: string;
  readonly clientIp: string;
}

export interface LabPlanOptions {
  /** Today's lab without any IPv6 (no Ipv6Prefix, no IPv6 address anywhere). */
  readonly ipv4Only?: boolean;
  /** `postgres`: a throwaway PostgreSQL server in the control namespace and two CLCs on it (issue 16); default one CLC on SQLite. */
  readonly db?: LabDbKind;
  /** `routed`: a ROUTED cloud behind an upstream BGP router (issue 17); default `edge`. */
  readonly mode?: LabMode;
}

export type LabDbKind = 'sqlite' | 'postgres';
/** The network mode of the lab's cloud (the property's `Mode`, lower case as on the command line). */
export type LabMode = 'edge' | 'routed';
export const LAB_MODES: readonly LabMode[] = ['edge', 'routed'];

/**
 * The upstream router of a ROUTED lab: namespace `P-rt`, one leg on the lan
 * (where it peers with every node) and a point-to-point link to the client.
 * BIRD runs there in the foreground (`-f`), so the lab's recorded pid is
 * BIRD's own; its files live in `dir`.
 */
export interface LabRouterPlan {
  /** Namespace short name (P-rt). */
  readonly short: string;
  readonly asn: number;
  /** Its address on the lan: every node's BGP peer. */
  readonly lanIp: string;
  readonly lanIpv6?: string;
  /** Its address on the client link (the client's default gateway). */
  readonly clientLinkIp: string;
  readonly clientLinkIpv6?: string;
  readonly dir: string;
  readonly conf: string;
  /** birdc's control socket. */
  readonly ctl: string;
  readonly pidFile: string;
  readonly log: string;
}

/** One node's BGP view from the router's side. */
export interface LabRoutedNodePlan {
  /** n1, n2 */
  readonly short: string;
  /** Its lan address: the neighbor address of its IPv4 session. */
  readonly address: string;
  /** Its lan IPv6 address: the neighbor address of its IPv6 session (dual-stack labs). */
  readonly addressIpv6?: string;
  /** Its LocalAsn (the cloud's, or its per-node override). */
  readonly asn: number;
  /** An override written into the property's node entry (absent: the cloud-wide LocalAsn applies). */
  readonly override?: number;
}

export interface LabRoutedPlan {
  readonly router: LabRouterPlan;
  /** The cluster's Ipv4Pool (ranges); the router accepts /32s inside it only. */
  readonly ipv4Pool: readonly string[];
  /** The cluster's Ipv6Prefix (absent: an IPv4-only cluster, `--ipv4-only`). */
  readonly ipv6Prefix?: string;
  /** PublicIps: elastic addresses, each one more routed /32 on its instance. */
  readonly publicIps: readonly string[];
  readonly gatewayIpv4: string;
  readonly gatewayIpv6: string;
  /** Cloud-wide Bgp.LocalAsn. */
  readonly cloudAsn: number;
  readonly nodes: readonly LabRoutedNodePlan[];
}

/**
 * One CLC of a two-CLC lab (`lab up --db postgres`). Both run in the control
 * namespace, share the token file and the credentials key, and differ in
 * every listener: admin API, EC2, metrics on loopback ports of their own, and
 * the metadata service on an address of their own (CLC_IP / CLC_IPV6, since
 * netd DNATs metadata to the leader's CLC_IP at the one port 8773): clc-1 has
 * the control namespace's address, clc-2 a second one on the same interface.
 */
export interface LabClcPlan {
  /** CLC_ID: clc-1, clc-2. */
  readonly id: string;
  readonly ip: string;
  readonly ipv6?: string;
  readonly apiPort: number;
  readonly ec2Port: number;
  readonly metricsPort: number;
  readonly apiSocket: string;
  readonly ec2Socket: string;
  readonly apiPortFile: string;
  readonly ec2PortFile: string;
}

/** The lab's PostgreSQL server (a cluster initdb'd as the postgres user under the lab directory, run in the control namespace). */
export interface LabPostgresPlan {
  /** postgres-owned (mode 0700): the data directory, the unix socket and the server log live here. */
  readonly dir: string;
  readonly dataDir: string;
  readonly log: string;
  /** Loopback of the control namespace. */
  readonly port: number;
  readonly database: string;
  /** DB= for the CLCs (trust authentication on loopback: a throwaway lab server). */
  readonly url: string;
}

/**
 * The lab's IPv6 addressing. No Ipv6DnsServers: the lab runs no DNS server,
 * and an RDNSS entry nothing answers only slows every lookup in an instance
 * (the IPv4 side keeps the example's InstanceDnsServers = the gateway, as
 * Eucalyptus configurations do). Instances still run rdnssd (topology.ts),
 * so a property that sets Ipv6DnsServers shows up in their resolv.conf.
 */
export const LAB_IPV6 = {
  prefix: '2001:db8:10::/64',
  dnsServers: [] as readonly string[],
  lan: 'fd00:172:31::/64',
  publicNet: '2001:db8:ffff::/64',
  ctlIp: 'fd00:172:31::2',
  clientIp: '2001:db8:ffff::2',
} as const satisfies LabIpv6Plan;

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
  /** The CLC's EC2 Query endpoint in the control namespace (EC2_LISTEN on its loopback; relayed to the host like the admin API). */
  readonly ec2Port: number;
  /** The region name the lab suggests to EC2 clients (any name works: it only enters the SigV4 credential scope). */
  readonly ec2Region: string;
  readonly metadataPort: number;
  readonly ccPort: number;
  readonly ccUrl: string;
  readonly ncPort: number;
  readonly vmSubnet: string;
  readonly vmGateway: string;
  readonly publicPool: readonly string[];
  readonly nodes: readonly LabNodePlan[];
  /** Absent for an IPv4-only lab (and in state files written before issue 14). */
  readonly ipv6?: LabIpv6Plan;
  /** `lab up --mode routed` only (issue 17): the upstream router, the routed pools and the BGP numbers. */
  readonly routed?: LabRoutedPlan;
  /** `lab up --db postgres` only: the PostgreSQL server and the two CLCs on it (absent: one CLC on SQLite, paths.clcDb). */
  readonly postgres?: LabPostgresPlan;
  readonly clcs?: readonly LabClcPlan[];
  readonly paths: {
    readonly certs: string;
    readonly logs: string;
    readonly clcDb: string;
    readonly clcToken: string;
    readonly ccState: string;
    readonly networkConfiguration: string;
    /** The ctl relay's unix socket (the host relay dials it). */
    readonly apiSocket: string;
    /** The same for the EC2 endpoint. */
    readonly ec2Socket: string;
    /** The host relay's port for the admin API / the EC2 endpoint (written once it listens). */
    readonly apiPortFile: string;
    readonly ec2PortFile: string;
    /** The lab tenant's access key, as an AWS shared credentials file (mode 0600; `lab up` writes it). */
    readonly tenantCredentials: string;
    /** Env for every daemon: keeps them off the machine's /var/lib/edgenet, /run/edgenet, /etc/edgenet. */
    readonly stateDir: string;
    readonly runDir: string;
    readonly confDir: string;
  };
}

export const DEFAULT_LAB_NAME = 'lab';
/** The region the lab prints in its `aws ec2 … --region` lines. */
const LAB_EC2_REGION = 'lab';
/** The account `lab up` creates for EC2 clients (its key: paths.tenantCredentials). */
export const LAB_TENANT_ACCOUNT = 'tenant';
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

export function labPlan(name: string, dir: string, options: LabPlanOptions = {}): LabPlan {
  assertLabName(name);
  const routedMode = options.mode === 'routed';
  // ROUTED: the cluster's /64 is the routed prefix (instances get the EUI-64 of their MAC in it, from the config drive).
  const v6: LabIpv6Plan | undefined = options.ipv4Only ? undefined : routedMode ? { ...LAB_IPV6, prefix: LAB_ROUTED.ipv6Prefix } : LAB_IPV6;
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
      ...(routedMode ? { stateDir: path.join(nodeDir, 'state') } : { publicIp: `203.0.113.${10 + i}`, vmIp: `10.111.0.${10 + i}` }),
      ncUrl: `https://${mgmtIp}:${DEFAULT_PORTS.nc}/`,
      certName: `nc-${short}`,
      runDir: path.join(nodeDir, 'run'),
      netdConfFile: path.join(nodeDir, 'netd.conf'),
      ncLog: path.join(abs, 'logs', `nc-${short}.log`),
      netdLog: path.join(abs, 'logs', `netd-${short}.log`),
      ...(v6 ? { mgmtIpv6: `fd00:172:31::${10 + i}`, ...(routedMode ? {} : { publicIpv6: `2001:db8:ffff::${10 + i}` }) } : {}),
    });
  }
  const ctlIp = '172.31.0.2';
  const clientIp = '203.0.113.2';
  const routed = routedMode ? routedPlan(abs, nodes, v6) : undefined;
  const publicPool: string[] = [];
  if (routed) publicPool.push(...LAB_ROUTED.publicIps.flatMap(expandRangeText));
  else for (let i = 100; i <= 120; i++) publicPool.push(`203.0.113.${i}`);
  const ha = options.db === 'postgres' ? haPlan(name, abs, ctlIp, v6) : {};
  // ROUTED: no VM subnet on any L2; the instance-side link is 169.254.0.0/16 (the explode's), its gateway 169.254.0.1.
  const vmSubnet = routed ? '169.254.0.0/16' : '10.111.0.0/16';
  return {
    name,
    prefix,
    dir: abs,
    stateFile: path.join(abs, 'lab.json'),
    topology: {
      prefix,
      nodes: nodes.map((n) => ({
        name: n.short,
        mgmtIp: n.mgmtIp,
        ...(n.publicIp ? { publicIp: n.publicIp } : {}),
        ...(n.vmIp ? { vmIp: n.vmIp } : {}),
        ...(n.mgmtIpv6 ? { mgmtIpv6: n.mgmtIpv6 } : {}),
        ...(n.publicIpv6 ? { publicIpv6: n.publicIpv6 } : {}),
      })),
      lan: '172.31.0.0/24',
      publicNet: '203.0.113.0/24',
      vmSubnet,
      client: { ip: clientIp, ...(v6 ? { ipv6: v6.clientIp } : {}) },
      ctl: { ip: ctlIp, ...(v6 ? { ipv6: v6.ctlIp } : {}) },
      ...(v6 ? { ipv6: { lan: v6.lan, publicNet: v6.publicNet, vmPrefix: v6.prefix } } : {}),
      ...(routed
        ? {
            routed: {
              router: {
                ip: routed.router.lanIp,
                clientLinkIp: routed.router.clientLinkIp,
                ...(routed.router.lanIpv6 ? { ipv6: routed.router.lanIpv6 } : {}),
                ...(routed.router.clientLinkIpv6 ? { clientLinkIpv6: routed.router.clientLinkIpv6 } : {}),
              },
            },
          }
        : {}),
      workDir: path.join(abs, 'topology'),
    },
    cluster: 'PARTI00',
    ctlIp,
    clientIp,
    clcApiPort: DEFAULT_PORTS.clcApi,
    ec2Port: DEFAULT_PORTS.ec2,
    ec2Region: LAB_EC2_REGION,
    metadataPort: DEFAULT_PORTS.metadata,
    ccPort: DEFAULT_PORTS.cc,
    ccUrl: `https://${ctlIp}:${DEFAULT_PORTS.cc}/`,
    ncPort: DEFAULT_PORTS.nc,
    vmSubnet,
    vmGateway: routed ? routed.gatewayIpv4 : '10.111.0.1',
    publicPool,
    nodes,
    ...(v6 ? { ipv6: { ...v6, dnsServers: [...v6.dnsServers] } } : {}),
    ...(routed ? { routed } : {}),
    ...ha,
    paths: {
      certs: path.join(abs, 'certs'),
      logs: path.join(abs, 'logs'),
      clcDb: path.join(abs, 'clc', 'edgenet.db'),
      clcToken: path.join(abs, 'clc', 'admin-token'),
      ccState: path.join(abs, 'cc'),
      networkConfiguration: path.join(abs, 'network_configuration.json'),
      apiSocket: path.join(abs, 'clc-api.sock'),
      ec2Socket: path.join(abs, 'clc-ec2.sock'),
      apiPortFile: path.join(abs, 'api.port'),
      ec2PortFile: path.join(abs, 'ec2.port'),
      tenantCredentials: path.join(abs, 'tenant-credentials'),
      stateDir: path.join(abs, 'state'),
      runDir: path.join(abs, 'run'),
      confDir: path.join(abs, 'conf'),
    },
  };
}

/**
 * The ROUTED lab's numbers (documentation and private ranges only). The
 * router's addresses are the first of the lan and of the client link; the
 * pools are outside every link, reachable only through routes learned over BGP.
 */
export const LAB_ROUTED = {
  routerShort: 'rt',
  routerAsn: 65000,
  cloudAsn: 65001,
  /** n2's per-node LocalAsn override (exercises the cloud → node merge; n1 keeps the cloud's). */
  nodeAsnOverrides: { n2: 65002 } as Readonly<Record<string, number>>,
  routerLanIp: '172.31.0.1',
  routerLanIpv6: 'fd00:172:31::1',
  routerClientIp: '203.0.113.1',
  routerClientIpv6: '2001:db8:ffff::1',
  ipv4Pool: ['10.50.0.10-10.50.0.100'] as readonly string[],
  ipv6Prefix: '2001:db8:50::/64',
  publicIps: ['10.60.0.1-10.60.0.9'] as readonly string[],
  gatewayIpv4: '169.254.0.1',
  gatewayIpv6: 'fe80::1',
} as const;

function routedPlan(abs: string, nodes: readonly LabNodePlan[], v6: LabIpv6Plan | undefined): LabRoutedPlan {
  const R = LAB_ROUTED;
  const dir = path.join(abs, 'router');
  return {
    router: {
      short: R.routerShort,
      asn: R.routerAsn,
      lanIp: R.routerLanIp,
      clientLinkIp: R.routerClientIp,
      ...(v6 ? { lanIpv6: R.routerLanIpv6, clientLinkIpv6: R.routerClientIpv6 } : {}),
      dir,
      conf: path.join(dir, 'bird.conf'),
      ctl: path.join(dir, 'bird.ctl'),
      pidFile: path.join(dir, 'bird.pid'),
      log: path.join(abs, 'logs', 'router-bird.log'),
    },
    ipv4Pool: [...R.ipv4Pool],
    ...(v6 ? { ipv6Prefix: R.ipv6Prefix } : {}),
    publicIps: [...R.publicIps],
    gatewayIpv4: R.gatewayIpv4,
    gatewayIpv6: R.gatewayIpv6,
    cloudAsn: R.cloudAsn,
    nodes: nodes.map((n) => {
      const override = R.nodeAsnOverrides[n.short];
      return { short: n.short, address: n.mgmtIp, ...(n.mgmtIpv6 ? { addressIpv6: n.mgmtIpv6 } : {}), asn: override ?? R.cloudAsn, ...(override !== undefined ? { override } : {}) };
    }),
  };
}

/** Every address of an `a-b` range text (small lab pools only). */
function expandRangeText(text: string): string[] {
  const r = parseRangeEntry(text);
  if (!r) throw new EdgenetError('LAB_BAD_SPEC', `lab pool entry "${text}" is not an address range`);
  const out: string[] = [];
  for (let ip = r.lo; ip <= r.hi; ip++) out.push(formatIp(ip));
  return out;
}

/** PostgreSQL's port on the control namespace's loopback (its own namespace: the usual port never collides). */
const LAB_POSTGRES_PORT = 5432;
const LAB_CLC_COUNT = 2;

/**
 * The PostgreSQL server and the CLCs of a `--db postgres` lab; clc-1 keeps the one-CLC lab's ports, sockets and address.
 * PostgreSQL's directory is `<tmp>/edgenet-lab-<name>-pg`, not under the lab's: the server runs as the
 * `postgres` user, which cannot enter the lab's default place (/var/lib/edgenet is 0700) — and the lab
 * does not loosen the modes of directories it does not own.
 */
function haPlan(name: string, abs: string, ctlIp: string, v6: LabIpv6Plan | undefined): { postgres: LabPostgresPlan; clcs: LabClcPlan[] } {
  const pgDir = path.join(os.tmpdir(), `edgenet-lab-${name}-pg`);
  const database = 'edgenet';
  const clcs: LabClcPlan[] = [];
  for (let i = 0; i < LAB_CLC_COUNT; i++) {
    const suffix = i === 0 ? '' : `-${i + 1}`;
    // clc-2 at the next address (172.31.0.3, fd00:172:31::3): below the nodes' .11, .12.
    clcs.push({
      id: `clc-${i + 1}`,
      ip: ctlIp.replace(/\.(\d+)$/, (_, last: string) => `.${Number(last) + i}`),
      ...(v6 ? { ipv6: v6.ctlIp.replace(/::(\d+)$/, (_, last: string) => `::${Number(last) + i}`) } : {}),
      apiPort: DEFAULT_PORTS.clcApi + i,
      ec2Port: DEFAULT_PORTS.ec2 + i,
      metricsPort: DEFAULT_PORTS.clcMetrics + i,
      apiSocket: path.join(abs, `clc-api${suffix}.sock`),
      ec2Socket: path.join(abs, `clc-ec2${suffix}.sock`),
      apiPortFile: path.join(abs, `api${suffix}.port`),
      ec2PortFile: path.join(abs, `ec2${suffix}.port`),
    });
  }
  return {
    postgres: { dir: pgDir, dataDir: path.join(pgDir, 'data'), log: path.join(pgDir, 'server.log'), port: LAB_POSTGRES_PORT, database, url: `postgres://postgres@127.0.0.1:${LAB_POSTGRES_PORT}/${database}` },
    clcs,
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
        Subnet: {
          Name: '10.111.0.0',
          Subnet: '10.111.0.0',
          Netmask: '255.255.0.0',
          Gateway: plan.vmGateway,
          // Dual stack (issue 14): the cluster's /64; instances get the EUI-64 of their MAC in it.
          ...(plan.ipv6 ? { Ipv6Prefix: plan.ipv6.prefix } : {}),
          ...(plan.ipv6 && plan.ipv6.dnsServers.length > 0 ? { Ipv6DnsServers: [...plan.ipv6.dnsServers] } : {}),
        },
        PrivateIps: ['10.111.103.30-10.111.103.99'],
      },
    ],
  };
}

/**
 * The ROUTED lab's property (docs/config.md "ROUTED"; the shape of
 * examples/network_configuration.routed.json): one dual-stack cluster
 * (IPv4-only with `--ipv4-only`) on both nodes, the router as every node's
 * peer, n2 with its own LocalAsn. The name servers answer nothing (the lab runs
 * no DNS server) and lie outside every lab network, so a lookup fails at once.
 */
export function labRoutedNetworkConfiguration(plan: LabPlan, example: Record<string, unknown> = {}): Record<string, unknown> {
  const r = plan.routed;
  if (!r) throw new EdgenetError('LAB_BAD_SPEC', `lab ${plan.name} is not a ROUTED lab`);
  return {
    Mode: 'ROUTED',
    InstanceDnsDomain: typeof example.InstanceDnsDomain === 'string' ? example.InstanceDnsDomain : 'cloud.lab.internal',
    InstanceDnsServers: [LAB_ROUTED_DNS.ipv4, ...(r.ipv6Prefix ? [LAB_ROUTED_DNS.ipv6] : [])],
    MacPrefix: typeof example.MacPrefix === 'string' ? example.MacPrefix : 'd0:0d',
    PublicIps: [...r.publicIps],
    InstanceGateway: { Ipv4: r.gatewayIpv4, Ipv6: r.gatewayIpv6 },
    // One peer per family: netd's BIRD carries a family only over a session of that family.
    Bgp: { LocalAsn: r.cloudAsn, Peers: [{ Address: r.router.lanIp, Asn: r.router.asn }, ...(r.ipv6Prefix && r.router.lanIpv6 ? [{ Address: r.router.lanIpv6, Asn: r.router.asn }] : [])] },
    Clusters: [
      {
        Name: plan.cluster,
        Ipv4Pool: [...r.ipv4Pool],
        ...(r.ipv6Prefix ? { Ipv6Prefix: r.ipv6Prefix } : {}),
        Nodes: r.nodes.filter((n) => n.override !== undefined).map((n) => ({ Name: n.address, Bgp: { LocalAsn: n.override } })),
      },
    ],
  };
}

/** The ROUTED lab's InstanceDnsServers: documentation addresses no lab network routes (see labRoutedNetworkConfiguration). */
export const LAB_ROUTED_DNS = { ipv4: '198.51.100.53', ipv6: '2001:db8:5353::53' } as const;

/** netd's KEY="value" file for one lab node (keys: src/netd/config.ts). */
export function labNetdConf(plan: LabPlan, node: LabNodePlan): string {
  const lines: Record<string, string> = plan.routed
    ? {
        // ROUTED: no bridge and no public interface (elastic addresses are routed /32s on the instance);
        // the node's only uplink is priv0, which holds its management address and its BGP session.
        VNET_PRIVINTERFACE: 'priv0',
        POLLING_FREQUENCY: '1',
        METADATA_USE_VM_PRIVATE: 'Y',
        EDGENET_NODE_NAME: node.name,
        EDGENET_RUN_DIR: node.runDir,
        EDGENET_METRICS_LISTEN: `127.0.0.1:${DEFAULT_PORTS.netdMetrics}`,
      }
    : {
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

/** Where netd on `node` writes an instance's config drive (netd's `<state dir>/config-drive/<instance>/`). */
export function labConfigDriveDir(node: LabNodePlan, instance: string): string {
  if (!node.stateDir) throw new EdgenetError('LAB_BAD_SPEC', `node ${node.short} has no state directory of its own (not a ROUTED lab)`);
  return path.join(node.stateDir, 'config-drive', instance);
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
