/**
 * A rule's argument words whatever its family: the one place that dispatches
 * a typed rule to its tool's writer. The fingerprint hashes these words and
 * the planner compares ebtables rules by them, so they must stay exactly what
 * the restore writers put after `-A <chain>`.
 */
import { assertNever } from '../../shared/errors.ts';
import { bridgeMatchArgs, bridgeRuleArgs } from './bridge-rule-args.ts';
import { ipMatchArgs, ipRuleArgs } from './ip-rule-args.ts';
import type { Hook, Rule } from './rule.ts';

/** The words after `-A <chain>`, without the comment. */
export function ruleArgs(rule: Rule): string[] {
  switch (rule.family) {
    case 'ipv4':
    case 'ipv6':
      return ipRuleArgs(rule);
    case 'bridge':
      return bridgeRuleArgs(rule);
    default:
      return assertNever(rule, 'rule family');
  }
}

/** The words of a hook's matches (before its `-j <chain>`). */
export function hookMatchArgs(hook: Hook): string[] {
  return hook.family === 'bridge' ? bridgeMatchArgs(hook.matches) : ipMatchArgs(hook.family, hook.matches);
}

/** The rule as its save tool prints it back (comment apart; ebtables keeps none). */
export function savedForm(rule: Rule): { args: string[]; comment: string } {
  return { args: ruleArgs(rule), comment: rule.family === 'bridge' ? '' : rule.comment };
}
