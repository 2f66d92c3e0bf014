/**
 * The parsed form of what the kernel holds: a rule as words (the arguments
 * after `-A <chain>`) plus its comment. The parsers in this directory
 * normalise the save tools' output so that a written rule's words (rule-args.ts
 * `savedForm`) and its kernel echo compare equal.
 */
import { parseIp, parseIpv6 } from '../../shared/ip.ts';
import { splitArgs } from './tokens.ts';

/** One rule as a save tool prints it, without the comment match. */
export interface SavedRule {
  readonly args: readonly string[];
  /** '' when none (ebtables keeps none in the kernel). */
  readonly comment: string;
}

export interface SavedChain {
  /** Built-in chains: ACCEPT/DROP; iptables user chains: undefined ('-'); ebtables user chains: ACCEPT/DROP/RETURN. */
  readonly policy: string | undefined;
  readonly builtin: boolean;
  readonly rules: SavedRule[];
}

export interface SavedTable {
  /** Chains in the order the tool listed them. */
  readonly chains: Map<string, SavedChain>;
}

/** Keyed by table name (`filter`, `nat`, ...). */
export type SavedTables = Map<string, SavedTable>;

export interface SavedIpSet {
  readonly name: string;
  readonly type: string;
  /** Create options after the type (`family inet hashsize 1024 ...`), as printed. */
  readonly options: readonly string[];
  /** Members as the kernel lists them, sorted with `compareMembers`. */
  readonly members: string[];
}

/** Orders ipset members like the renderer: IPv4 before IPv6, by address numerically, then prefix length. */
export function compareMembers(a: string, b: string): number {
  return compareKeys(memberKey(a), memberKey(b));
}

interface MemberKey {
  readonly m: string;
  readonly v6: boolean;
  readonly ip: number | bigint;
  readonly len: number;
}

/** `addr` or `addr/len`, parsed once; text that is no address (never listed by the kernel) sorts as address 0. */
function memberKey(m: string): MemberKey {
  const slash = m.indexOf('/');
  const text = slash < 0 ? m : m.slice(0, slash);
  if (!text.includes(':')) return { m, v6: false, ip: parseIp(text) ?? 0, len: slash < 0 ? 32 : Number(m.slice(slash + 1)) };
  return { m, v6: true, ip: parseIpv6(text) ?? 0n, len: slash < 0 ? 128 : Number(m.slice(slash + 1)) };
}

function compareKeys(a: MemberKey, b: MemberKey): number {
  if (a.v6 !== b.v6) return a.v6 ? 1 : -1;
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  return a.len - b.len;
}

/** Sorts and de-duplicates members in `compareMembers` order, parsing each member once. */
export function sortMembers(members: Iterable<string>): string[] {
  return [...new Set(members)].map(memberKey).sort(compareKeys).map((k) => k.m);
}

export class SaveParseError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'SaveParseError';
  }
}

export interface SaveFormat {
  /** Built-in chain names of the tool. */
  readonly builtin: ReadonlySet<string>;
  /** Policy as printed on a `:CHAIN POLICY` line → the model's policy. */
  readonly policy: (printed: string | undefined) => string | undefined;
  /** Strips tool-specific trailers (counters) from a rule's argv. */
  readonly trim?: (args: string[]) => string[];
  /** Arguments after `-A <chain>` → the saved rule (normalised). */
  readonly rule: (args: string[]) => SavedRule;
}

/**
 * The `*table` / `:CHAIN policy` / `-A CHAIN args…` / `COMMIT` structure that
 * iptables-save and ebtables-save share; each tool supplies its own policy,
 * counter and rule normalisation through `format`.
 */
export function parseSaveText(text: string, format: SaveFormat): SavedTables {
  const tables: SavedTables = new Map();
  let current: SavedTable | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      current = { chains: new Map() };
      tables.set(line.slice(1), current);
      continue;
    }
    if (line === 'COMMIT') { current = undefined; continue; }
    if (current === undefined) throw new SaveParseError(n + 1, 'rule or chain outside a table');
    if (line.startsWith(':')) {
      const [name = '', policy] = line.slice(1).split(/\s+/);
      current.chains.set(name, { policy: format.policy(policy), builtin: format.builtin.has(name), rules: [] });
      continue;
    }
    let args = splitArgs(line);
    if (args[0]?.startsWith('[')) args = args.slice(1); // counters from `-save -c`
    if (format.trim) args = format.trim(args);
    if (args[0] !== '-A' || args.length < 2) throw new SaveParseError(n + 1, `unexpected line ${JSON.stringify(line.slice(0, 80))}`);
    const chainName = args[1] as string;
    let chain: SavedChain | undefined = current.chains.get(chainName);
    if (chain === undefined) {
      chain = { policy: undefined, builtin: format.builtin.has(chainName), rules: [] };
      current.chains.set(chainName, chain);
    }
    chain.rules.push(format.rule(args.slice(2)));
  }
  return tables;
}
