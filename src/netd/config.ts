/**
 * netd's configuration: a `KEY="value"` file with the variable names an
 * eucanetd operator already knows (eucalyptus-edge.md §1.6) plus edgenet's own
 * `EDGENET_*` keys, each also settable as EDGENET_NETD_<KEY> in the
 * environment (which wins over the file).
 *
 * Model: the file is read by the one daemon config reader
 * (shared/config/conf-file.ts: comments `#…`, blank lines, optional
 * `export `, values in double or single quotes or bare); every problem is
 * returned at once as a diagnostic whose path is the key (`NC_ROUTER_IP`), or
 * `line N` for a line that is not an assignment. Unknown keys are warnings
 * (eucalyptus.conf carries many keys netd does not read). Pure: no fs; the
 * environment is passed in.
 *
 * Invariants of a returned NetdConfig: every field is set (defaults filled),
 * `prefix` is 1–8 letters/digits, intervals are positive integers, IPs parse.
 */
import type { Validated } from '../shared/diagnostics.ts';
import { hasErrors } from '../shared/diagnostics.ts';
import { CONF_CODES, parseConfText, type ConfFile } from '../shared/config/conf-file.ts';
import { SETTINGS_CODES, Settings, bad, ok } from '../shared/config/settings.ts';
import { LOG_FORMATS, LOG_LEVELS } from '../shared/config/load.ts';
import type { Resolved } from '../shared/daemon/run.ts';
import { formatIpv6, isIp, parseIpv6 } from '../shared/ip.ts';
import { isUnicastIpv6 } from './render/ipv6-checks.ts';
import { DEFAULT_PORTS } from '../shared/paths.ts';

export interface NetdConfig {
  /** VNET_BRIDGE: bridge the `vn_` interfaces attach to (default `br0`). */
  readonly bridge: string;
  /** VNET_PUBINTERFACE: interface that carries the public /32 addresses ('' = none configured). */
  readonly publicInterface: string;
  /** VNET_PRIVINTERFACE: physical interface enslaved to the bridge ('' = none). */
  readonly privateInterface: string;
  /** VNET_DHCPDAEMON: dhcpd binary. */
  readonly dhcpDaemon: string;
  /** POLLING_FREQUENCY: seconds between polls of the shared file. */
  readonly pollingFrequencySeconds: number;
  /** DISABLE_L2_ISOLATION=Y: no ebtables anti-spoofing (the fake-router ARP reply is kept). */
  readonly disableL2Isolation: boolean;
  /** NC_ROUTER=Y: the node routes for its VMs. */
  readonly ncRouter: boolean;
  /**
   * NC_PROXY=Y (Eucalyptus 4.1.2+, EUCA-10695): this node answers ARP for its
   * instances' private addresses with the bridge MAC, answers every ARP request
   * of an instance the same way (all instance traffic is routed by the node),
   * announces each new instance address, and MASQUERADEs unmarked instance
   * traffic that has no public IP.
   */
  readonly ncProxy: boolean;
  /** NC_ROUTER_IP: '' (fake router on the subnet gateway), an IP, or 'AUTO' (bridge IP in the subnet). */
  readonly ncRouterIp: '' | 'AUTO' | string;
  /** METADATA_IP: overrides the document's enabledCLCIp as the metadata DNAT target ('' = no override). */
  readonly metadataIp: string;
  /**
   * METADATA_IPV6: overrides the document's IPv6 `clc-address` as the target of
   * the IPv6 metadata DNAT ([fd00:ec2::254]:80 → [this]:METADATA_PORT; '' = no override).
   */
  readonly metadataIpv6: string;
  readonly metadataPort: number;
  /** METADATA_USE_VM_PRIVATE=Y: traffic to 169.254.169.254 keeps the VM's private source. */
  readonly metadataUseVmPrivate: boolean;
  /** EDGENET_NODE_NAME: this node's name in the document ('' = find it by local address). */
  readonly nodeName: string;
  /** EDGENET_RUN_DIR: run directory ('' = the default from src/shared/paths.ts). */
  readonly runDir: string;
  /** EDGENET_PREFIX: prefix of every chain and set netd owns. */
  readonly prefix: string;
  readonly resyncIntervalSeconds: number;
  readonly minSyncIntervalMs: number;
  /** EDGENET_GNI_FILE: the shared document ('' = `<runDir>/global_network_info.xml`). */
  readonly gniFile: string;
  /** EDGENET_METRICS_LISTEN: `host:port` of the Prometheus endpoint ('' = default). */
  readonly metricsListen: string;
  /** EDGENET_BRIDGE_MAC: the bridge's MAC for the fake-router ARP reply when not read from the host. */
  readonly bridgeMac: string;
  /** EDGENET_LOG_LEVEL: debug | info | warn | error. */
  readonly logLevel: string;
  /** EDGENET_LOG_FORMAT: auto (text on a terminal, JSON lines otherwise) | json | text. */
  readonly logFormat: 'auto' | 'json' | 'text';
  /**
   * EDGENET_CONTROL_PLANE_PORTS: TCP ports of the cloud's control plane that
   * instances must not reach on any cloud host (iptables multiport form,
   * `p` or `lo:hi`, comma separated; '' = no such block). The metadata service
   * stays reachable through its 169.254.169.254 DNAT (issue 11 class 5).
   */
  readonly controlPlanePorts: string;
  /**
   * EDGENET_SPAWNER=N: the `netd run` daemon runs its commands as plain
   * fork+exec of its own process instead of through one long-lived /bin/sh
   * (src/shared/spawner.ts). Read at start; one-shot commands always use the plain way.
   */
  readonly spawner: boolean;
}

/** CLC admin API, metadata, CC and NC SOAP, every daemon's metrics/health (src/shared/paths.ts DEFAULT_PORTS). */
export const DEFAULT_CONTROL_PLANE_PORTS = `${DEFAULT_PORTS.clcApi},${DEFAULT_PORTS.metadata}:${DEFAULT_PORTS.nc},${DEFAULT_PORTS.clcMetrics}:${DEFAULT_PORTS.netdMetrics}`;

/**
 * A multiport `--dports` list as iptables-save prints it: `p` or `lo:hi`
 * items, comma separated, each port 1..65535, lo < hi, at most 15 port slots
 * (a range takes two, the kernel's limit). Returns the problem, or undefined.
 */
export function checkPortList(v: string): string | undefined {
  if (v === '') return undefined;
  let slots = 0;
  for (const item of v.split(',')) {
    const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(item);
    if (!m) return `${JSON.stringify(item)} is not a port or lo:hi range`;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi > 65535 || (m[2] !== undefined && lo >= hi)) return `${item} is not within 1-65535 in order`;
    slots += m[2] === undefined ? 1 : 2;
  }
  return slots > 15 ? 'at most 15 ports (a range counts as two)' : undefined;
}

export const DEFAULT_NETD_CONFIG: NetdConfig = Object.freeze({
  bridge: 'br0',
  publicInterface: '',
  privateInterface: '',
  dhcpDaemon: '/usr/sbin/dhcpd',
  pollingFrequencySeconds: 1,
  disableL2Isolation: false,
  ncRouter: true,
  ncRouterIp: '',
  ncProxy: false,
  metadataIp: '',
  metadataIpv6: '',
  metadataPort: DEFAULT_PORTS.metadata,
  metadataUseVmPrivate: false,
  nodeName: '',
  runDir: '',
  prefix: 'EDGENET',
  resyncIntervalSeconds: 60,
  minSyncIntervalMs: 100,
  gniFile: '',
  metricsListen: '',
  bridgeMac: '',
  logLevel: 'info',
  logFormat: 'auto',
  controlPlanePorts: DEFAULT_CONTROL_PLANE_PORTS,
  spawner: true,
});

/** Diagnostic codes of this parser. */
/** Diagnostic codes (the shared config reader's, the same for every daemon). */
export const NETD_CONFIG_CODES = {
  syntax: CONF_CODES.syntax,
  unknownKey: SETTINGS_CODES.unknownKey,
  badValue: SETTINGS_CODES.badValue,
  duplicateKey: CONF_CODES.duplicate,
} as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Setter = (value: string, out: Mutable<NetdConfig>) => string | undefined;

const IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function iface(field: 'bridge' | 'publicInterface' | 'privateInterface', allowEmpty: boolean): Setter {
  return (v, out) => {
    if (v === '' && allowEmpty) { out[field] = ''; return undefined; }
    if (!IFNAME.test(v)) return 'must be an interface name (1-15 of letters, digits, _ . : -)';
    out[field] = v;
    return undefined;
  };
}

function yesNo(field: 'disableL2Isolation' | 'ncRouter' | 'ncProxy' | 'metadataUseVmPrivate' | 'spawner'): Setter {
  return (v, out) => {
    const u = v.toUpperCase();
    if (u === 'Y' || u === 'YES' || u === 'TRUE' || u === '1') out[field] = true;
    else if (u === 'N' || u === 'NO' || u === 'FALSE' || u === '0') out[field] = false;
    else return 'must be Y or N';
    return undefined;
  };
}

function positiveInt(field: 'pollingFrequencySeconds' | 'resyncIntervalSeconds' | 'minSyncIntervalMs' | 'metadataPort', max: number): Setter {
  return (v, out) => {
    if (!/^\d+$/.test(v)) return 'must be a positive integer';
    const n = Number(v);
    if (n < 1 || n > max) return `must be between 1 and ${max}`;
    out[field] = n;
    return undefined;
  };
}

function text(field: 'dhcpDaemon' | 'nodeName' | 'runDir' | 'gniFile' | 'metricsListen', absolute: boolean): Setter {
  return (v, out) => {
    if (absolute && v !== '' && !v.startsWith('/')) return 'must be an absolute path';
    out[field] = v;
    return undefined;
  };
}

const SETTERS: Readonly<Record<string, Setter>> = {
  VNET_BRIDGE: iface('bridge', false),
  VNET_PUBINTERFACE: iface('publicInterface', true),
  VNET_PRIVINTERFACE: iface('privateInterface', true),
  VNET_DHCPDAEMON: (v, out) => (v === '' ? 'must not be empty' : text('dhcpDaemon', true)(v, out)),
  POLLING_FREQUENCY: positiveInt('pollingFrequencySeconds', 3600),
  DISABLE_L2_ISOLATION: yesNo('disableL2Isolation'),
  NC_ROUTER: yesNo('ncRouter'),
  NC_PROXY: yesNo('ncProxy'),
  NC_ROUTER_IP: (v, out) => {
    if (v === '' || v.toUpperCase() === 'AUTO') { out.ncRouterIp = v.toUpperCase(); return undefined; }
    if (!isIp(v)) return 'must be empty, AUTO or an IPv4 address';
    out.ncRouterIp = v;
    return undefined;
  },
  METADATA_IP: (v, out) => {
    if (v !== '' && !isIp(v)) return 'must be empty or an IPv4 address';
    out.metadataIp = v;
    return undefined;
  },
  METADATA_IPV6: (v, out) => {
    const ip = v === '' ? undefined : parseIpv6(v);
    if (v !== '' && (ip === undefined || !isUnicastIpv6(ip))) return 'must be empty or a unicast IPv6 address';
    out.metadataIpv6 = ip === undefined ? '' : formatIpv6(ip);
    return undefined;
  },
  METADATA_PORT: positiveInt('metadataPort', 65535),
  METADATA_USE_VM_PRIVATE: yesNo('metadataUseVmPrivate'),
  EDGENET_NODE_NAME: text('nodeName', false),
  EDGENET_RUN_DIR: text('runDir', true),
  EDGENET_PREFIX: (v, out) => {
    if (!/^[A-Za-z0-9]{1,8}$/.test(v)) return 'must be 1-8 letters or digits (chain names are limited to 28 characters)';
    out.prefix = v;
    return undefined;
  },
  EDGENET_RESYNC_INTERVAL: positiveInt('resyncIntervalSeconds', 86400),
  EDGENET_MIN_SYNC_INTERVAL: positiveInt('minSyncIntervalMs', 600000),
  EDGENET_GNI_FILE: text('gniFile', true),
  EDGENET_METRICS_LISTEN: (v, out) => {
    if (v !== '' && !/^[^\s:]*:\d{1,5}$/.test(v)) return 'must be host:port or :port';
    out.metricsListen = v;
    return undefined;
  },
  EDGENET_BRIDGE_MAC: (v, out) => {
    const lower = v.toLowerCase();
    if (lower !== '' && !MAC.test(lower)) return 'must be a MAC address hh:hh:hh:hh:hh:hh';
    out.bridgeMac = lower;
    return undefined;
  },
  EDGENET_LOG_LEVEL: (v, out) => {
    if (!(LOG_LEVELS as readonly string[]).includes(v)) return `must be one of ${LOG_LEVELS.join(', ')}`;
    out.logLevel = v;
    return undefined;
  },
  EDGENET_CONTROL_PLANE_PORTS: (v, out) => {
    const problem = checkPortList(v);
    if (problem !== undefined) return problem;
    out.controlPlanePorts = v;
    return undefined;
  },
  EDGENET_LOG_FORMAT: (v, out) => {
    if (!(LOG_FORMATS as readonly string[]).includes(v)) return `must be one of ${LOG_FORMATS.join(', ')}`;
    out.logFormat = v as NetdConfig['logFormat'];
    return undefined;
  },
  EDGENET_SPAWNER: yesNo('spawner'),
};

/** The text of each key's default (what --check-config shows as `default`). */
const DEFAULT_TEXT: Readonly<Record<string, string>> = {
  VNET_BRIDGE: DEFAULT_NETD_CONFIG.bridge,
  VNET_PUBINTERFACE: '',
  VNET_PRIVINTERFACE: '',
  VNET_DHCPDAEMON: DEFAULT_NETD_CONFIG.dhcpDaemon,
  POLLING_FREQUENCY: String(DEFAULT_NETD_CONFIG.pollingFrequencySeconds),
  DISABLE_L2_ISOLATION: 'N',
  NC_ROUTER: 'Y',
  NC_PROXY: 'N',
  NC_ROUTER_IP: '',
  METADATA_IP: '',
  METADATA_IPV6: '',
  METADATA_PORT: String(DEFAULT_NETD_CONFIG.metadataPort),
  METADATA_USE_VM_PRIVATE: 'N',
  EDGENET_NODE_NAME: '',
  EDGENET_RUN_DIR: '',
  EDGENET_PREFIX: DEFAULT_NETD_CONFIG.prefix,
  EDGENET_RESYNC_INTERVAL: String(DEFAULT_NETD_CONFIG.resyncIntervalSeconds),
  EDGENET_MIN_SYNC_INTERVAL: String(DEFAULT_NETD_CONFIG.minSyncIntervalMs),
  EDGENET_GNI_FILE: '',
  EDGENET_METRICS_LISTEN: '',
  EDGENET_BRIDGE_MAC: '',
  EDGENET_LOG_LEVEL: DEFAULT_NETD_CONFIG.logLevel,
  EDGENET_LOG_FORMAT: DEFAULT_NETD_CONFIG.logFormat,
  EDGENET_CONTROL_PLANE_PORTS: DEFAULT_NETD_CONFIG.controlPlanePorts,
  EDGENET_SPAWNER: 'Y',
};

/** Keys netd reads; other keys of eucalyptus.conf are reported as warnings. */
export const NETD_CONFIG_KEYS: readonly string[] = Object.keys(SETTERS);

/**
 * Every key from the environment (EDGENET_NETD_<KEY>, a leading EDGENET_ of
 * the key dropped: EDGENET_NETD_VNET_BRIDGE, EDGENET_NETD_PREFIX; the log
 * keys also take the cloud-wide EDGENET_LOG_LEVEL / EDGENET_LOG_FORMAT),
 * then the file, then the default; every problem as a diagnostic.
 */
export function resolveNetdConfig(input: { readonly conf: ConfFile; readonly env: NodeJS.ProcessEnv }): Resolved<NetdConfig> {
  const out: Mutable<NetdConfig> = { ...DEFAULT_NETD_CONFIG };
  const s = new Settings({ daemon: 'netd', conf: input.conf, env: input.env, aliases: { EDGENET_LOG_LEVEL: ['EDGENET_LOG_LEVEL'], EDGENET_LOG_FORMAT: ['EDGENET_LOG_FORMAT'] } });
  for (const [key, setter] of Object.entries(SETTERS)) {
    s.value(key, DEFAULT_TEXT[key] ?? '', (raw) => {
      const problem = setter(raw, out);
      return problem === undefined ? ok(undefined) : bad(problem);
    });
  }
  s.warnUnknown(NETD_CONFIG_KEYS);
  return { config: Object.freeze(out), effective: s.effective, diagnostics: s.diagnostics };
}

/** The file's text alone (no environment): tests and `netd plan`. */
export function parseNetdConfig(text: string): Validated<NetdConfig> {
  const r = resolveNetdConfig({ conf: parseConfText(text), env: {} });
  if (hasErrors(r.diagnostics)) return { ok: false, diagnostics: r.diagnostics };
  return { ok: true, value: r.config, diagnostics: r.diagnostics };
}
