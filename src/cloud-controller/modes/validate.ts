/**
 * Validation of `cloud.network.network_configuration`: JSON text (or an
 * already-parsed value) → every diagnostic, and the typed document when no
 * diagnostic is an error.
 *
 * Model: three passes, each reporting all it finds — JSON syntax
 * (config/json-position.ts; a document that does not parse stops here), then
 * keys whose value is "" or null dropped as unset with a VALUE_UNSET warning
 * (config/unset.ts: Eucalyptus's leniency; the returned value is the document
 * without them), shape
 * and syntax (config/schema.ts, ajv, over the union of every mode's keys),
 * then the checks of the mode the document declares (registry.ts; EDGE's are
 * config/semantic.ts, ROUTED's config/routed-semantic.ts, each still checking
 * the parts that passed the schema), plus a refusal of keys (top-level and
 * cluster keys) that belong to another mode. An unknown `Mode` is
 * refused by the schema and the rest is checked as the default mode's.
 * Warnings never make `ok` false.
 * Invariants: pure; codes come from config/codes.ts only; paths use the
 * property's own notation (`Clusters[0].Subnet.Gateway`, "" for the whole
 * document); diagnostics come sorted in document order (keys in the schema's
 * order, list indexes numerically), so output is stable and reads top to bottom.
 *
 * It lives in modes/ rather than config/ because it dispatches on the mode:
 * config/ holds the mode-independent pieces and never imports modes/.
 */
import type { Diagnostic, Validated } from '../../shared/diagnostics.ts';
import { hasErrors } from '../../shared/diagnostics.ts';
import type { NetworkConfiguration } from '../config/types.ts';
import { parseJson } from '../config/json-position.ts';
import { schemaDiagnostics } from '../config/schema.ts';
import { diag } from '../config/codes.ts';
import { dropUnsetValues } from '../config/unset.ts';
import type { ClcNetworkMode } from './mode.ts';
import { CLC_MODE_LIST, declaredMode } from './registry.ts';

/** A string is JSON text and is parsed first; anything else is taken as the parsed document. */
export function validateNetworkConfiguration(input: string | unknown): Validated<NetworkConfiguration> {
  let parsedDoc: unknown = input;
  if (typeof input === 'string') {
    const parsed = parseJson(input);
    if (!parsed.ok) return { ok: false, diagnostics: [parsed.diagnostic] };
    parsedDoc = parsed.value;
  }
  const { doc, diagnostics: unset } = dropUnsetValues(parsedDoc);
  const { mode } = declaredMode(doc);
  const own = isObject(doc) ? [...otherModesKeys(doc, { mode, modes: CLC_MODE_LIST }), ...mode.checks(doc)] : [];
  const diagnostics = sortByPath([...unset, ...schemaDiagnostics(doc), ...own]);
  if (hasErrors(diagnostics)) return { ok: false, diagnostics };
  // The schema and the mode's checks together guarantee the shape NetworkConfiguration describes.
  return { ok: true, value: doc as NetworkConfiguration, diagnostics };
}

/**
 * UNKNOWN_KEY for each top-level key, and each key of a `Clusters` entry,
 * that another mode defines and `mode` does not (the schema admits every
 * mode's keys, so it cannot tell). This is how one cloud runs one mode: a
 * ROUTED cluster in an EDGE property (or the reverse) is refused key by key.
 */
export function otherModesKeys(doc: Readonly<Record<string, unknown>>, options: { readonly mode: ClcNetworkMode; readonly modes: readonly ClcNetworkMode[] }): Diagnostic[] {
  const out: Diagnostic[] = [];
  const refuse = (key: string, path: string, owner: ClcNetworkMode, what: string) =>
    out.push(diag('UNKNOWN_KEY', path, `${what} "${key}" belongs to mode ${owner.name}; this document's mode is ${options.mode.name} (a cloud runs one mode: set "Mode" for the whole property)`));
  for (const key of Object.keys(doc)) {
    if (key === 'Mode' || options.mode.keys.includes(key)) continue;
    const owner = options.modes.find((m) => m.keys.includes(key));
    if (owner !== undefined) refuse(key, key, owner, 'Key');
  }
  const clusters = doc['Clusters'];
  if (!Array.isArray(clusters) || !options.mode.keys.includes('Clusters')) return out;
  clusters.forEach((c: unknown, i) => {
    if (!isObject(c)) return;
    for (const key of Object.keys(c)) {
      if (options.mode.clusterKeys.includes(key)) continue;
      const owner = options.modes.find((m) => m.clusterKeys.includes(key));
      if (owner !== undefined) refuse(key, `Clusters[${i}].${key}`, owner, 'Cluster key');
    }
  });
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One key order that is the documented order at every level (top level: Mode …
 * Subnets, ROUTED's InstanceGateway and Bgp, Clusters; cluster: Name, MacPrefix,
 * Subnet, PrivateIps, then ROUTED's Ipv4Pool, Bgp, Nodes; subnet: Name,
 * Subnet, Netmask, Gateway; gateway: Ipv4, Ipv6; Bgp: LocalAsn, RouterId,
 * Peers, Communities, Password; peer: Address, Asn). Unknown keys sort after
 * known ones, alphabetically — so do Ipv6Prefix and Ipv6DnsServers, which
 * EDGE's subnets and ROUTED's clusters share, as they always have.
 */
const KEY_ORDER = [
  'Mode', 'InstanceDnsDomain', 'InstanceDnsServers', 'Name', 'MacPrefix', 'PublicIps', 'PublicGateway', 'Subnet', 'Netmask', 'Gateway', 'PrivateIps', 'Subnets',
  'Ipv4Pool', 'InstanceGateway', 'Ipv4', 'Ipv6', 'Bgp', 'LocalAsn', 'RouterId', 'Peers', 'Address', 'Asn', 'Communities', 'Password', 'Nodes', 'Clusters',
];

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
