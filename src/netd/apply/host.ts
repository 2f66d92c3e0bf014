/**
 * HostOps: the one interface netd uses to read and change the host. The real
 * implementation (`linux-host.ts`) runs the standard tools through the Exec
 * seam and reads /proc and /sys through the Files seam; unit tests use the
 * in-memory kernel in test/helpers/fake-host.ts. Nothing else in netd touches
 * the host.
 *
 * Reads return the tools' own text (`iptables-save`, `ebtables-save`,
 * `ipset save`) so the same parsers serve the real and the fake host.
 * Writes are whole transactions (`*-restore` text), never one process per rule.
 */
import type { ObservedAddress, ObservedLink, ObservedNeighbour, ObservedRoute, ObservedRoute6 } from '../plan/observed.ts';

export type TableName = 'filter' | 'nat';

export interface ObservedInterfaces {
  readonly links: ObservedLink[];
  /** IPv4 addresses per existing link (a missing link has no entry). */
  readonly addresses: ReadonlyMap<string, ObservedAddress[]>;
  /** IPv6 addresses per existing link, from the same read (the routed ports' gateway addresses). */
  readonly addresses6: ReadonlyMap<string, ObservedAddress[]>;
}

/** What netd owns on routed instance ports besides their addresses (part of `HostOps.hostReads`). */
export interface RoutedReads {
  /** IPv4 main-table routes carrying the protocol, any device. */
  readonly routes4: ObservedRoute6[];
  /** Neighbour entries carrying the protocol, any device, both families. */
  readonly neighbours: ObservedNeighbour[];
}

/** Every `ip` read a sync makes, from ONE process (`HostOps.hostReads`). */
export interface HostReads extends RoutedReads {
  readonly interfaces: ObservedInterfaces;
  /** IPv6 main-table routes carrying the protocol, any device ([] on a kernel without IPv6). */
  readonly routes6: ObservedRoute6[];
}

/** One change on a routed instance port (`HostOps.changePorts`); addresses of either family, `protocol` ours. */
export type PortOp =
  | { readonly op: 'addr-add'; readonly interface: string; readonly address: string; readonly prefixlen: number }
  | { readonly op: 'addr-del'; readonly interface: string; readonly address: string; readonly prefixlen: number }
  | { readonly op: 'route-replace'; readonly address: string; readonly dev: string; readonly protocol: number }
  | { readonly op: 'route-del'; readonly address: string; readonly dev: string; readonly protocol: number }
  | { readonly op: 'neigh-replace'; readonly address: string; readonly dev: string; readonly lladdr: string; readonly protocol: number }
  | { readonly op: 'neigh-del'; readonly address: string; readonly dev: string };

export type AddressOp =
  | {
      readonly op: 'add';
      readonly interface: string;
      readonly address: string;
      readonly label?: string;
      /** Default 32 (public addresses); the node's own addresses keep theirs. */
      readonly prefixlen?: number;
      readonly broadcast?: string;
    }
  | { readonly op: 'del'; readonly interface: string; readonly address: string; readonly prefixlen: number };

/** A running link monitor (`HostOps.monitorLinks`). */
export interface LinkMonitor {
  /** Resolves when the monitor has ended: stopped, or died (the tool failed, was killed). */
  readonly exited: Promise<void>;
  stop(): void;
}

export interface HostOps {
  /**
   * Whether this host's kernel has IPv6 at all (false when booted with
   * `ipv6.disable=1`: no /proc/net/if_inet6, and ip6tables and `ip -6` fail).
   * One cheap probe, no process. `net.ipv6.conf.*.disable_ipv6=1` does not
   * count: IPv6 netfilter and routing still exist then.
   */
  ipv6Available(): Promise<boolean>;
  /** `iptables-save`: one table, or every table in ONE process when `table` is omitted (each spawn blocks netd's event loop for a fork of its whole heap). */
  iptablesSave(table?: TableName): Promise<string>;
  /** `iptables-restore -w --noflush`; throws ExecError with the tool's stderr on failure (kernel unchanged). */
  iptablesRestore(text: string): Promise<void>;
  /** `ip6tables-save`: one table, or every table in one process when omitted. */
  ip6tablesSave(table?: TableName): Promise<string>;
  /** `ip6tables-restore -w --noflush`; atomic per table like iptables-restore. */
  ip6tablesRestore(text: string): Promise<void>;
  /** `ebtables-save`: one table, or every table in one process when omitted. */
  ebtablesSave(table?: TableName): Promise<string>;
  /** `ebtables-restore --noflush`; atomic per table. */
  ebtablesRestore(text: string): Promise<void>;
  ipsetSave(): Promise<string>;
  /** `ipset restore`. */
  ipsetRestore(text: string): Promise<void>;

  /** Links alone (`ip -j -d link show`): a fresh look at what exists, where the addresses do not matter. */
  links(): Promise<ObservedLink[]>;
  /**
   * Every `ip` read of a sync in ONE process (`ip -j -d -batch -`, a spawn
   * from netd's heap costs more than the reads): links with their addresses
   * of both families (`addr show`), the main-table routes of both families
   * carrying route protocol `protocol` (`route show table all proto N`: no
   * family option, so both, on a kernel without IPv6 only IPv4), and the
   * neighbour entries carrying it (`neigh show proto N`). The route and
   * neighbour lines are read whether the caller will use them or not: in
   * the same process they cost the kernel's dump, no spawn.
   */
  hostReads(protocol: number): Promise<HostReads>;
  /** Every local IPv4 address (`a.b.c.d`), to find this node in the document by address. */
  allAddresses(): Promise<string[]>;
  /**
   * Adds and removes addresses in ONE `ip -batch` process (a node with 100
   * public IPs must not spawn 100 processes). Adding an address that is there,
   * or removing one that is gone, is not an error: the result is the same.
   */
  changeAddresses(ops: readonly AddressOp[]): Promise<void>;
  /** One unsolicited ARP announcing `address` on `ifname`; fire and forget (best effort). */
  gratuitousArp(ifname: string, address: string): void;
  /** `ip link add NAME [address MAC] type bridge`: a MAC given here is pinned (the kernel never replaces it). */
  createBridge(name: string, mac?: string): Promise<void>;
  /** `ip link set NAME address MAC`: sets and pins the MAC. */
  setMac(name: string, mac: string): Promise<void>;
  /** Main-table IPv4 routes through an interface ([] when it does not exist). */
  routes(ifname: string): Promise<ObservedRoute[]>;
  /**
   * Moves a route from one interface to another: `ip route replace` with the
   * new device (the kernel swaps the route with the same destination and
   * metric in one step), then deletes any copy left on the old one.
   */
  moveRoute(route: ObservedRoute, from: string, to: string): Promise<void>;
  /** `ip -6 route replace <prefix> dev <dev> proto <protocol>`: the prefix on-link on the device. */
  replaceRoute6(prefix: string, dev: string, protocol: number): Promise<void>;
  /** `ip -6 route del <prefix> dev <dev> proto <protocol>` (only a route with that protocol); one already gone is not an error. */
  deleteRoute6(prefix: string, dev: string, protocol: number): Promise<void>;
  /**
   * Routed ports' addresses, host routes and permanent neighbours in ONE `ip
   * -batch` process, in order. Converged outcomes are not errors: deleting
   * what is already gone, adding an address that is there. Any other failure
   * (no such device, ...) throws after the batch ran the rest.
   */
  changePorts(ops: readonly PortOp[]): Promise<void>;
  /** `ip link set dev NAME nomaster`. */
  setNoMaster(name: string): Promise<void>;
  setMaster(name: string, bridge: string): Promise<void>;
  setUp(name: string): Promise<void>;
  setHairpin(name: string): Promise<void>;

  /** Sysctl by dotted key (`net.ipv4.ip_forward`; an interface name's dots written as '/', as sysctl(8) does); undefined when the key does not exist. */
  readSysctl(key: string): Promise<string | undefined>;
  writeSysctl(key: string, value: string): Promise<void>;
  loadModule(name: string): Promise<void>;

  /**
   * Link events as the kernel announces them, one `ip -o monitor link` line
   * each (`3: vn_x@peer: <FLAGS> ... state UP ...`, `Deleted 3: ...`), until
   * stop(); one long-running child (netd/port-watcher.ts, ROUTED only).
   */
  monitorLinks(onLine: (line: string) => void): LinkMonitor;

  /** argv of a live process, undefined when it does not exist. */
  processArgv(pid: number): Promise<string[] | undefined>;
  /** Starts a long-running process detached from netd (it survives a netd restart); returns its pid. */
  startDaemon(argv: readonly string[], logFile: string): Promise<number>;
  kill(pid: number, signal: NodeJS.Signals): Promise<void>;
  /** Runs a short check (a daemon's configuration test, `radvd -c`): exit 0 or not, with its output; a non-zero exit does not throw. */
  runCheck(argv: readonly string[]): Promise<{ readonly ok: boolean; readonly output: string }>;

  readFile(file: string): Promise<string | undefined>;
  /** Atomic write (temp + fsync + rename), with permission bits `mode` (default 0o644: status, pid and configuration files other programs may read). */
  writeFile(file: string, content: string | Uint8Array, mode?: number): Promise<void>;
  /** A file's permission bits (`stat`, no process), undefined when it does not exist. */
  fileMode(file: string): Promise<number | undefined>;
  removeFile(file: string): Promise<void>;
  mkdirp(dir: string): Promise<void>;
  /** Names in a directory ([] when it does not exist). */
  listDir(dir: string): Promise<string[]>;
  /** Removes a file or a directory with everything in it; one already gone is not an error. */
  removeTree(target: string): Promise<void>;
  /**
   * ROUTED config drives: `genisoimage -volid <label> -joliet -rock` of
   * `files` (each at the image's root) into `<output>.tmp`, renamed over
   * `output` (a reader holding the old image keeps it), mode 0600 (user-data
   * may hold secrets). Throws ExecError.
   */
  buildIso(output: string, label: string, files: readonly string[]): Promise<void>;
}
