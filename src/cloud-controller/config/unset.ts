/**
 * `""` and `null` as "unset" (eucalyptus-edge.md §6.2): Eucalyptus's Groovy
 * validators skip a value that is `""` (Groovy truth) and explode falls back to
 * the default, and Jackson maps `null` to an unset field, so a document with
 * `"MacPrefix": ""` or `"Subnet": null` — the 2017 install guide's template
 * ships `""` values — was accepted as if the key were absent. edgenet does the
 * same and says so with a VALUE_UNSET warning per key.
 *
 * Model: a pre-pass over the parsed document that removes every object key
 * whose value is `""` or `null`, at any depth (top level, clusters, subnets).
 * List entries are kept: Eucalyptus parsed `[""]` as a list holding an invalid
 * entry, and so does the schema. Keys are deleted, never list entries, so every
 * path of the later passes still names the same place in the original text.
 * Invariants: pure (the input is never mutated; untouched subtrees are shared).
 */
import type { Diagnostic } from '../../shared/diagnostics.ts';
import { joinPath } from '../../shared/diagnostics.ts';
import { diag } from './codes.ts';

export interface Unset {
  /** The document without the unset keys. */
  readonly doc: unknown;
  readonly diagnostics: Diagnostic[];
}

export function dropUnsetValues(doc: unknown): Unset {
  const diagnostics: Diagnostic[] = [];
  return { doc: strip(doc, '', diagnostics, 0), diagnostics };
}

/**
 * The property's deepest key is a few levels down (Clusters[i].Subnet.Gateway);
 * below this depth nothing is a property key, so the pass stops there and
 * leaves hostile nesting (100,000 levels) to the schema pass, which refuses it
 * with a diagnostic instead of this recursion overflowing the stack.
 */
const MAX_DEPTH = 16;

function strip(value: unknown, path: string, out: Diagnostic[], depth: number): unknown {
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((v, i) => {
      const s = strip(v, joinPath(path, i), out, depth + 1);
      if (s !== v) changed = true;
      return s;
    });
    return changed ? items : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  let changed = false;
  const kept: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const at = joinPath(path, key);
    if (v === '' || v === null) {
      changed = true;
      out.push(diag('VALUE_UNSET', at, `${v === null ? 'null' : 'An empty string'} is treated as unset, as Eucalyptus did: the key's default applies (omit the key instead)`));
      continue;
    }
    const s = strip(v, at, out, depth + 1);
    if (s !== v) changed = true;
    kept[key] = s;
  }
  return changed ? kept : value;
}
