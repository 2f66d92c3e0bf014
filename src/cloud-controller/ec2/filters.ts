/**
 * EC2 `Filter.N` semantics for the Describe actions (issue 15): an item is
 * kept when every filter matches it (filters are AND'd) and a filter matches
 * when any of its values matches any of the item's values for that name
 * (values are OR'd). Values are case-sensitive and take EC2's wildcards: `*`
 * any run of characters, `?` exactly one, `\` escapes the next character.
 *
 * Each action declares its filters as a table: filter name → the item's
 * values for it (a security group has one `ip-permission.cidr` value per
 * CIDR rule, so `ip-permission.cidr=10.*` keeps a group with any such rule;
 * as in EC2, two `ip-permission.*` filters need not match the same rule).
 * A name the table lacks is refused as EC2 refuses it:
 * InvalidParameterValue "The filter 'x' is invalid".
 */
import { UserError } from '../../shared/errors.ts';
import type { Ec2Filter } from './params.ts';

export type FilterValue = string | number | undefined;
export type FilterTable<T> = Readonly<Record<string, (item: T) => FilterValue | readonly FilterValue[]>>;

/** The items every filter matches; throws InvalidParameterValue for a filter `table` does not name. */
export function applyFilters<T>(items: readonly T[], filters: readonly Ec2Filter[], table: FilterTable<T>): T[] {
  const compiled = filters.map((f) => {
    if (!Object.hasOwn(table, f.name)) throw new UserError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    return { read: table[f.name]!, patterns: f.values.map(wildcard) };
  });
  return items.filter((item) =>
    compiled.every(({ read, patterns }) => {
      const raw = read(item);
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string | number => v !== undefined).map(String);
      return patterns.some((p) => values.some((v) => p.test(v)));
    }),
  );
}

/** An EC2 filter value as a regular expression (`*`, `?`, `\` escapes). */
export function wildcard(value: string): RegExp {
  let body = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) body += escapeRegExp(value[++i]!);
    else if (c === '*') body += '[\\s\\S]*';
    else if (c === '?') body += '[\\s\\S]';
    else body += escapeRegExp(c);
  }
  return new RegExp(`^${body}$`);
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}
