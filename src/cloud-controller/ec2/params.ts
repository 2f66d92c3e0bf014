/**
 * Reading an action's EC2 Query parameters (issue 15). A request's parameters
 * arrive flat and case-sensitive (`GroupId.2`, `IpPermissions.1.IpRanges.3.CidrIp`,
 * `Filter.1.Value.2`); lists are 1-based indexes, in any order and with gaps
 * allowed (EC2 orders by index). These helpers turn them into values and
 * lists; what a value means is the services' business. (Which names an
 * action takes at all is query.ts's matcher, run by the server first.)
 *
 * Errors are EC2's: a missing required parameter is MissingParameter, two
 * that exclude each other InvalidParameterCombination, a value that is not
 * the type EC2 declares (integer, boolean) InvalidParameterValue.
 */
import { UserError } from '../../shared/errors.ts';

export type Params = ReadonlyMap<string, string>;

export function requireParam(params: Params, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw missing(name);
  return value;
}

export function missing(name: string): UserError {
  return new UserError('MissingParameter', `The request must contain the parameter ${name}`);
}

/** At most one of `names` (else InvalidParameterCombination); the one given, if any. */
export function oneOf(params: Params, names: readonly string[]): { name: string; value: string } | undefined {
  const given = names.filter((n) => params.has(n));
  if (given.length > 1) throw new UserError('InvalidParameterCombination', `The parameters ${given.join(' and ')} cannot be used together`);
  const name = given[0];
  return name === undefined ? undefined : { name, value: params.get(name)! };
}

/** Exactly one of `names`. */
export function requireOneOf(params: Params, names: readonly string[]): { name: string; value: string } {
  const one = oneOf(params, names);
  if (one === undefined) throw new UserError('MissingParameter', `The request must contain one of the parameters ${names.join(', ')}`);
  return one;
}

/**
 * The 1-based entries under `prefix`: `prefix.N.rest=value` gives, for each
 * N in index order, a map rest → value (`prefix.N=value` has rest '').
 */
export function members(params: Params, prefix: string): Params[] {
  const byIndex = new Map<number, Map<string, string>>();
  const head = `${prefix}.`;
  for (const [name, value] of params) {
    if (!name.startsWith(head)) continue;
    const m = /^([1-9][0-9]*)(?:\.(.+))?$/.exec(name.slice(head.length));
    if (m === null) continue;
    const index = Number(m[1]);
    let entry = byIndex.get(index);
    if (entry === undefined) byIndex.set(index, (entry = new Map()));
    entry.set(m[2] ?? '', value);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, entry]) => entry);
}

/** A list parameter `prefix.N` (`GroupId.1`, `GroupId.2`, …) in index order. */
export function listParam(params: Params, prefix: string): string[] {
  return members(params, prefix).flatMap((entry) => (entry.has('') ? [entry.get('')!] : []));
}

/** An EC2 Integer. */
export function integerParam(params: Params, name: string): number | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^-?\d{1,10}$/.test(text)) throw new UserError('InvalidParameterValue', `Invalid value '${value}' for ${name}: an integer is expected`);
  return Number(text);
}

/** An EC2 Boolean (`true`/`false`, as botocore sends it). */
export function booleanParam(params: Params, name: string): boolean | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new UserError('InvalidParameterValue', `Invalid value '${value}' for ${name}: true or false is expected`);
}

/** One `Filter.N`: a name and the values any of which may match. */
export interface Ec2Filter {
  readonly name: string;
  readonly values: readonly string[];
}

/** `Filter.N.Name` with `Filter.N.Value.M`, in index order. */
export function filtersOf(params: Params): Ec2Filter[] {
  return members(params, 'Filter').map((entry, i) => {
    const name = entry.get('Name');
    if (name === undefined || name === '') throw missing(`Filter.${i + 1}.Name`);
    return { name, values: listParam(entry, 'Value') };
  });
}

/** The parameters of every Describe that takes filters. */
export const FILTER_PARAMS = ['Filter.N.Name', 'Filter.N.Value.N'] as const;
