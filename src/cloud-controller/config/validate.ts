/**
 * Validation of `cloud.network.network_configuration`: JSON text (or an
 * already-parsed value) → every diagnostic, and the typed document when no
 * diagnostic is an error.
 *
 * Model: three passes, each reporting all it finds — JSON syntax
 * (json-position.ts; a document that does not parse stops here), shape and
 * syntax (schema.ts, ajv), relations (semantic.ts, which still checks the
 * parts that passed the schema). Warnings never make `ok` false.
 * Invariants: pure; codes come from codes.ts only; paths use the property's
 * own notation (`Clusters[0].Subnet.Gateway`, "" for the whole document);
 * diagnostics come sorted in document order (keys in the schema's order,
 * list indexes numerically), so output is stable and reads top to bottom.
 */
import type { Diagnostic, Validated } from '../../shared/diagnostics.ts';
import { hasErrors } from '../../shared/diagnostics.ts';
import type { NetworkConfiguration } from './types.ts';
import { parseJson } from './json-position.ts';
import { schemaDiagnostics } from './schema.ts';
import { semanticDiagnostics } from './semantic.ts';

/** A string is JSON text and is parsed first; anything else is taken as the parsed document. */
export function validateNetworkConfiguration(input: string | unknown): Validated<NetworkConfiguration> {
  let doc: unknown = input;
  if (typeof input === 'string') {
    const parsed = parseJson(input);
    if (!parsed.ok) return { ok: false, diagnostics: [parsed.diagnostic] };
    doc = parsed.value;
  }
  const diagnostics = sortByPath([...schemaDiagnostics(doc), ...semanticDiagnostics(doc)]);
  if (hasErrors(diagnostics)) return { ok: false, diagnostics };
  // The schema and the semantic pass together guarantee the shape NetworkConfiguration describes.
  return { ok: true, value: doc as NetworkConfiguration, diagnostics };
}

/**
 * One key order that is the documented order at every level (top level: Mode …
 * Clusters; cluster: Name, MacPrefix, Subnet, PrivateIps; subnet: Name, Subnet,
 * Netmask, Gateway). Unknown keys sort after known ones, alphabetically.
 */
const KEY_ORDER = ['Mode', 'InstanceDnsDomain', 'InstanceDnsServers', 'Name', 'MacPrefix', 'PublicIps', 'Subnet', 'Netmask', 'Gateway', 'PrivateIps', 'Subnets', 'Clusters'];

type Segment = string | number;

function segments(path: string): Segment[] {
  const out: Segment[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? ''));
  return out;
}

function compareSegment(a: Segment, b: Segment): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  const ia = KEY_ORDER.indexOf(a);
  const ib = KEY_ORDER.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia - ib;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable sort by path in document order; diagnostics on the same path keep their pass order. */
function sortByPath(diagnostics: Diagnostic[]): Diagnostic[] {
  const keyed = diagnostics.map((d) => ({ d, s: segments(d.path) }));
  keyed.sort((x, y) => {
    const n = Math.min(x.s.length, y.s.length);
    for (let i = 0; i < n; i++) {
      const c = compareSegment(x.s[i] ?? '', y.s[i] ?? '');
      if (c !== 0) return c;
    }
    return x.s.length - y.s.length;
  });
  return keyed.map((k) => k.d);
}
