/**
 * iptables and ip6tables: writer of `iptables-restore --noflush` /
 * `ip6tables-restore --noflush` text from typed rules (rule.ts) and parser of
 * `iptables-save` output into words.
 *
 * Restore text semantics (nft backend, verified against iptables 1.8.9):
 * - `:CHAIN - [0:0]` creates the chain or, if it exists, FLUSHES it; every
 *   chain we write is therefore written in full;
 * - a chain to delete is declared (flushed) first and `-X`'d at the end of the
 *   same transaction; `-X` of a chain that is still referenced, or that was
 *   not flushed in the same batch, fails with EBUSY;
 * - chains not mentioned are left alone (that is what `--noflush` buys us).
 *
 * One writer for both families: the restore text of a family refuses a rule of
 * another (RULE_FAMILY_MISMATCH); the words come from ip-rule-args.ts in the
 * order iptables-save prints them, `-m comment --comment` right before the
 * target. The parser removes the comment match into `comment` and maps `-p
 * <name>` to the writer's form (see protocols.ts), so a written rule's words
 * equal its echo.
 */
import type { IpFamily, IpRule, NetfilterTable, Rule } from './rule.ts';
import type { SavedRule, SavedTables } from './model.ts';
import { parseSaveText } from './model.ts';
import { familyMismatch } from './rule.ts';
import { pushIpRuleWords } from './ip-rule-args.ts';
import { canonicalProtocol } from './protocols.ts';
import { quoteArg } from './tokens.ts';

export type IptablesTableName = 'filter' | 'nat';

export interface RestoreTextOptions {
  /** Only these chains are written (default: every chain of the table). */
  readonly chains?: readonly string[];
  /** Chains to delete: flushed and `-X`'d after the writes, in the same transaction. */
  readonly deleteChains?: readonly string[];
}

const PLAIN_ARG = /^[A-Za-z0-9_.:/,+!=@%-]+$/;

function formatArg(arg: string): string {
  return PLAIN_ARG.test(arg) ? arg : quoteArg(arg);
}

const COMMENT = (comment: string): string[] => (comment === '' ? [] : ['-m', 'comment', '--comment', comment]);

/** The full argument list of a rule as restore/save show it: comment match right before the target. */
export function iptablesRuleArgs(rule: IpRule): string[] {
  const out: string[] = [];
  pushIpRuleWords(out, rule, rule.comment === '' ? undefined : COMMENT(rule.comment));
  return out;
}

/** One `-A` line (without newline) of a typed rule of either IP family. */
export function iptablesRuleLine(chain: string, rule: Rule): string {
  if (rule.family === 'bridge') throw familyMismatch('a bridge (ebtables) rule cannot be written as an iptables rule');
  let line = `-A ${formatArg(chain)}`;
  for (const arg of iptablesRuleArgs(rule)) line += ` ${formatArg(arg)}`;
  return line;
}

/** One `-A` line of a rule known only by its words (a rule read back from the kernel). */
export function iptablesArgsLine(chain: string, rule: SavedRule): string {
  const args = [...rule.args];
  if (rule.comment !== '') {
    let at = args.lastIndexOf('-j');
    if (at < 0) at = args.lastIndexOf('-g');
    if (at < 0) at = args.length;
    args.splice(at, 0, ...COMMENT(rule.comment));
  }
  return ['-A', chain, ...args].map(formatArg).join(' ');
}

const TOOL: Record<IpFamily, string> = { ipv4: 'iptables-restore', ipv6: 'ip6tables-restore' };

function checkedLine(family: IpFamily, chain: string, rule: Rule): string {
  if (rule.family !== family) throw familyMismatch(`${TOOL[family]} text cannot hold the ${rule.family} rule in chain ${chain}`);
  return iptablesRuleLine(chain, rule);
}

/** Restore text of one table for the tool of `family` (iptables-restore or ip6tables-restore). */
export function ipRestoreText(family: IpFamily, table: IptablesTableName, t: NetfilterTable, opts: RestoreTextOptions = {}): string {
  const wanted = opts.chains === undefined ? undefined : new Set(opts.chains);
  const chains = t.chains.filter((c) => wanted === undefined || wanted.has(c.name));
  const deletions = opts.deleteChains ?? [];
  const lines: string[] = [`*${table}`];
  for (const c of chains) lines.push(`:${c.name} - [0:0]`);
  for (const name of deletions) lines.push(`:${name} - [0:0]`);
  for (const c of chains) for (const r of c.rules) lines.push(checkedLine(family, c.name, r));
  for (const name of deletions) lines.push(`-X ${name}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** `iptables-restore --noflush` text: ipv4 rules only. */
export function iptablesRestoreText(table: IptablesTableName, t: NetfilterTable, opts: RestoreTextOptions = {}): string {
  return ipRestoreText('ipv4', table, t, opts);
}

/** `ip6tables-restore --noflush` text: ipv6 rules only. */
export function ip6tablesRestoreText(table: IptablesTableName, t: NetfilterTable, opts: RestoreTextOptions = {}): string {
  return ipRestoreText('ipv6', table, t, opts);
}

/** Splits parsed arguments into (args without the comment match, comment) and canonicalises `-p` (in the family's spelling). */
export function normalizeIptablesArgs(raw: readonly string[], family: IpFamily = 'ipv4'): SavedRule {
  const args: string[] = [];
  let comment = '';
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i] as string;
    if (a === '-m' && raw[i + 1] === 'comment' && raw[i + 2] === '--comment' && i + 3 < raw.length) {
      comment = raw[i + 3] as string;
      i += 3;
      continue;
    }
    if ((a === '-p' || a === '--protocol') && i + 1 < raw.length) {
      args.push('-p', canonicalProtocol(raw[i + 1] as string, family));
      i += 1;
      continue;
    }
    args.push(a);
  }
  return { args, comment };
}

const BUILTIN = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING']);

/**
 * Parses `iptables-save` or (family `ipv6`) `ip6tables-save` output, with or
 * without `-c`, into tables → chains → rules. The two differ only in the
 * protocol spelling (`-p ipv6-icmp`); an `nd-target` match comes back as
 * `-m u32 --u32 "0x30=…"`, which the writer already writes.
 */
export function parseIptablesSave(text: string, family: IpFamily = 'ipv4'): SavedTables {
  return parseSaveText(text, {
    builtin: BUILTIN,
    policy: (printed) => (printed === undefined || printed === '-' ? undefined : printed),
    rule: (args) => normalizeIptablesArgs(args, family),
  });
}
