/**
 * Rule fingerprints (after Calico Felix's `cali:<hash>` comments): every
 * iptables rule and hook netd writes carries a short hash of its own content at
 * the end of its comment (`why it exists #3fa9c01b2d`). Comparing a chain in
 * the kernel with the desired one then compares two lists of hashes, which is
 * immune to how `iptables-save` re-spells matches (`--dport` → `-m tcp
 * --dport`, reordered `-s`, dropped quotes). A rule edited by someone else
 * loses or changes its hash, so its chain is rewritten on the next sync.
 *
 * The hash input is the rule's words as the writer puts them after `-A
 * <chain>` (src/netd/netfilter/rule-args.ts) plus its comment, so a typed rule
 * hashes exactly like the argv it is written as.
 *
 * ebtables has no comment match: its rules are compared by their arguments
 * after a light normalisation (`ebtables-save` on the nft backend prints the
 * arguments as they were written).
 */
import { createHash } from 'node:crypto';
import type { Chain, Hook, Rule } from '../netfilter/rule.ts';
import { hookMatchArgs, ruleArgs } from '../netfilter/rule-args.ts';
import type { ObservedRule } from './observed.ts';

/** iptables limits a comment to 256 bytes; keep room for the tag. */
const COMMENT_ROOM = 240;
const TAG = /\s#([0-9a-f]{10})$/;

function hash(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0001')).digest('hex').slice(0, 10);
}

export function ruleHash(rule: Rule): string {
  return hash(['rule', ...ruleArgs(rule), '\u0002', rule.comment]);
}

function hookHash(hook: Hook): string {
  return hash(['hook', hook.builtin, ...hookMatchArgs(hook), '\u0002', hook.target, hook.comment]);
}

function tagged(comment: string, h: string): string {
  const base = comment.length > COMMENT_ROOM ? comment.slice(0, COMMENT_ROOM) : comment;
  return `${base} #${h}`;
}

/** The chain with each rule's comment carrying its hash: what netd writes. */
export function tagChain<R extends Rule>(chain: Chain<R>): Chain<R> {
  return { name: chain.name, rules: chain.rules.map((r) => ({ ...r, comment: tagged(r.comment, ruleHash(r)) })) };
}

export function tagHook<H extends Hook>(hook: H): H {
  return { ...hook, comment: tagged(hook.comment, hookHash(hook)) };
}

/** The hash a kernel rule carries in its comment, or undefined. */
export function observedHash(rule: ObservedRule): string | undefined {
  return TAG.exec(rule.comment)?.[1];
}

/** The hash a tagged comment carries (desired side). */
export function commentHash(comment: string): string | undefined {
  return TAG.exec(comment)?.[1];
}

/** `-j X` / `-g X` target of a kernel rule's arguments (desired rules carry a typed target). */
export function ruleTarget(args: readonly string[]): string | undefined {
  for (let i = args.length - 2; i >= 0; i--) if (args[i] === '-j' || args[i] === '-g') return args[i + 1];
  return undefined;
}

const MAC_LIKE = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}(\/.*)?$/;

/** Canonical text of an ebtables rule for comparison. */
export function ebtablesKey(args: readonly string[]): string {
  return args
    .filter((a) => a !== '')
    .map((a) => {
      if (MAC_LIKE.test(a)) {
        const [mac, mask] = a.split('/');
        const norm = (mac ?? '').split(':').map((p) => p.padStart(2, '0').toLowerCase()).join(':');
        return mask === undefined ? norm : `${norm}/${mask.toLowerCase()}`;
      }
      return a;
    })
    .join(' ');
}
