/**
 * ipset: writer of `ipset restore` text and parser of `ipset save` output.
 *
 * Refill is atomic per set: members go into a temporary set `<name>-T`, which
 * is swapped with the live set and destroyed, so a rule matching the set never
 * sees it half-filled. Sets are created with `-exist` (idempotent) and fixed
 * create options, so re-creating an existing set is a no-op. `destroy` lines
 * come last; a set still referenced by an iptables rule cannot be destroyed,
 * so the applier writes destructions after the iptables transaction that
 * stopped using them.
 *
 * Kernel form: a hash:net member `a.b.c.d/32` is listed as `a.b.c.d`; the
 * renderer already writes it that way and members are sorted with
 * `compareMembers`, so rendered and saved member lists compare equal.
 */
import type { SavedIpSet } from './model.ts';
import { sortMembers } from './model.ts';
import { SaveParseError } from './model.ts';

/** An ipset's address family: `inet` (IPv4, matched by iptables) or `inet6` (IPv6, matched by ip6tables). */
export type IpSetFamily = 'inet' | 'inet6';

/** One ipset netd wants. */
export interface IpSet {
  readonly name: string;
  readonly type: 'hash:net' | 'hash:ip';
  /** Absent = `inet`. A set's family is fixed at creation: a set of the same name and the other family is destroyed and re-created. */
  readonly family?: IpSetFamily;
  /** Members as the kernel lists them: `a.b.c.d` or `a.b.c.d/n`, `v6` or `v6/n` (a /128 bare). Sorted. */
  readonly members: readonly string[];
  readonly comment: string;
}

/** Create options after the family. maxelem is a cap, not an allocation. */
const IPSET_SIZE_OPTIONS = 'hashsize 1024 maxelem 1048576';

/** The family of a set, its default applied. */
export function ipsetFamily(set: { readonly family?: IpSetFamily }): IpSetFamily {
  return set.family ?? 'inet';
}

/** The family a saved set was created with (`family inet6` in its options), `inet` when it says none. */
export function savedIpsetFamily(set: SavedIpSet): IpSetFamily {
  const at = set.options.indexOf('family');
  return at >= 0 && set.options[at + 1] === 'inet6' ? 'inet6' : 'inet';
}

/** Create options after the type: `family inet|inet6 hashsize 1024 maxelem 1048576`. */
export function ipsetCreateOptions(set: IpSet): string {
  return `family ${ipsetFamily(set)} ${IPSET_SIZE_OPTIONS}`;
}

/** Name of the temporary set used for an atomic refill (≤ 31 chars since set names are ≤ 28). */
export function ipsetTempName(name: string): string {
  return `${name}-T`;
}

export interface IpsetRestoreOptions {
  /** Sets to destroy (after all writes). */
  readonly destroy?: readonly string[];
  /** Refill through a temporary set and `swap` (default true); false = flush and add in place. */
  readonly atomic?: boolean;
}

export function ipsetRestoreText(sets: readonly IpSet[], opts: IpsetRestoreOptions = {}): string {
  const atomic = opts.atomic ?? true;
  const lines: string[] = [];
  for (const s of sets) {
    const options = ipsetCreateOptions(s);
    lines.push(`create ${s.name} ${s.type} ${options} -exist`);
    const target = atomic ? ipsetTempName(s.name) : s.name;
    if (atomic) lines.push(`create ${target} ${s.type} ${options} -exist`);
    lines.push(`flush ${target}`);
    for (const m of s.members) lines.push(`add ${target} ${m}`);
    if (atomic) lines.push(`swap ${target} ${s.name}`, `destroy ${target}`);
  }
  for (const name of opts.destroy ?? []) lines.push(`flush ${name}`, `destroy ${name}`);
  lines.push('');
  return lines.join('\n');
}

/**
 * Parses `ipset save` output (all sets) into name → set, members sorted.
 * It also replays the other verbs `ipset restore` accepts (`flush`, `swap`,
 * `destroy`, `-exist`), so the writer's own text can be checked by parsing it.
 */
export function parseIpsetSave(text: string): Map<string, SavedIpSet> {
  const sets = new Map<string, SavedIpSet>();
  const lines = text.split('\n');
  const need = (n: number, name: string | undefined): SavedIpSet => {
    const set = name === undefined ? undefined : sets.get(name);
    if (set === undefined) throw new SaveParseError(n + 1, `unknown set ${name}`);
    return set;
  };
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/\s+/).filter((p) => p !== '-exist' && p !== '-!');
    const [verb, name, arg] = parts;
    if (verb === 'create' && name !== undefined && arg !== undefined) {
      if (!sets.has(name)) sets.set(name, { name, type: arg, options: parts.slice(3), members: [] });
    } else if (verb === 'add' && arg !== undefined) {
      need(n, name).members.push(arg);
    } else if (verb === 'flush' && name !== undefined) {
      need(n, name).members.length = 0;
    } else if (verb === 'destroy' && name !== undefined) {
      sets.delete(name);
    } else if (verb === 'swap' && arg !== undefined) {
      const a = need(n, name);
      const b = need(n, arg);
      sets.set(a.name, { ...b, name: a.name });
      sets.set(b.name, { ...a, name: b.name });
    } else {
      throw new SaveParseError(n + 1, `unexpected line ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  for (const s of sets.values()) {
    const unique = sortMembers(s.members);
    s.members.length = 0;
    for (const m of unique) s.members.push(m);
  }
  return sets;
}
