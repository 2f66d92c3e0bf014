/**
 * The parsed form of what the kernel holds, in the same model the renderer
 * produces (`Rule` = args after `-A <chain>` + comment). The parsers in this
 * directory normalise the save tools' output so that a rendered rule and its
 * kernel echo compare equal with `rulesEqual`.
 */
import type { Rule } from '../render/types.ts';

export interface SavedChain {
  /** Built-in chains: ACCEPT/DROP; iptables user chains: undefined ('-'); ebtables user chains: ACCEPT/DROP/RETURN. */
  readonly policy: string | undefined;
  readonly builtin: boolean;
  readonly rules: Rule[];
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

export function rulesEqual(a: Rule, b: Rule): boolean {
  return a.comment === b.comment && a.args.length === b.args.length && a.args.every((x, i) => x === b.args[i]);
}

export function ruleListsEqual(a: readonly Rule[], b: readonly Rule[]): boolean {
  return a.length === b.length && a.every((r, i) => rulesEqual(r, b[i] as Rule));
}

/** Orders ipset members like the renderer: by address numerically, then prefix length. */
export function compareMembers(a: string, b: string): number {
  const [ai = '', ap = '32'] = a.split('/');
  const [bi = '', bp = '32'] = b.split('/');
  const an = ipNumber(ai);
  const bn = ipNumber(bi);
  if (an !== bn) return an - bn;
  return Number(ap) - Number(bp);
}

function ipNumber(text: string): number {
  let v = 0;
  for (const part of text.split('.')) v = v * 256 + (Number(part) || 0);
  return v;
}

/** Sorts and de-duplicates members in `compareMembers` order, parsing each member once. */
export function sortMembers(members: Iterable<string>): string[] {
  const keyed = [...new Set(members)].map((m) => {
    const [ip = '', len = '32'] = m.split('/');
    return { m, ip: ipNumber(ip), len: Number(len) };
  });
  keyed.sort((a, b) => a.ip - b.ip || a.len - b.len);
  return keyed.map((k) => k.m);
}
