/**
 * ebtables: writer of `ebtables-restore --noflush` text and parser of
 * `ebtables-save` output (nft backend, ebtables 1.8.9).
 *
 * Restore text semantics, verified in a scratch namespace:
 * - `:CHAIN POLICY` creates or FLUSHES the chain (our chains use RETURN, so a
 *   frame that no rule decides goes back to the caller);
 * - `-X` of a chain works only in a transaction that also flushed it and
 *   every chain that referenced it; we declare it first, delete it last;
 * - ebtables-nft has no comment match: a rule's comment is written as a `#`
 *   line above it (restore ignores it) and is not in the kernel, so the parser
 *   returns comment '' (rule-args.ts `savedForm` drops it on the written side).
 *
 * Canonical form as ebtables-save prints it (bridge-rule-args.ts writes it):
 * `-p`, `-s`, `-d`, `-i`, `-o`, then extension matches (`--ip-*`, `--arp-*`),
 * then `-j`; MACs lower-case and zero-padded; `ff:ff:ff:ff:ff:ff` printed as
 * `Broadcast`; `--ip-proto` and `--arp-op` by name (`udp`, `Request`); `/32`
 * omitted on `--ip-src/dst`. The parser returns words.
 */
import type { NetfilterTable, Rule } from './rule.ts';
import { familyMismatch } from './rule.ts';
import { bridgeRuleWords } from './bridge-rule-args.ts';
import type { SavedRule, SavedTables } from './model.ts';
import { parseSaveText } from './model.ts';
import type { RestoreTextOptions } from './iptables.ts';

export type EbtablesTableName = 'filter' | 'nat';

/** Policy of every chain we create. */
export const EBTABLES_CHAIN_POLICY = 'RETURN';

const BUILTIN = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING', 'BROUTING']);

/** One `-A` line of a typed bridge rule. */
export function ebtablesRuleLine(chain: string, rule: Rule): string {
  if (rule.family !== 'bridge') throw familyMismatch(`ebtables-restore text cannot hold the ${rule.family} rule in chain ${chain}`);
  return `-A ${chain} ${bridgeRuleWords(rule).join(' ')}`;
}

/** One `-A` line of a rule known only by its words (a rule read back from the kernel). */
export function ebtablesArgsLine(chain: string, rule: SavedRule): string {
  return ['-A', chain, ...rule.args].join(' ');
}

export function ebtablesRestoreText(table: EbtablesTableName, t: NetfilterTable, opts: RestoreTextOptions & { comments?: boolean } = {}): string {
  const wanted = opts.chains === undefined ? undefined : new Set(opts.chains);
  const chains = t.chains.filter((c) => wanted === undefined || wanted.has(c.name));
  const deletions = opts.deleteChains ?? [];
  const comments = opts.comments ?? true;
  const lines: string[] = [`*${table}`];
  for (const c of chains) lines.push(`:${c.name} ${EBTABLES_CHAIN_POLICY}`);
  for (const name of deletions) lines.push(`:${name} ${EBTABLES_CHAIN_POLICY}`);
  for (const c of chains) {
    for (const r of c.rules) {
      if (comments && r.comment !== '') lines.push(`# ${r.comment.replace(/\n/g, ' ')}`);
      lines.push(ebtablesRuleLine(c.name, r));
    }
  }
  for (const name of deletions) lines.push(`-X ${name}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Parses `ebtables-save` output (any tables) into the shared model. */
export function parseEbtablesSave(text: string): SavedTables {
  return parseSaveText(text, {
    builtin: BUILTIN,
    policy: (printed) => printed,
    // `ebtables-save -c` appends `-c <pkts> <bytes>`.
    trim: (args) => {
      const c = args.lastIndexOf('-c');
      return c >= 0 && c === args.length - 3 ? args.slice(0, c) : args;
    },
    rule: (args) => ({ args, comment: '' }),
  });
}
