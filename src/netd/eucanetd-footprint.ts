/**
 * What eucanetd (Eucalyptus 4.0–4.4 EDGE) leaves on a node, found by name in
 * what the host lists — the input of `edgenet netd adopt`.
 *
 * Model (../shared/reference/eucalyptus-edge.md §1.4 d–h, §1.5, §6.3):
 * - iptables chains in filter, nat and raw named `EUCA_*` (core and hook
 *   chains, counters), `EU_<hash>` (4.0 group chains) or `sg-<hex>` (4.4 group
 *   chains), and the jumps from built-in chains into them;
 * - ipsets with the same names (`EUCA_ALLPRIVATE`, `EUCA_NCPRIVATE`,
 *   `EUCA_VERSION`, `EUCA_ALLNONEUCA`, `EU_…`, `sg-…`);
 * - ebtables chains `EUCA_EBT_*` and their hooks;
 * - the public /32s it added: the ones its `EUCA_NAT_PRE` DNATs name (pool
 *   addresses are also found by the planner, as for netd's own);
 * - its dhcpd: `$EUCALYPTUS/var/run/eucalyptus/net/euca-dhcp.pid`, accepted only
 *   when that pid's argv carries `-cf …/euca-dhcp.conf` (§1.4 c: 4.0 passes
 *   `-cf -lf -pf -tf`, 4.4's unit `dhcpd -f -cf … <bridge>` with the pid file
 *   named inside the config) — never found by process name;
 * - eucanetd itself: `$EUCALYPTUS/var/run/eucalyptus/eucanetd.pid` (§1.1).
 *
 * Rules admins put into eucanetd's `*_PREUSERHOOK`/`*_POSTUSERHOOK` chains
 * are listed separately: adopt refuses to drop them unless told to.
 *
 * Pure: the caller passes the save tools' parsed output and the files read.
 */
import type { SavedRule, SavedTables } from './netfilter/index.ts';
import { iptablesArgsLine } from './netfilter/index.ts';

/** eucanetd's names: `EUCA_*`, 4.0 `EU_*`, 4.4 group ids (`sg-` + 8 or 17 hex digits). */
export function isEucanetdName(name: string): boolean {
  return name.startsWith('EUCA_') || name.startsWith('EU_') || /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(name);
}

/** eucanetd's hook chains for the admin's own rules (§1.4 d, f). */
function isUserHookChain(name: string): boolean {
  return name.startsWith('EUCA_') && /_(PRE|POST)USERHOOK$/.test(name);
}

/** Where eucanetd keeps its pid files, from eucalyptus.conf's EUCALYPTUS (install root, default `/`). */
export interface EucanetdPaths {
  readonly eucanetdPid: string;
  readonly dhcpdPid: string;
  readonly dhcpdConf: string;
}

export function eucanetdPaths(eucalyptusRoot: string): EucanetdPaths {
  const root = eucalyptusRoot === '' ? '/' : eucalyptusRoot;
  const join = (rel: string) => `${root.replace(/\/+$/, '')}/${rel}`;
  return {
    eucanetdPid: join('var/run/eucalyptus/eucanetd.pid'),
    dhcpdPid: join('var/run/eucalyptus/net/euca-dhcp.pid'),
    dhcpdConf: join('var/run/eucalyptus/net/euca-dhcp.conf'),
  };
}

/** A table's eucanetd chains and the jumps into them from built-in chains. */
export interface EucanetdTable {
  readonly chains: readonly string[];
  readonly hooks: readonly { readonly builtin: string; readonly rule: SavedRule }[];
}

export interface LiveProcess {
  readonly pid: number;
  readonly argv: readonly string[];
}

export interface EucanetdFootprint {
  /** iptables tables by name (filter, nat, raw, mangle: whichever holds eucanetd chains). */
  readonly iptables: ReadonlyMap<string, EucanetdTable>;
  readonly ebtables: ReadonlyMap<string, EucanetdTable>;
  readonly ipsets: readonly string[];
  /** Public addresses eucanetd's DNATs name (`-d <pub>/32 -j DNAT` in EUCA_NAT_PRE). */
  readonly publicAddresses: readonly string[];
  /** Admin rules in eucanetd's user-hook chains, as `-A` lines. */
  readonly userRules: readonly string[];
  readonly dhcpd?: LiveProcess;
  readonly eucanetd?: LiveProcess;
}

function tableFootprint(saved: SavedTables, builtins: ReadonlySet<string>): Map<string, EucanetdTable> {
  const out = new Map<string, EucanetdTable>();
  for (const [name, table] of saved) {
    const chains: string[] = [];
    const hooks: { builtin: string; rule: SavedRule }[] = [];
    for (const [chain, c] of table.chains) {
      if (builtins.has(chain)) {
        for (const r of c.rules) {
          const target = jumpTarget(r.args);
          if (target !== undefined && isEucanetdName(target)) hooks.push({ builtin: chain, rule: r });
        }
      } else if (isEucanetdName(chain)) chains.push(chain);
    }
    if (chains.length > 0 || hooks.length > 0) out.set(name, { chains: chains.sort(), hooks });
  }
  return out;
}

function jumpTarget(args: readonly string[]): string | undefined {
  const at = Math.max(args.lastIndexOf('-j'), args.lastIndexOf('-g'));
  return at >= 0 ? args[at + 1] : undefined;
}

const IPTABLES_BUILTINS = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING']);
const EBTABLES_BUILTINS = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING', 'BROUTING']);

/** `-d 203.0.113.51/32 … -j DNAT` in EUCA_NAT_PRE → 203.0.113.51. */
function dnatAddresses(saved: SavedTables): string[] {
  const rules = saved.get('nat')?.chains.get('EUCA_NAT_PRE')?.rules ?? [];
  const out = new Set<string>();
  for (const r of rules) {
    if (jumpTarget(r.args) !== 'DNAT') continue;
    const d = r.args.indexOf('-d');
    const dst = d >= 0 ? r.args[d + 1] : undefined;
    const m = dst === undefined ? null : /^(\d+\.\d+\.\d+\.\d+)(?:\/32)?$/.exec(dst);
    // The metadata DNAT (169.254.169.254) is no address of the node.
    if (m && m[1] !== '169.254.169.254') out.add(m[1]!);
  }
  return [...out].sort();
}

function userRules(saved: SavedTables): string[] {
  const out: string[] = [];
  for (const [tableName, table] of saved) {
    for (const [chain, c] of table.chains) {
      if (!isUserHookChain(chain)) continue;
      for (const r of c.rules) out.push(`${tableName}: ${iptablesArgsLine(chain, r)}`);
    }
  }
  return out;
}

/** Is this argv eucanetd's dhcpd (it names eucanetd's config with `-cf`)? */
export function isEucanetdDhcpd(argv: readonly string[], paths: EucanetdPaths): boolean {
  const cf = argv.indexOf('-cf');
  return cf >= 0 && argv[cf + 1] === paths.dhcpdConf;
}

/** Is this argv eucanetd (its binary's name)? */
function isEucanetd(argv: readonly string[]): boolean {
  const exe = argv[0] ?? '';
  return exe === 'eucanetd' || exe.endsWith('/eucanetd');
}

export function findFootprint(input: {
  readonly iptables: SavedTables;
  readonly ebtables: SavedTables;
  readonly ipsets: readonly string[];
  readonly paths: EucanetdPaths;
  readonly dhcpd?: LiveProcess;
  readonly eucanetd?: LiveProcess;
}): EucanetdFootprint {
  return {
    iptables: tableFootprint(input.iptables, IPTABLES_BUILTINS),
    ebtables: tableFootprint(input.ebtables, EBTABLES_BUILTINS),
    ipsets: input.ipsets.filter(isEucanetdName).sort(),
    publicAddresses: dnatAddresses(input.iptables),
    userRules: userRules(input.iptables),
    ...(input.dhcpd && isEucanetdDhcpd(input.dhcpd.argv, input.paths) ? { dhcpd: input.dhcpd } : {}),
    ...(input.eucanetd && isEucanetd(input.eucanetd.argv) ? { eucanetd: input.eucanetd } : {}),
  };
}
