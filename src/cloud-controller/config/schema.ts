/**
 * Shape and syntax checks of the property against
 * schemas/network_configuration.schema.json (JSON Schema 2020-12, ajv).
 *
 * Model: ajv runs with allErrors and verbose; each ajv error is mapped to one
 * of our codes by its keyword and, for string formats, by the `$defs` entry
 * that failed (ipv4 → IP_INVALID, ipv6 → IPV6_INVALID, ipListEntry → IP_RANGE_INVALID, …), and its
 * JSON pointer becomes the property's own path notation (`Clusters[0].Subnet`).
 * Invariants: one diagnostic per (code, path); where a value has the wrong type
 * only TYPE_MISMATCH is reported for it. The schema is the single authority for
 * syntax: the semantic pass skips values that do not parse instead of
 * reporting them a second time.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { Diagnostic } from '../../shared/diagnostics.ts';
import { joinPath } from '../../shared/diagnostics.ts';
import { diag } from './codes.ts';
import type { ConfigCode } from './codes.ts';
import schema from '../../../schemas/network_configuration.schema.json' with { type: 'json' };
import { NETWORK_MODES } from '../../shared/gni/mode.ts';

let compiled: ValidateFunction | undefined;

/** Compiles once per process; compilation costs milliseconds, validation microseconds. */
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** Every schema problem of `value`, in document order of ajv's traversal. */
export function schemaDiagnostics(value: unknown): Diagnostic[] {
  const validate = validator();
  if (validate(value)) return [];
  // An `if` error only says which branch failed (the Mode-dependent rules: ROUTED's then, EDGE's else); that branch's own errors say what.
  const mapped = (validate.errors ?? []).filter((e) => e.keyword !== 'if').map(toDiagnostic);
  const typeMismatch = new Set(mapped.filter((d) => d.code === 'TYPE_MISMATCH').map((d) => d.path));
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of mapped) {
    if (d.code !== 'TYPE_MISMATCH' && typeMismatch.has(d.path)) continue;
    const key = `${d.code}\u0000${d.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** "/Clusters/0/Subnet" → "Clusters[0].Subnet" (all-digit segments are list indexes: no property key is numeric). */
export function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  const segments = pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return joinPath(...segments);
}

/** The `$defs` entry whose keyword failed, e.g. "#/$defs/ipv4/pattern" → "ipv4". */
function failedDef(schemaPath: string): string | undefined {
  const m = /#\/\$defs\/([^/]+)\/[^/]+$/.exec(schemaPath);
  return m?.[1];
}

const FORMAT_CODES: Record<string, ConfigCode> = {
  ipv4: 'IP_INVALID',
  ipv6: 'IPV6_INVALID',
  ipAddress: 'IP_INVALID',
  poolEntry: 'IP_RANGE_INVALID',
  ipv6Prefix: 'IPV6_PREFIX_INVALID',
  ipListEntry: 'IP_RANGE_INVALID',
  macPrefix: 'MAC_PREFIX_INVALID',
  domainName: 'DOMAIN_INVALID',
  name: 'NAME_INVALID',
};

const FORMAT_EXPECTATIONS: Record<string, string> = {
  ipv4: 'expected a dotted-quad IPv4 address such as 10.111.0.1',
  ipv6: 'expected an IPv6 address such as 2001:db8::53',
  ipAddress: 'expected an IPv4 address such as 198.51.100.53 or an IPv6 address such as 2001:db8::53',
  poolEntry: 'expected an IPv4 address, a range such as 10.50.0.10-10.50.0.200 or a CIDR such as 10.50.1.0/28',
  ipv6Prefix: 'expected an IPv6 prefix such as 2001:db8:10::/64',
  ipListEntry: 'expected an IPv4 address or a range such as 10.111.0.10-10.111.0.20',
  macPrefix: 'expected two hexadecimal bytes separated by a colon, such as d0:0d',
  domainName: 'expected a domain name such as eucalyptus.internal (labels of 1-63 letters, digits or hyphens, no leading or trailing dot, at most 253 characters)',
  name: 'expected a non-empty name of at most 255 characters without leading or trailing whitespace',
};

function toDiagnostic(e: ErrorObject): Diagnostic {
  const path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return diag('TYPE_MISMATCH', path, `Cannot use ${describe(e.data)} here: expected ${article(String(params['type']))}`);
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
      const hint = suggest(key, known);
      const where = KEY_HINTS[key];
      return diag('UNKNOWN_KEY', joinPath(path, key), `Unknown key "${key}"${hint ? `; did you mean "${hint}"?` : ''}${where !== undefined && hint === undefined ? ` (${where})` : ''} (known keys: ${known.join(', ')})`);
    }
    case 'required':
      return diag('REQUIRED', joinPath(path, String(params['missingProperty'])), `Missing required key "${String(params['missingProperty'])}"`);
    case 'dependentRequired':
      return diag(
        'REQUIRED',
        joinPath(path, String(params['missingProperty'])),
        `Missing key "${String(params['missingProperty'])}": an inline subnet needs Subnet, Netmask and Gateway (or give only a Name to refer to a top-level subnet)`,
      );
    case 'minItems':
      return diag('LIST_EMPTY', path, 'The list is empty: at least one entry is required');
    case 'maxItems':
      // The only list with a maximum (ajv inlines the $ref, so the schema path does not name the def).
      if (path.endsWith('Ipv6DnsServers')) return diag('IPV6_DNS_SERVERS_TOO_MANY', path, `Cannot list ${Array.isArray(e.data) ? e.data.length : 'so many'} IPv6 name servers: at most ${String(params['limit'])}`);
      break;
    case 'enum':
    case 'const':
      if (path === 'Mode') return diag('MODE_UNSUPPORTED', path, `Cannot use mode ${describe(e.data)}: ${SUPPORTED_MODES}`);
      break;
    case 'pattern':
    case 'minLength':
    case 'maxLength': {
      const def = failedDef(e.schemaPath);
      const code = def === undefined ? undefined : FORMAT_CODES[def];
      if (def !== undefined && code !== undefined) return diag(code, path, `Cannot use ${describe(e.data)}: ${FORMAT_EXPECTATIONS[def] ?? 'invalid value'}`);
      break;
    }
    default:
      break;
  }
  return diag('SCHEMA_VIOLATION', path, `Schema rule ${e.schemaPath} failed: ${e.message ?? 'invalid value'}`);
}

/** `only "EDGE" is supported`, or `supported: "A", "B"` once there are more modes. */
const SUPPORTED_MODES = (NETWORK_MODES.length as number) === 1 ? `only ${JSON.stringify(NETWORK_MODES[0])} is supported` : `supported: ${NETWORK_MODES.map((m) => JSON.stringify(m)).join(', ')}`;

/** Where a key that is unknown at one level belongs instead. */
const KEY_HINTS: Readonly<Record<string, string>> = {
  RouterId: 'a BGP router id is one node\'s: set it in Clusters[].Nodes[].Bgp',
};

function article(type: string): string {
  if (type === 'array') return 'a list';
  if (type === 'object') return 'an object';
  if (type === 'integer') return 'an integer';
  return `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return `${typeof value} ${String(value)}`;
}

/** A known key the unknown one was probably meant to be (case slip or a typo of one or two characters). */
function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { key: k, d };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
