/**
 * FakeHost: an in-memory kernel implementing netd's HostOps for unit tests.
 *
 * It interprets the same restore text the real tools receive (`*table`,
 * `:CHAIN`, `-A/-I/-D/-F/-X`, `COMMIT`; ipset `create/flush/add/del/swap/
 * destroy`) with the real tools' rules that matter to netd: a restore
 * transaction is all-or-nothing per table; a jump to a missing chain, a rule
 * on a missing chain, a `-X` of a chain still referenced or not empty, and a
 * set match on a missing set fail the whole transaction; a set referenced by a
 * rule cannot be destroyed. iptables and ip6tables are separate tables; a set
 * has a family (`inet`, `inet6`): an iptables rule cannot match an inet6 set
 * nor an ip6tables rule an inet one, and a member of the other family is
 * refused. IPv6 routes (`routes6List`) carry a protocol number; a route needs its
 * device to exist and be up. A host built with `ipv6: false` is a kernel
 * booted with ipv6.disable=1: `ipv6Available()` answers false and every IPv6
 * command (ip6tables-save/-restore, `ip -6 route`) fails as it would there and
 * is listed in `ipv6Commands`. It prints `*-save` text that the shared parsers
 * read back, counts every write and can be told to fail the next call.
 *
 * Also: small builders of GNI documents for netd tests (`testGni`, `inst`, `group`).
 */
import type { AddressOp, HostOps, HostReads, LinkMonitor, PortOp, TableName } from '../../src/netd/apply/host.ts';
import type { ObservedAddress, ObservedLink, ObservedRoute, ObservedRoute6 } from '../../src/netd/plan/observed.ts';
import { splitArgs, quoteArg } from '../../src/netd/netfilter/index.ts';
import { normalizeIptablesArgs } from '../../src/netd/netfilter/iptables.ts';
import { ExecError } from '../../src/shared/errors.ts';
import type { GniDocument, GniInstance, GniRule, GniSecurityGroup } from '../../src/shared/gni/model.ts';
import { serializeGni } from '../../src/shared/gni/codec.ts';
import { gniVersion } from '../../src/shared/gni/version.ts';
import { clusterIpv6Extension, configurationIpv6Extension, instanceIpv6Extension } from '../../src/shared/gni/ipv6.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../../src/shared/ip.ts';

interface FakeChain {
  policy: string;
  rules: string[][];
}
type FakeTable = Map<string, FakeChain>;
type Tool = 'iptables' | 'ip6tables' | 'ebtables';
type SetFamily = 'inet' | 'inet6';

const BUILTINS: Record<Tool, Record<TableName, string[]>> = {
  iptables: { filter: ['INPUT', 'FORWARD', 'OUTPUT'], nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] },
  ip6tables: { filter: ['INPUT', 'FORWARD', 'OUTPUT'], nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] },
  ebtables: { filter: ['INPUT', 'FORWARD', 'OUTPUT'], nat: ['PREROUTING', 'OUTPUT', 'POSTROUTING'] },
};
const STANDARD_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'CONTINUE', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK', 'REJECT', 'LOG', 'arpreply', 'mark', 'redirect', 'dnat', 'snat']);

function newTable(tool: Tool, name: TableName): FakeTable {
  const t: FakeTable = new Map();
  for (const b of BUILTINS[tool][name]) t.set(b, { policy: 'ACCEPT', rules: [] });
  return t;
}

function cloneTable(t: FakeTable): FakeTable {
  const c: FakeTable = new Map();
  for (const [k, v] of t) c.set(k, { policy: v.policy, rules: v.rules.map((r) => [...r]) });
  return c;
}

function target(rule: readonly string[]): string | undefined {
  for (let i = rule.length - 2; i >= 0; i--) if (rule[i] === '-j' || rule[i] === '-g') return rule[i + 1];
  return undefined;
}

function setsOf(rule: readonly string[]): string[] {
  const out: string[] = [];
  rule.forEach((a, i) => {
    if (a === '--match-set' && rule[i + 1]) out.push(rule[i + 1] as string);
  });
  return out;
}

function fmt(a: string): string {
  return /^[A-Za-z0-9_.:/,+!=@%-]+$/.test(a) ? a : quoteArg(a);
}

export interface FakeHostOptions {
  /** Interfaces that exist at start (besides lo). */
  readonly links?: readonly { name: string; up?: boolean; master?: string; isBridge?: boolean; mac?: string; hairpin?: boolean; macPinned?: boolean }[];
  readonly addresses?: Readonly<Record<string, readonly ObservedAddress[]>>;
  /** IPv6 addresses per link (a kernel link-local, a gateway left by another run). */
  readonly addresses6?: Readonly<Record<string, readonly ObservedAddress[]>>;
  /** Main-table routes per device (the node's network). */
  readonly routes?: Readonly<Record<string, readonly ObservedRoute[]>>;
  readonly sysctls?: Readonly<Record<string, string>>;
  /** false: a kernel without IPv6 (ipv6.disable=1). Default true. */
  readonly ipv6?: boolean;
}

/** The link of a per-interface sysctl key (`net.ipv4.conf.<if>.<name>`, dots of the name as '/'); undefined for all, default, lo and every other key. */
function confInterface(key: string): string | undefined {
  const parts = key.split('.');
  if (parts.length < 5 || parts[0] !== 'net' || (parts[1] !== 'ipv4' && parts[1] !== 'ipv6') || parts[2] !== 'conf') return undefined;
  const ifname = parts[3]!.replaceAll('/', '.');
  return ifname === 'all' || ifname === 'default' || ifname === 'lo' ? undefined : ifname;
}

/** Signals a daemon takes as "re-read your configuration" rather than "exit". */
const RELOAD_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGHUP', 'SIGUSR1', 'SIGUSR2']);

export type FakeOp = 'hostReads' | 'ip6tablesSave' | 'iptablesRestore' | 'ip6tablesRestore' | 'ebtablesRestore' | 'ipsetRestore' | 'changeAddresses' | 'startDaemon' | 'route6' | 'buildIso' | 'changePorts';

/** A neighbour entry of the fake kernel (ROUTED ports). */
export interface FakeNeighbour {
  readonly dst: string;
  readonly dev: string;
  readonly lladdr: string;
  readonly permanent: boolean;
  /** NDA_PROTOCOL; 0 = none (learnt by the kernel or added by someone else). */
  readonly proto: number;
}

export class FakeHost implements HostOps {
  readonly iptables: Record<TableName, FakeTable> = { filter: newTable('iptables', 'filter'), nat: newTable('iptables', 'nat') };
  readonly ip6tables: Record<TableName, FakeTable> = { filter: newTable('ip6tables', 'filter'), nat: newTable('ip6tables', 'nat') };
  readonly ebtables: Record<TableName, FakeTable> = { filter: newTable('ebtables', 'filter'), nat: newTable('ebtables', 'nat') };
  readonly ipsets = new Map<string, { type: string; family: SetFamily; members: Set<string> }>();
  /** IPv6 main-table routes with their protocol number. */
  readonly routes6List: (ObservedRoute6 & { proto: number })[] = [];
  readonly linkMap = new Map<string, ObservedLink>();
  readonly addrs = new Map<string, ObservedAddress[]>();
  /** IPv6 addresses per link. */
  readonly addrs6 = new Map<string, ObservedAddress[]>();
  /** IPv4 main-table host routes with a protocol (the routed ports'; the node's network is `routeMap`). */
  readonly routes4List: (ObservedRoute6 & { proto: number })[] = [];
  readonly neighbours: FakeNeighbour[] = [];
  /** Main-table routes per device. */
  readonly routeMap = new Map<string, ObservedRoute[]>();
  readonly sysctls = new Map<string, string>();
  readonly files = new Map<string, string>();
  readonly processes = new Map<number, string[]>();
  /** Every write, in order: the operation and its input. */
  readonly writes: { op: string; input: string }[] = [];
  /** Whether the kernel has IPv6 (`ipv6Available()`); false makes every IPv6 command fail. */
  ipv6: boolean;
  /** Every IPv6 command run (reads included), so a test can assert none ran. */
  readonly ipv6Commands: string[] = [];
  /** How many times `ipv6Available()` was asked. */
  ipv6Probes = 0;
  /** How many `hostReads` (one `ip` process each on the real host) were made. */
  hostReadCalls = 0;
  private nextPid = 4000;
  private failures: { op: FakeOp; stderr: string }[] = [];

  constructor(options: FakeHostOptions = {}) {
    for (const l of options.links ?? []) {
      this.linkMap.set(l.name, { name: l.name, up: l.up ?? true, isBridge: l.isBridge ?? false, ...(l.master ? { master: l.master } : {}), ...(l.mac ? { mac: l.mac } : {}), ...(l.hairpin !== undefined ? { hairpin: l.hairpin } : {}), ...(l.macPinned !== undefined ? { macPinned: l.macPinned } : {}) });
    }
    for (const [k, v] of Object.entries(options.routes ?? {})) this.routeMap.set(k, [...v]);
    for (const [k, v] of Object.entries(options.addresses ?? {})) this.addrs.set(k, [...v]);
    for (const [k, v] of Object.entries(options.addresses6 ?? {})) this.addrs6.set(k, [...v]);
    for (const [k, v] of Object.entries(options.sysctls ?? {})) this.sysctls.set(k, v);
    this.ipv6 = options.ipv6 ?? true;
  }

  async ipv6Available() {
    this.ipv6Probes++;
    return this.ipv6;
  }

  /** Lists an IPv6 command; on a kernel without IPv6 it fails the way the real tool does. */
  private ipv6Command(argv: string[]): void {
    this.ipv6Commands.push(argv.join(' '));
    if (this.ipv6) return;
    const stderr = argv[0] === 'ip'
      ? 'RTNETLINK answers: Address family not supported by protocol'
      : `${argv[0]}: can't initialize ip6tables table \`filter': Address family not supported by protocol`;
    throw new ExecError(argv, argv[0] === 'ip' ? 2 : 1, stderr);
  }

  /** The next call of `op` fails with this stderr and changes nothing. */
  failNext(op: FakeOp, stderr = 'injected failure\nError occurred at line: 2'): void {
    this.failures.push({ op, stderr });
  }

  private checkFail(op: FakeOp, argv: string[]): void {
    const i = this.failures.findIndex((f) => f.op === op);
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw new ExecError(argv, 1, f!.stderr);
    }
  }

  private record(op: string, input: string): void {
    this.writes.push({ op, input });
  }

  /** Kills a process as if it crashed. */
  crash(pid: number): void {
    this.processes.delete(pid);
  }

  // ---- netfilter -------------------------------------------------------
  private tablesOf(tool: Tool): Record<TableName, FakeTable> {
    return tool === 'iptables' ? this.iptables : tool === 'ip6tables' ? this.ip6tables : this.ebtables;
  }

  private save(tool: Tool, name: TableName): string {
    const t = this.tablesOf(tool)[name];
    const lines = [`# Generated by fake ${tool}-save`, `*${name}`];
    for (const [c, v] of t) lines.push(tool !== 'ebtables' ? `:${c} ${BUILTINS[tool][name].includes(c) ? v.policy : '-'} [0:0]` : `:${c} ${v.policy}`);
    for (const [c, v] of t) for (const r of v.rules) lines.push(['-A', c, ...r].map(fmt).join(' '));
    lines.push('COMMIT', '');
    return lines.join('\n');
  }

  private sameSpec(tool: Tool, a: readonly string[], b: readonly string[]): boolean {
    if (tool === 'ebtables') return a.join(' ') === b.join(' ');
    const family = tool === 'ip6tables' ? 'ipv6' : 'ipv4';
    const x = normalizeIptablesArgs(a, family);
    const y = normalizeIptablesArgs(b, family);
    return x.comment === y.comment && x.args.join('\u0001') === y.args.join('\u0001');
  }

  private restore(tool: Tool, text: string): void {
    const tables = this.tablesOf(tool);
    const staged = new Map<TableName, FakeTable>();
    let cur: FakeTable | undefined;
    const lines = text.split('\n');
    const fail = (n: number, msg: string): never => {
      throw new ExecError([`${tool}-restore`, '--noflush'], tool === 'ebtables' ? 2 : 1, `${tool}-restore: ${msg}\nError occurred at line: ${n}`);
    };
    for (let n = 1; n <= lines.length; n++) {
      const line = (lines[n - 1] as string).trim();
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('*')) {
        const name = line.slice(1) as TableName;
        if (name !== 'filter' && name !== 'nat') fail(n, `unknown table ${name}`);
        cur = cloneTable(tables[name]);
        staged.set(name, cur);
        continue;
      }
      if (cur === undefined) return fail(n, 'no table');
      if (line === 'COMMIT') {
        this.validate(tool, cur, n, fail);
        continue;
      }
      if (line.startsWith(':')) {
        const [name = '', policy = 'RETURN'] = line.slice(1).split(/\s+/);
        const existing = cur.get(name);
        if (existing) existing.rules = []; // declaring flushes (noflush mode)
        else cur.set(name, { policy: tool === 'ebtables' ? policy : '-', rules: [] });
        continue;
      }
      const args = splitArgs(line);
      const op = args[0];
      const chainName = args[1] ?? '';
      const chain = cur.get(chainName);
      if (!chain) return fail(n, `chain ${chainName} does not exist`);
      if (op === '-A') chain.rules.push(args.slice(2));
      else if (op === '-I') {
        const pos = Number(args[2]);
        chain.rules.splice(Math.max(0, pos - 1), 0, args.slice(3));
      } else if (op === '-D') {
        const spec = args.slice(2);
        const i = chain.rules.findIndex((r) => this.sameSpec(tool, r, spec));
        if (i < 0) fail(n, 'rule to delete not found');
        chain.rules.splice(i, 1);
      } else if (op === '-F') chain.rules = [];
      else if (op === '-X') {
        if (chain.rules.length) fail(n, `chain ${chainName} not empty`);
        for (const [, c] of cur) if (c.rules.some((r) => target(r) === chainName)) fail(n, `chain ${chainName} is referenced`);
        cur.delete(chainName);
      } else fail(n, `unknown op ${op}`);
    }
    for (const [name, t] of staged) tables[name] = t;
  }

  private validate(tool: Tool, t: FakeTable, n: number, fail: (n: number, m: string) => never): void {
    for (const [, c] of t) {
      for (const r of c.rules) {
        const j = target(r);
        if (j !== undefined && !STANDARD_TARGETS.has(j) && !t.has(j)) fail(n, `jump to missing chain ${j}`);
        if (tool === 'ebtables') continue;
        for (const s of setsOf(r)) {
          const set = this.ipsets.get(s);
          if (!set) fail(n, `Set ${s} doesn't exist.`);
          // The kernel refuses a set of the other family (xt_set checks it when the rule is added).
          if (set!.family !== (tool === 'ip6tables' ? 'inet6' : 'inet')) fail(n, `The protocol family of set ${s} is ${set!.family === 'inet' ? 'IPv4' : 'IPv6'}, which is not applicable.`);
        }
      }
    }
  }

  async iptablesSave(table?: TableName) {
    return table ? this.save('iptables', table) : this.save('iptables', 'filter') + this.save('iptables', 'nat');
  }
  async iptablesRestore(text: string) {
    this.checkFail('iptablesRestore', ['iptables-restore']);
    this.restore('iptables', text);
    this.record('iptables-restore', text);
  }
  async ip6tablesSave(table?: TableName) {
    this.ipv6Command(table ? ['ip6tables-save', '-t', table] : ['ip6tables-save']);
    this.checkFail('ip6tablesSave', ['ip6tables-save']);
    return table ? this.save('ip6tables', table) : this.save('ip6tables', 'filter') + this.save('ip6tables', 'nat');
  }
  async ip6tablesRestore(text: string) {
    this.ipv6Command(['ip6tables-restore', '-w', '5', '--noflush']);
    this.checkFail('ip6tablesRestore', ['ip6tables-restore']);
    this.restore('ip6tables', text);
    this.record('ip6tables-restore', text);
  }
  async ebtablesSave(table?: TableName) {
    return table ? this.save('ebtables', table) : this.save('ebtables', 'filter') + this.save('ebtables', 'nat');
  }
  async ebtablesRestore(text: string) {
    this.checkFail('ebtablesRestore', ['ebtables-restore']);
    this.restore('ebtables', text);
    this.record('ebtables-restore', text);
  }
  async ipsetSave() {
    const lines: string[] = [];
    for (const [name, s] of this.ipsets) {
      lines.push(`create ${name} ${s.type} family ${s.family} hashsize 1024 maxelem 1048576`);
      for (const m of s.members) lines.push(`add ${name} ${m}`);
    }
    return lines.join('\n') + '\n';
  }
  private setInUse(name: string): boolean {
    for (const t of [...Object.values(this.iptables), ...Object.values(this.ip6tables)]) for (const [, c] of t) if (c.rules.some((r) => setsOf(r).includes(name))) return true;
    return false;
  }
  async ipsetRestore(text: string) {
    this.checkFail('ipsetRestore', ['ipset', 'restore']);
    this.record('ipset-restore', text);
    const lines = text.split('\n');
    for (let n = 1; n <= lines.length; n++) {
      const parts = (lines[n - 1] as string).trim().split(/\s+/).filter((p) => p !== '');
      if (parts.length === 0) continue;
      const [verb, name = '', arg] = parts;
      const fail = (msg: string): never => {
        throw new ExecError(['ipset', 'restore'], 1, `ipset v7.17: Error in line ${n}: ${msg}`);
      };
      const set = this.ipsets.get(name);
      // The kernel lists a /32 (inet) or /128 (inet6) member bare.
      const member = (m: string) => (m.endsWith('/32') && !m.includes(':') ? m.slice(0, -3) : m.endsWith('/128') ? m.slice(0, -4) : m);
      const checkFamily = (m: string) => {
        if (m.includes(':') !== (set!.family === 'inet6')) fail(`Syntax error: cannot parse ${m}: resolving to ${set!.family === 'inet' ? 'IPv4' : 'IPv6'} address failed`);
      };
      switch (verb) {
        case 'create':
          if (set && !parts.includes('-exist')) fail('set already exists');
          if (!set) {
            const at = parts.indexOf('family');
            const family: SetFamily = at >= 0 && parts[at + 1] === 'inet6' ? 'inet6' : 'inet';
            this.ipsets.set(name, { type: arg ?? 'hash:net', family, members: new Set() });
          }
          break;
        case 'flush':
          if (!set) fail(`set ${name} does not exist`);
          set!.members.clear();
          break;
        case 'add':
          if (!set) fail(`set ${name} does not exist`);
          checkFamily(arg ?? '');
          set!.members.add(member(arg ?? ''));
          break;
        case 'del':
          if (!set) fail(`set ${name} does not exist`);
          set!.members.delete(member(arg ?? ''));
          break;
        case 'swap': {
          const other = this.ipsets.get(arg ?? '');
          if (!set || !other) fail('set does not exist');
          if (set!.family !== other!.family) fail('The sets cannot be swapped: their type does not match');
          this.ipsets.set(name, other!);
          this.ipsets.set(arg ?? '', set!);
          break;
        }
        case 'destroy':
          if (!set) fail(`set ${name} does not exist`);
          if (this.setInUse(name)) fail('Set cannot be destroyed: it is in use by a kernel component');
          this.ipsets.delete(name);
          break;
        default:
          fail(`unknown command ${verb}`);
      }
    }
  }

  // ---- links, addresses, sysctls ---------------------------------------
  async links() {
    return [...this.linkMap.values()];
  }
  async allAddresses() {
    return [...this.addrs.values()].flat().map((a) => a.address);
  }
  /** One `ip -j -d -batch` (HostOps.hostReads): links with their addresses, our routes of both families and our neighbours. */
  async hostReads(protocol: number): Promise<HostReads> {
    this.hostReadCalls++;
    this.checkFail('hostReads', ['ip', '-j', '-d', '-batch', '-']);
    const addresses = new Map<string, ObservedAddress[]>();
    const addresses6 = new Map<string, ObservedAddress[]>();
    for (const name of this.linkMap.keys()) {
      addresses.set(name, [...(this.addrs.get(name) ?? [])]);
      addresses6.set(name, [...(this.addrs6.get(name) ?? [])]);
    }
    const ours = (list: readonly (ObservedRoute6 & { proto: number })[]) => list.filter((r) => r.proto === protocol).map((r) => ({ dst: r.dst, dev: r.dev }));
    return {
      interfaces: { links: [...this.linkMap.values()], addresses, addresses6 },
      routes4: ours(this.routes4List),
      // No family option in the real read: a kernel without IPv6 simply has no IPv6 routes to list.
      routes6: this.ipv6 ? ours(this.routes6List) : [],
      neighbours: this.neighbours.filter((n) => n.proto === protocol).map((n) => ({ dst: n.dst, dev: n.dev, lladdr: n.lladdr, permanent: n.permanent })),
    };
  }
  /** Test convenience: put an address on an interface as another program would. */
  async addAddress(ifname: string, address: string, label?: string) {
    const list = this.addrs.get(ifname) ?? [];
    if (!list.some((a) => a.address === address && a.prefixlen === 32)) list.push({ address, prefixlen: 32, ...(label ? { label } : {}) });
    this.addrs.set(ifname, list);
  }
  async changeAddresses(ops: readonly AddressOp[]) {
    this.checkFail('changeAddresses', ['ip', '-batch', '-']);
    for (const o of ops) if (!this.linkMap.has(o.interface)) throw new ExecError(['ip', '-batch', '-'], 1, `Cannot find device "${o.interface}"`);
    for (const o of ops) {
      if (o.op === 'add' && o.prefixlen !== undefined && o.prefixlen !== 32) {
        const list = this.addrs.get(o.interface) ?? [];
        if (!list.some((a) => a.address === o.address && a.prefixlen === o.prefixlen)) list.push({ address: o.address, prefixlen: o.prefixlen, ...(o.broadcast ? { broadcast: o.broadcast } : {}) });
        this.addrs.set(o.interface, list);
      } else if (o.op === 'add') await this.addAddress(o.interface, o.address, o.label);
      else this.addrs.set(o.interface, (this.addrs.get(o.interface) ?? []).filter((a) => !(a.address === o.address && a.prefixlen === o.prefixlen)));
    }
    this.record('ip-batch', ops.map((o) => `${o.op} ${o.address} ${o.interface}`).join('\n'));
  }
  readonly arps: string[] = [];
  gratuitousArp(ifname: string, address: string) {
    this.arps.push(`${ifname} ${address}`);
  }
  async createBridge(name: string, mac?: string) {
    this.linkMap.set(name, { name, up: false, isBridge: true, mac: mac ?? '02:00:00:00:00:01', macPinned: mac !== undefined });
    this.record('bridge-create', name);
  }
  async setMac(name: string, mac: string) {
    this.patchLink(name, { mac, macPinned: true }, 'link-mac');
  }
  async routes(ifname: string) {
    return [...(this.routeMap.get(ifname) ?? [])];
  }
  async moveRoute(route: ObservedRoute, from: string, to: string) {
    if (!this.linkMap.has(to)) throw new ExecError(['ip', 'route', 'replace'], 1, `Cannot find device "${to}"`);
    const same = (r: ObservedRoute) => r.dst === route.dst && r.metric === route.metric;
    for (const [dev, list] of this.routeMap) this.routeMap.set(dev, list.filter((r) => !same(r)));
    this.routeMap.set(to, [...(this.routeMap.get(to) ?? []), route]);
    this.record('route-move', `${route.dst} ${from} -> ${to}`);
  }
  async replaceRoute6(prefix: string, dev: string, protocol: number) {
    this.ipv6Command(['ip', '-6', 'route', 'replace', prefix, 'dev', dev, 'proto', String(protocol)]);
    this.checkFail('route6', ['ip', '-6', 'route', 'replace', prefix]);
    const link = this.linkMap.get(dev);
    if (!link) throw new ExecError(['ip', '-6', 'route', 'replace', prefix, 'dev', dev], 1, `Cannot find device "${dev}"`);
    if (!link.up) throw new ExecError(['ip', '-6', 'route', 'replace', prefix, 'dev', dev], 2, 'Error: Nexthop device is not up.');
    // replace: the route with the same destination (and metric, all 1024 here) is swapped, whatever its device or protocol.
    const i = this.routes6List.findIndex((r) => r.dst === prefix);
    if (i >= 0) this.routes6List.splice(i, 1);
    this.routes6List.push({ dst: prefix, dev, proto: protocol });
    this.record('route6-replace', `${prefix} dev ${dev} proto ${protocol}`);
  }
  async deleteRoute6(prefix: string, dev: string, protocol: number) {
    this.ipv6Command(['ip', '-6', 'route', 'del', prefix, 'dev', dev, 'proto', String(protocol)]);
    this.checkFail('route6', ['ip', '-6', 'route', 'del', prefix]);
    const i = this.routes6List.findIndex((r) => r.dst === prefix && r.dev === dev && r.proto === protocol);
    if (i >= 0) this.routes6List.splice(i, 1);
    this.record('route6-del', `${prefix} dev ${dev} proto ${protocol}`);
  }
  /**
   * One `ip -force -batch` of port changes, with the kernel's rules that matter:
   * a change on a missing device fails (a delete there is the converged result,
   * as in linux-host.ts), a route needs its device up, replace swaps the route
   * with the same destination whatever its device, IPv6 fails on a kernel without it.
   */
  async changePorts(ops: readonly PortOp[]) {
    this.checkFail('changePorts', ['ip', '-force', '-batch', '-']);
    const failures: string[] = [];
    const bare = (a: string) => a.replace(/\/(?:32|128)$/, '');
    for (const o of ops) {
      const dev = 'interface' in o ? o.interface : o.dev;
      const isDelete = o.op === 'addr-del' || o.op === 'route-del' || o.op === 'neigh-del';
      if (o.address.includes(':') && !this.ipv6) {
        failures.push(`${o.op} ${o.address}: Address family not supported by protocol`);
        continue;
      }
      const link = this.linkMap.get(dev);
      if (link === undefined) {
        if (!isDelete) failures.push(`${o.op} ${o.address}: Cannot find device "${dev}"`);
        continue;
      }
      switch (o.op) {
        case 'addr-add': {
          const map = o.address.includes(':') ? this.addrs6 : this.addrs;
          const list = map.get(dev) ?? [];
          if (!list.some((a) => a.address === o.address && a.prefixlen === o.prefixlen)) list.push({ address: o.address, prefixlen: o.prefixlen });
          map.set(dev, list);
          break;
        }
        case 'addr-del': {
          const map = o.address.includes(':') ? this.addrs6 : this.addrs;
          map.set(dev, (map.get(dev) ?? []).filter((a) => !(a.address === o.address && a.prefixlen === o.prefixlen)));
          break;
        }
        case 'route-replace': {
          if (!link.up) {
            failures.push(`route ${o.address}: Nexthop device is not up.`);
            break;
          }
          const list = o.address.includes(':') ? this.routes6List : this.routes4List;
          const i = list.findIndex((r) => bare(r.dst) === bare(o.address));
          if (i >= 0) list.splice(i, 1);
          list.push({ dst: bare(o.address), dev, proto: o.protocol });
          break;
        }
        case 'route-del': {
          const list = o.address.includes(':') ? this.routes6List : this.routes4List;
          const i = list.findIndex((r) => bare(r.dst) === bare(o.address) && r.dev === dev && r.proto === o.protocol);
          if (i >= 0) list.splice(i, 1);
          break;
        }
        case 'neigh-replace': {
          const i = this.neighbours.findIndex((n) => n.dst === o.address && n.dev === dev);
          if (i >= 0) this.neighbours.splice(i, 1);
          this.neighbours.push({ dst: o.address, dev, lladdr: o.lladdr, permanent: true, proto: o.protocol });
          break;
        }
        case 'neigh-del': {
          const i = this.neighbours.findIndex((n) => n.dst === o.address && n.dev === dev && n.permanent);
          if (i >= 0) this.neighbours.splice(i, 1);
          break;
        }
      }
    }
    this.record('ip-batch-ports', ops.map((o) => `${o.op} ${o.address} ${'interface' in o ? o.interface : o.dev}`).join('\n'));
    if (failures.length > 0) throw new ExecError(['ip', '-force', '-batch', '-'], 1, failures.join('\n'));
  }
  /** Test convenience: the VM starter creates an instance's port (its own MAC; once up, the kernel's EUI-64 link-local when IPv6 is there). */
  addPort(name: string, options: { up?: boolean; mac?: string; master?: string } = {}) {
    const mac = options.mac ?? '02:00:00:00:aa:01';
    this.linkMap.set(name, { name, up: options.up ?? false, isBridge: false, mac, ...(options.master ? { master: options.master, hairpin: false } : {}) });
    if (this.ipv6 && options.up) this.addrs6.set(name, [{ address: 'fe80::ff:fe00:aa01', prefixlen: 64 }]);
    // A kernel with IPv6 gives every new link its conf directory, IPv6 on; one without has no /proc/sys/net/ipv6.
    if (this.ipv6) this.sysctls.set(`net.ipv6.conf.${name.replaceAll('.', '/')}.disable_ipv6`, '0');
  }
  /** Test convenience: a link goes away (a VM terminated) with its addresses, routes and neighbours. */
  removeLink(name: string) {
    this.linkMap.delete(name);
    for (const key of [...this.sysctls.keys()]) if (confInterface(key) === name) this.sysctls.delete(key);
    this.addrs.delete(name);
    this.addrs6.delete(name);
    for (const list of [this.routes4List, this.routes6List]) for (let i = list.length - 1; i >= 0; i--) if (list[i]!.dev === name) list.splice(i, 1);
    for (let i = this.neighbours.length - 1; i >= 0; i--) if (this.neighbours[i]!.dev === name) this.neighbours.splice(i, 1);
  }
  async setNoMaster(name: string) {
    const l = this.linkMap.get(name);
    if (!l) throw new ExecError(['ip', 'link', 'set', name, 'nomaster'], 1, `Cannot find device "${name}"`);
    const { master: _master, hairpin: _hairpin, ...rest } = l;
    this.linkMap.set(name, rest);
    this.record('link-nomaster', name);
  }
  private patchLink(name: string, patch: Partial<ObservedLink>, op: string) {
    const l = this.linkMap.get(name);
    if (!l) throw new ExecError(['ip', 'link', 'set', name], 1, `Cannot find device "${name}"`);
    this.linkMap.set(name, { ...l, ...patch });
    this.record(op, name);
  }
  async setMaster(name: string, bridge: string) {
    this.patchLink(name, { master: bridge, hairpin: false }, 'link-master');
  }
  async setUp(name: string) {
    this.patchLink(name, { up: true }, 'link-up');
  }
  async setHairpin(name: string) {
    this.patchLink(name, { hairpin: true }, 'link-hairpin');
  }
  async readSysctl(key: string) {
    return this.sysctls.get(key);
  }
  async writeSysctl(key: string, value: string) {
    // A per-interface key exists as long as its link (/proc/sys/net/ipv{4,6}/conf/<if>/); writing one of a missing link fails as fs.writeFile does.
    const ifname = confInterface(key);
    if (ifname !== undefined && !this.linkMap.has(ifname)) {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '/proc/sys/${key.replaceAll('.', '/')}'`), { code: 'ENOENT' });
    }
    this.sysctls.set(key, value);
    this.record('sysctl', `${key}=${value}`);
  }
  async loadModule(_name: string) {}

  // ---- processes and files ---------------------------------------------
  /** Link monitors started (`monitorLinks`), live or ended; a test feeds lines with emitLink and ends one with endLinkMonitor. */
  readonly linkMonitors: { onLine: (line: string) => void; live: boolean; end: () => void }[] = [];
  monitorLinks(onLine: (line: string) => void): LinkMonitor {
    let end: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => {
      end = resolve;
    });
    const m = { onLine, live: true, end: () => undefined as void };
    m.end = () => {
      m.live = false;
      end();
    };
    this.linkMonitors.push(m);
    return { exited, stop: () => m.end() };
  }
  /** A kernel link event on every live monitor (an `ip -o monitor link` line). */
  emitLink(line: string): void {
    for (const m of this.linkMonitors) if (m.live) m.onLine(line);
  }
  /** The live monitors die (as `ip monitor` killed by someone else). */
  endLinkMonitor(): void {
    for (const m of this.linkMonitors) if (m.live) m.end();
  }

  async processArgv(pid: number) {
    return this.processes.get(pid);
  }
  async startDaemon(argv: readonly string[], _logFile: string) {
    this.checkFail('startDaemon', [...argv]);
    const pid = this.nextPid++;
    this.processes.set(pid, [...argv]);
    this.record('start', argv.join(' '));
    return pid;
  }
  async kill(pid: number, signal: NodeJS.Signals) {
    if (RELOAD_SIGNALS.has(signal)) {
      // A reload: the process stays (same pid) and re-reads its files.
      if (this.processes.has(pid)) this.record('signal', `${pid} ${signal}`);
      return;
    }
    if (this.processes.delete(pid)) this.record('kill', String(pid));
  }
  /** What a configuration check answers (`runCheck`); a test sets it to refuse. Not a write: it is not recorded. */
  checkVerdict: (argv: readonly string[]) => { ok: boolean; output: string } = () => ({ ok: true, output: '' });
  readonly checks: string[][] = [];
  async runCheck(argv: readonly string[]) {
    this.checks.push([...argv]);
    return this.checkVerdict(argv);
  }
  async readFile(file: string) {
    return this.files.get(file);
  }
  async writeFile(file: string, content: string | Uint8Array, mode = 0o644) {
    // Bytes are kept as latin1 text: one character per byte, so tests can compare them exactly.
    this.files.set(file, typeof content === 'string' ? content : Buffer.from(content).toString('latin1'));
    this.fileModes.set(file, mode);
  }
  /** Permission bits of every file written (writeFile's mode; 0o644 when not given). */
  readonly fileModes = new Map<string, number>();
  async fileMode(file: string) {
    return this.files.has(file) ? (this.fileModes.get(file) ?? 0o644) : undefined;
  }
  async removeFile(file: string) {
    this.files.delete(file);
    this.fileModes.delete(file);
  }
  async mkdirp(_dir: string) {}
  /** Directories exist implicitly: a name is listed when some file lies under it. */
  async listDir(dir: string) {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    const names = new Set<string>();
    for (const f of this.files.keys()) if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]!);
    return [...names].sort();
  }
  async removeTree(target: string) {
    for (const f of [...this.files.keys()]) if (f === target || f.startsWith(`${target}/`)) this.files.delete(f);
  }
  /** ISOs built (`buildIso`): output, label, inputs. The image is a text file naming its label and inputs. */
  readonly isos: { output: string; label: string; files: string[] }[] = [];
  async buildIso(output: string, label: string, inputs: readonly string[]) {
    this.checkFail('buildIso', [output, ...inputs]);
    this.isos.push({ output, label, files: [...inputs] });
    this.record('iso', output);
    this.files.set(output, `ISO ${label}\n${inputs.map((f) => `${f}\n${this.files.get(f) ?? ''}`).join('\n')}`);
    this.fileModes.set(output, 0o600);
  }

  // ---- inspection ------------------------------------------------------
  /** A sorted, deterministic dump of everything netd can own (convergence tests compare these). */
  dump(): string {
    const out: string[] = [];
    for (const tool of ['iptables', 'ip6tables', 'ebtables'] as const) {
      for (const name of ['filter', 'nat'] as const) {
        const t = this.tablesOf(tool)[name];
        // An empty ip6tables table is the state of every IPv4-only host: print nothing for it (the IPv4 dumps stay as they were).
        if (tool === 'ip6tables' && [...t.values()].every((c) => c.rules.length === 0) && t.size === BUILTINS[tool][name].length) continue;
        for (const c of [...t.keys()].sort()) {
          out.push(`${tool} ${name} :${c}`);
          for (const r of t.get(c)!.rules) out.push(`${tool} ${name} -A ${c} ${r.join(' ')}`);
        }
      }
    }
    for (const name of [...this.ipsets.keys()].sort()) {
      const set = this.ipsets.get(name)!;
      out.push(`ipset ${name}${set.family === 'inet6' ? ' inet6' : ''} ${[...set.members].sort().join(',')}`);
    }
    for (const r of [...this.routes6List].sort((a, b) => `${a.dst} ${a.dev}`.localeCompare(`${b.dst} ${b.dev}`))) out.push(`route6 ${r.dst} dev ${r.dev} proto ${r.proto}`);
    for (const ifname of [...this.addrs.keys()].sort()) for (const a of [...this.addrs.get(ifname)!].map((x) => `${x.address}/${x.prefixlen}`).sort()) out.push(`addr ${ifname} ${a}`);
    // The routed ports' state (ROUTED); nothing is printed on a host that has none, so earlier dumps stay as they were.
    for (const r of [...this.routes4List].sort((a, b) => `${a.dst} ${a.dev}`.localeCompare(`${b.dst} ${b.dev}`))) out.push(`route ${r.dst} dev ${r.dev} proto ${r.proto}`);
    for (const ifname of [...this.addrs6.keys()].sort()) for (const a of [...this.addrs6.get(ifname)!].map((x) => `${x.address}/${x.prefixlen}`).sort()) out.push(`addr6 ${ifname} ${a}`);
    for (const n of [...this.neighbours].sort((a, b) => `${a.dst} ${a.dev}`.localeCompare(`${b.dst} ${b.dev}`))) out.push(`neigh ${n.dst} dev ${n.dev} lladdr ${n.lladdr}${n.permanent ? ' permanent' : ''} proto ${n.proto}`);
    for (const l of [...this.linkMap.values()].sort((a, b) => a.name.localeCompare(b.name))) out.push(`link ${l.name} up=${l.up} master=${l.master ?? ''} hairpin=${l.hairpin ?? ''}${l.name.startsWith('vn_') ? ` mac=${l.mac ?? ''}` : ''}`);
    for (const k of [...this.sysctls.keys()].sort()) out.push(`sysctl ${k}=${this.sysctls.get(k)}`);
    // Only files that describe host state (the supervised processes' configuration); status, events,
    // pid files and the document itself are reports/inputs.
    for (const f of [...this.files.keys()].sort()) if (/\/netd\/[^/]+\.conf$/.test(f)) out.push(`file ${f} ${this.files.get(f)!}`);
    out.push(`processes ${[...this.processes.values()].map((a) => a[0]).sort().join(',')}`);
    return out.join('\n');
  }

  /** Number of writes so far (restores, ip calls, sysctls, process starts/kills). */
  get writeCount(): number {
    return this.writes.length;
  }
}

// ---- documents for netd tests ---------------------------------------------

export interface TestCloud {
  /** Cluster subnet, e.g. 10.10.0.0/24 as {subnet, netmask, gateway}. */
  readonly subnet?: { subnet: string; netmask: string; gateway: string };
  readonly nodes: readonly { name: string; instances: readonly string[] }[];
  readonly instances: readonly GniInstance[];
  readonly groups: readonly GniSecurityGroup[];
  readonly publicIps?: readonly string[];
  readonly clcIp?: string;
  readonly sequence?: number;
  readonly dnsServers?: readonly string[];
  readonly domain?: string;
  readonly privateIps?: readonly string[];
}

export function testGni(cloud: TestCloud): GniDocument {
  const subnet = cloud.subnet ?? { subnet: '10.10.0.0', netmask: '255.255.255.0', gateway: '10.10.0.1' };
  const body: Omit<GniDocument, 'version' | 'sequence'> = {
    configuration: {
      mode: 'EDGE',
      publicIps: [...(cloud.publicIps ?? ['198.51.100.10-198.51.100.50'])],
      enabledClcIp: cloud.clcIp ?? '10.10.0.2',
      instanceDnsDomain: cloud.domain ?? 'cloud.internal',
      instanceDnsServers: [...(cloud.dnsServers ?? ['10.10.0.2'])],
      subnets: [],
      clusters: [
        {
          name: 'cluster1',
          subnet: { name: subnet.subnet, ...subnet },
          enabledCcIp: '10.10.0.3',
          macPrefix: 'd0:0d',
          privateIps: [...(cloud.privateIps ?? ['10.10.0.10-10.10.0.200'])],
          nodes: cloud.nodes.map((n) => ({ name: n.name, instanceIds: [...n.instances] })),
        },
      ],
    },
    instances: cloud.instances,
    securityGroups: cloud.groups,
  };
  return { ...body, version: gniVersion(body), ...(cloud.sequence === undefined ? {} : { sequence: cloud.sequence }) };
}

export function testGniXml(cloud: TestCloud): string {
  return serializeGni(testGni(cloud));
}

/**
 * `cloud` made dual-stack (issue 14), as XML: the cluster's /64 (`prefix`) with name server
 * 2001:db8:10::53, the CLC's IPv6 address fd00:172:31::2, each instance's EUI-64 address.
 */
export function testDualStackGniXml(cloud: TestCloud & { readonly sequence: number }, prefix = '2001:db8:10::/64'): string {
  const base = testGni(cloud);
  const eui = (mac: string) => formatIpv6(slaacAddress(parseCidr6(prefix)!, mac)!);
  const body: Omit<GniDocument, 'version' | 'sequence'> = {
    configuration: {
      ...base.configuration,
      extensions: [configurationIpv6Extension('fd00:172:31::2')],
      clusters: base.configuration.clusters.map((c) => ({ ...c, extensions: [clusterIpv6Extension({ prefix, dnsServers: ['2001:db8:10::53'] })] })),
    },
    instances: base.instances.map((i) => ({ ...i, extensions: [instanceIpv6Extension(eui(i.macAddress!))] })),
    securityGroups: base.securityGroups,
  };
  return serializeGni({ ...body, version: gniVersion(body), sequence: cloud.sequence });
}

export function inst(id: string, n: number, groups: readonly string[], publicIp?: string): GniInstance {
  const hex = n.toString(16).padStart(2, '0');
  return {
    name: id,
    ownerId: '000000000001',
    macAddress: `d0:0d:00:00:00:${hex}`,
    privateIp: `10.10.0.${n}`,
    ...(publicIp ? { publicIp } : {}),
    securityGroups: [...groups],
  };
}

export function group(id: string, rules: readonly GniRule[] = []): GniSecurityGroup {
  return { name: id, ownerId: '000000000001', ingressRules: [...rules] };
}
