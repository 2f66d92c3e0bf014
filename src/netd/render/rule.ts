/**
 * Builds iptables rules in the canonical order iptables-save prints them, so a
 * rendered rule and its kernel echo compare equal: the ip header fields
 * (`-s`, `-d`, `-i`, `-o`, `-p`) first, then the extension matches in the
 * order given, then the target. The comment is kept apart (`Rule.comment`);
 * the writer places `-m comment --comment` right before `-j`.
 */
import { safeComment } from '../netfilter/tokens.ts';
import type { Rule } from './types.ts';

export interface IptRuleSpec {
  readonly src?: string;
  readonly dst?: string;
  readonly proto?: string;
  /** Extension matches, e.g. [['-m', 'set', '--match-set', 'X', 'src']]. */
  readonly matches?: readonly (readonly string[])[];
  /** Target and its options, e.g. ['-j', 'DNAT', '--to-destination', '10.0.0.5']. */
  readonly target: readonly string[];
  readonly comment: string;
}

export function iptRule(spec: IptRuleSpec): Rule {
  const args: string[] = [];
  if (spec.src !== undefined) args.push('-s', spec.src);
  if (spec.dst !== undefined) args.push('-d', spec.dst);
  if (spec.proto !== undefined) args.push('-p', spec.proto);
  for (const m of spec.matches ?? []) args.push(...m);
  args.push(...spec.target);
  return { args, comment: safeComment(spec.comment) };
}

export const setMatch = (set: string, dir: 'src' | 'dst', negate = false): string[] =>
  negate ? ['-m', 'set', '!', '--match-set', set, dir] : ['-m', 'set', '--match-set', set, dir];

/** ebtables rule: args already in ebtables-save order (see netfilter/ebtables.ts). */
export function ebRule(args: readonly string[], comment: string): Rule {
  return { args: [...args], comment: safeComment(comment) };
}
