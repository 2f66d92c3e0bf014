/**
 * The cloud properties the CLC knows: name, type, default and own validation.
 *
 * Model: a property's value is stored as text (as `euctl` shows and sets it);
 * each definition parses that text into a typed value and returns every
 * problem as a Diagnostic (path "" = the whole value). Unknown names are
 * refused. `cloud.network.network_configuration` has no default (unset) and
 * validates against the other properties (explode inputs), so its parser gets
 * a getter for the other values.
 */
import type { Diagnostic, Validated } from '../../shared/diagnostics.ts';
import { parseIp } from '../../shared/ip.ts';
import { evaluateNetworkConfiguration, type PropertyGetter } from './network-config.ts';

export type PropertyType = 'json' | 'string' | 'integer' | 'enum' | 'list';

export interface PropertyDefinition {
  readonly name: string;
  readonly type: PropertyType;
  readonly description: string;
  /** Text value when unset; undefined means "no value" (the property is unset). */
  readonly defaultText: string | undefined;
  /** Allowed values of an enum property. */
  readonly values?: readonly string[];
  readonly parse: (text: string, get: PropertyGetter) => Validated<unknown>;
}

export const NETWORK_CONFIGURATION = 'cloud.network.network_configuration';

const ok = (value: unknown): Validated<unknown> => ({ ok: true, value, diagnostics: [] });
const bad = (code: string, message: string): Validated<unknown> => ({
  ok: false,
  diagnostics: [{ severity: 'error', code, path: '', message } satisfies Diagnostic],
});

function integer(min: number, max: number, unit: string) {
  return (text: string): Validated<unknown> => {
    const t = text.trim();
    if (!/^-?\d+$/.test(t)) return bad('NotAnInteger', `expected an integer number of ${unit}, got ${JSON.stringify(text)}`);
    const n = Number(t);
    if (n < min || n > max) return bad('OutOfRange', `must be between ${min} and ${max} ${unit}, got ${n}`);
    return ok(n);
  };
}

const MAC_PREFIX = /^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}$/;
const DOMAIN = /^\.?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const DEFINITIONS: readonly PropertyDefinition[] = [
  {
    name: NETWORK_CONFIGURATION,
    type: 'json',
    description: 'EDGE network configuration (JSON, PascalCase keys, Eucalyptus format); unset until an admin sets it',
    defaultText: undefined,
    parse: (text, get) => {
      const outcome = evaluateNetworkConfiguration(text, get);
      return outcome.ok ? { ok: true, value: outcome.config, diagnostics: [] } : { ok: false, diagnostics: outcome.diagnostics };
    },
  },
  {
    name: 'cloud.vmstate.mac_prefix',
    type: 'string',
    description: 'default MAC prefix (hh:hh) of instance interfaces when the network configuration gives none',
    defaultText: 'd0:0d',
    parse: (text) => (MAC_PREFIX.test(text) ? ok(text.toLowerCase()) : bad('InvalidMacPrefix', `expected two hex bytes like d0:0d, got ${JSON.stringify(text)}`)),
  },
  {
    name: 'cloud.vmstate.instance_subdomain',
    type: 'string',
    description: 'instance DNS subdomain; the default InstanceDnsDomain is this + ".internal"',
    defaultText: '.eucalyptus',
    parse: (text) => (DOMAIN.test(text) && text.length <= 200 ? ok(text) : bad('InvalidDomain', `expected a DNS name like .eucalyptus, got ${JSON.stringify(text)}`)),
  },
  {
    name: 'system.dns.nameserveraddress',
    type: 'list',
    description: 'comma-separated DNS server addresses handed to instances (a lone 127.0.0.1 means none)',
    defaultText: '127.0.0.1',
    parse: (text) => {
      const items = text.split(',').map((s) => s.trim());
      const wrong = items.filter((s) => parseIp(s) === undefined);
      if (items.length === 0 || wrong.length > 0) return bad('InvalidIpList', `expected comma-separated IPv4 addresses, invalid: ${wrong.map((w) => JSON.stringify(w)).join(', ')}`);
      return ok(items);
    },
  },
  {
    name: 'cloud.network.ec2_classic_additional_protocols_allowed',
    type: 'list',
    description: 'IANA protocol numbers, comma-separated, accepted in security group rules besides tcp, udp and icmp',
    defaultText: '',
    parse: (text) => {
      if (text.trim() === '') return ok([]);
      const items = text.split(',').map((s) => s.trim());
      const wrong = items.filter((s) => !/^\d+$/.test(s) || Number(s) > 255);
      if (wrong.length > 0) return bad('InvalidProtocolList', `expected comma-separated protocol numbers 0-255, invalid: ${wrong.map((w) => JSON.stringify(w)).join(', ')}`);
      return ok([...new Set(items.map(Number))].sort((a, b) => a - b));
    },
  },
  {
    name: 'cloud.network.address_allocation',
    type: 'enum',
    description: 'how IPAM picks a free address: first-free (lowest) or random',
    defaultText: 'first-free',
    values: ['first-free', 'random'],
    parse: (text) => (text === 'first-free' || text === 'random' ? ok(text) : bad('InvalidEnumValue', `expected first-free or random, got ${JSON.stringify(text)}`)),
  },
  {
    name: 'cloud.network.address_hold_timeout',
    type: 'integer',
    description: 'seconds a released address stays held when nodes do not report convergence',
    defaultText: '300',
    parse: integer(0, 86_400 * 30, 'seconds'),
  },
  {
    name: 'cloud.network.min_broadcast_interval',
    type: 'integer',
    description: 'minimum milliseconds between two broadcasts (bursts of changes are merged)',
    defaultText: '200',
    parse: integer(0, 600_000, 'milliseconds'),
  },
  {
    name: 'cloud.network.broadcast_interval',
    type: 'integer',
    description: 'seconds between periodic re-broadcasts of unchanged state (heals lost messages)',
    defaultText: '15',
    parse: integer(1, 86_400, 'seconds'),
  },
  {
    name: 'cloud.network.broadcast_timeout',
    type: 'integer',
    description: 'seconds a broadcast to one cluster controller may take before it counts as failed',
    defaultText: '10',
    parse: integer(1, 3_600, 'seconds'),
  },
  // Per-account limits (issue 15), enforced by the state services so the admin API and the EC2
  // endpoint obey them alike; read in the transaction of the write they limit. 0 = unlimited; the
  // admin account (000000000001) is never limited.
  {
    name: 'cloud.accounts.max_security_groups',
    type: 'integer',
    description: 'security groups an account may have, its default group included (0 = unlimited; the admin account is never limited)',
    defaultText: '500',
    parse: integer(0, 1_000_000, 'groups'),
  },
  {
    name: 'cloud.accounts.max_rules_per_group',
    type: 'integer',
    description: 'ingress rules a security group of an account may have, IPv4 and IPv6 together (0 = unlimited; the admin account is never limited)',
    defaultText: '100',
    parse: integer(0, 1_000_000, 'rules'),
  },
  {
    name: 'cloud.accounts.max_addresses',
    type: 'integer',
    description: 'public addresses an account may have allocated (0 = unlimited; the admin account is never limited)',
    defaultText: '5',
    parse: integer(0, 1_000_000, 'addresses'),
  },
  {
    name: 'cloud.ec2.run_instances',
    type: 'enum',
    description: 'whether the EC2 endpoint serves RunInstances and TerminateInstances (true where edgenet creates the instance records, as the lab does)',
    defaultText: 'false',
    values: ['true', 'false'],
    parse: (text) => (text === 'true' ? ok(true) : text === 'false' ? ok(false) : bad('InvalidEnumValue', `expected true or false, got ${JSON.stringify(text)}`)),
  },
];

const BY_NAME = new Map(DEFINITIONS.map((d) => [d.name, d]));

export function propertyDefinitions(): readonly PropertyDefinition[] {
  return DEFINITIONS;
}

export function propertyDefinition(name: string): PropertyDefinition | undefined {
  return BY_NAME.get(name);
}
