/**
 * iptables: writer of `iptables-restore --noflush` text and parser of
 * `iptables-save` output, both on the renderer's model (Chain/Rule/Hook).
 *
 * Restore text semantics (nft backend, verified against iptables 1.8.9):
 * - `:CHAIN - [0:0]` creates the chain or, if it exists, FLUSHES it; every
 *   chain we write is therefore written in full;
 * - a chain to delete is declared (flushed) first and `-X`'d at the end of the
 *   same transaction; `-X` of a chain that is still referenced, or that was
 *   not flushed in the same batch, fails with EBUSY;
 * - chains not mentioned are left alone (that is what `--noflush` buys us).
 *
 * Canonical form: the renderer writes rules exactly as iptables-save prints
 * them (`-s/-d/-i/-o/-p` first, `-p tcp -m tcp --dport lo[:hi]`, `/32` on
 * addresses, `-m comment --comment` right before `-j`). The parser removes
 * the comment match into `Rule.comment` and maps `-p <name>` to the
 * renderer's form (see protocols.ts), so a rendered rule equals its echo.
 */
import type { Hook, NetfilterTable, Rule } from '../render/types.ts';
import type { SavedTables } from './model.ts';
import { parseSaveText } from './model.ts';
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

/** The full argument list of a rule as restore/save show it: comment match right before the target. */
export function iptablesRuleArgs(rule: Rule): string[] {
  const args = [...rule.args];
  if (rule.comment === '') return args;
  let at = args.lastIndexOf('-j');
  if (at < 0) at = args.lastIndexOf('-g');
  if (at < 0) at = args.length;
  args.splice(at, 0, '-m', 'comment', '--comment', rule.comment);
  return args;
}

/** One `-A` line (without newline). */
export function iptablesRuleLine(chain: string, rule: Rule): string {
  return ['-A', chain, ...iptablesRuleArgs(rule)].map(formatArg).join(' ');
}

/** The rule a hook puts into its built-in chain, as the parser returns it. */
export function hookRule(hook: Hook): Rule {
  return { args: [...hook.match, '-j', hook.target], comment: hook.comment };
}

export function iptablesRestoreText(table: IptablesTableName, t: NetfilterTable, opts: RestoreTextOptions = {}): string {
  const wanted = opts.chains === undefined ? undefined : new Set(opts.chains);
  const chains = t.chains.filter((c) => wanted === undefined || wanted.has(c.name));
  const deletions = opts.deleteChains ?? [];
  const lines: string[] = [`*${table}`];
  for (const c of chains) lines.push(`:${c.name} - [0:0]`);
  for (const name of deletions) lines.push(`:${name} - [0:0]`);
  for (const c of chains) for (const r of c.rules) lines.push(iptablesRuleLine(c.name, r));
  for (const name of deletions) lines.push(`-X ${name}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Splits parsed arguments into (args without the comment match, comment) and canonicalises `-p`. */
export function normalizeIptablesArgs(raw: readonly string[]): Rule {
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
      args.push('-p', canonicalProtocol(raw[i + 1] as string));
      i += 1;
      continue;
    }
    args.push(a);
  }
  return { args, comment };
}

const BUILTIN = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING']);


/** Parses `iptables-save` (with or without `-c`) into tables → chains → rules. */
export function parseIptablesSave(text: string): SavedTables {
  return parseSaveText(text, {
    builtin: BUILTIN,
    policy: (printed) => (printed === undefined || printed === '-' ? undefined : printed),
    rule: normalizeIptablesArgs,
  });
}
