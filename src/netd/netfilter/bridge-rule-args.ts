/**
 * The argument words of an ebtables rule (what follows `-A <chain>`), written
 * from a typed BridgeRule in the form ebtables-save prints (nft backend,
 * ebtables 1.8.9): `-p`, `-s`, `-d`, `-i`, `-o` first, then the extension
 * matches (`--ip-*`, `--arp-*`) in list order, then `-j`. Negation follows the
 * option (`-s ! <mac>`); ff:ff:ff:ff:ff:ff is printed `Broadcast`.
 *
 * `--ip-*` matches are IPv4 only and `--ip6-*` IPv6 only: an address of the
 * other family is refused (RULE_FAMILY_MISMATCH).
 *
 * IPv6 spelling, as ebtables-save prints it (verified on the nft backend,
 * ebtables 1.8.9): `--ip6-proto` by name (`tcp`, `udp`, `ipv6-icmp`); an
 * `--ip6-src/dst` in RFC 5952 text, a /128 bare (`::`, `fe80::1`), any other
 * prefix with its length and host bits cleared (`::/0`, `2001:db8::/64`); `--ip6-icmp-type` by its xtables name
 * where one exists for exactly that type and code range (`router-advertisement`,
 * `redirect`, `no-route` for 1/0), else `t/c` for one code and `t/0:255` for a
 * whole type. An interface negation follows the option: `-o ! vn_+`.
 */
import { assertNever } from '../../shared/errors.ts';
import { familyMismatch } from './rule.ts';
import { ipv6Bare128 } from './ipv6-text.ts';
import type { BridgeMatch, BridgeRule, BridgeTarget } from './rule.ts';

const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

const mac = (m: string): string => (m.toLowerCase() === BROADCAST_MAC ? 'Broadcast' : m);

function ipv4(text: string, what: string): string {
  if (text.includes(':')) throw familyMismatch(`an ebtables ${what} match is IPv4 only, not ${text}`);
  return text;
}

/** An IPv6 address or CIDR as ebtables-save prints it: RFC 5952, host bits cleared, a /128 bare (ipv6-text.ts). */
function ipv6(text: string, what: string): string {
  if (!text.includes(':')) throw familyMismatch(`an ebtables ${what} match is IPv6 only, not ${text}`);
  return ipv6Bare128(text, `ebtables ${what}`);
}

/**
 * ICMPv6 names ebtables-save prints (iptables' libxt_icmp.h `icmpv6_codes`,
 * the first name of each (type, code range); aliases like `ping` are never
 * printed). Key: `type` for the whole type (codes 0-255), `type/code` for one code.
 */
const ICMPV6_NAMES: ReadonlyMap<string, string> = new Map([
  ['1', 'destination-unreachable'], ['1/0', 'no-route'], ['1/1', 'communication-prohibited'], ['1/2', 'beyond-scope'],
  ['1/3', 'address-unreachable'], ['1/4', 'port-unreachable'], ['1/5', 'failed-policy'], ['1/6', 'reject-route'],
  ['2', 'packet-too-big'],
  ['3', 'time-exceeded'], ['3/0', 'ttl-zero-during-transit'], ['3/1', 'ttl-zero-during-reassembly'],
  ['4', 'parameter-problem'], ['4/0', 'bad-header'], ['4/1', 'unknown-header-type'], ['4/2', 'unknown-option'],
  ['128', 'echo-request'], ['129', 'echo-reply'], ['133', 'router-solicitation'], ['134', 'router-advertisement'],
  ['135', 'neighbour-solicitation'], ['136', 'neighbour-advertisement'], ['137', 'redirect'],
]);

/** `--ip6-icmp-type` value in ebtables-save's form. */
export function ebtablesIcmpv6Type(type: number, code?: number): string {
  const key = code === undefined ? String(type) : `${type}/${code}`;
  return ICMPV6_NAMES.get(key) ?? (code === undefined ? `${type}/0:255` : key);
}

const IP6_PROTO = { tcp: 'tcp', udp: 'udp', icmp: 'ipv6-icmp' } as const;

/** Pushes into one output array (see ip-rule-args.ts: these run for every rule on every sync). */
function pushNot(out: string[], negate: boolean | undefined): void {
  if (negate === true) out.push('!');
}

function pushExtension(out: string[], m: Exclude<BridgeMatch, { kind: 'ethertype' | 'mac' | 'iface' }>): void {
  switch (m.kind) {
    case 'ip6-proto': out.push('--ip6-proto', IP6_PROTO[m.proto]); return;
    case 'ip6-addr': {
      const opt = m.dir === 'src' ? '--ip6-src' : '--ip6-dst';
      out.push(opt);
      pushNot(out, m.negate);
      out.push(ipv6(m.address, opt));
      return;
    }
    case 'ip6-port': out.push(m.dir === 'src' ? '--ip6-sport' : '--ip6-dport', String(m.port)); return;
    case 'ip6-icmp': out.push('--ip6-icmp-type', ebtablesIcmpv6Type(m.type, m.code)); return;
    case 'ip-proto': out.push('--ip-proto', m.proto); return;
    case 'ip-addr': {
      const opt = m.dir === 'src' ? '--ip-src' : '--ip-dst';
      out.push(opt);
      pushNot(out, m.negate);
      out.push(ipv4(m.address, opt));
      return;
    }
    case 'ip-port': out.push(m.dir === 'src' ? '--ip-sport' : '--ip-dport', String(m.port)); return;
    case 'arp-op': out.push('--arp-op', m.op); return;
    case 'arp-ip': {
      const opt = m.dir === 'src' ? '--arp-ip-src' : '--arp-ip-dst';
      out.push(opt);
      pushNot(out, m.negate);
      out.push(ipv4(m.address, opt));
      return;
    }
    case 'arp-mac':
      out.push(m.dir === 'src' ? '--arp-mac-src' : '--arp-mac-dst');
      pushNot(out, m.negate);
      out.push(m.mac);
      return;
    default: assertNever(m, 'bridge match');
  }
}

type HeaderMatch = Extract<BridgeMatch, { kind: 'ethertype' | 'mac' | 'iface' }>;

function pushHeader(out: string[], m: HeaderMatch | undefined): void {
  if (m === undefined) return;
  switch (m.kind) {
    case 'ethertype': out.push('-p', m.type); return;
    case 'mac':
      out.push(m.dir === 'src' ? '-s' : '-d');
      pushNot(out, m.negate);
      out.push(mac(m.mac));
      return;
    case 'iface':
      out.push(m.dir === 'in' ? '-i' : '-o');
      pushNot(out, m.negate);
      out.push(m.name);
      return;
    default: assertNever(m, 'bridge header match');
  }
}

/** ebtables-save's order: -p -s -d -i -o (the last of a kind wins), then the extensions in list order. */
function pushMatches(out: string[], matches: readonly BridgeMatch[]): void {
  let proto: HeaderMatch | undefined;
  let src: HeaderMatch | undefined;
  let dst: HeaderMatch | undefined;
  let iin: HeaderMatch | undefined;
  let iout: HeaderMatch | undefined;
  let extensions = false;
  for (const m of matches) {
    if (m.kind === 'ethertype') proto = m;
    else if (m.kind === 'mac') {
      if (m.dir === 'src') src = m;
      else dst = m;
    } else if (m.kind === 'iface') {
      if (m.dir === 'in') iin = m;
      else iout = m;
    } else extensions = true;
  }
  pushHeader(out, proto);
  pushHeader(out, src);
  pushHeader(out, dst);
  pushHeader(out, iin);
  pushHeader(out, iout);
  if (!extensions) return;
  for (const m of matches) if (m.kind !== 'ethertype' && m.kind !== 'mac' && m.kind !== 'iface') pushExtension(out, m);
}

function pushTarget(out: string[], t: BridgeTarget): void {
  switch (t.kind) {
    case 'accept': out.push('-j', 'ACCEPT'); return;
    case 'drop': out.push('-j', 'DROP'); return;
    case 'return': out.push('-j', 'RETURN'); return;
    case 'jump': out.push('-j', t.chain); return;
    case 'arpreply': out.push('-j', 'arpreply', '--arpreply-mac', t.mac); return;
    default: assertNever(t, 'bridge target');
  }
}

/** Memoized by the matches array, as in ip-rule-args.ts (the fingerprint and the writer of one sync share the words). */
const WORDS = new WeakMap<readonly BridgeMatch[], { readonly target: BridgeTarget; readonly words: readonly string[] }>();

/** The words after `-A <chain>` (ebtables keeps no comment in the kernel). */
export function bridgeRuleArgs(rule: BridgeRule): string[] {
  return [...bridgeRuleWords(rule)];
}

/** The same words, shared (read-only): for the restore writer, which only joins them. */
export function bridgeRuleWords(rule: BridgeRule): readonly string[] {
  const hit = WORDS.get(rule.matches);
  if (hit !== undefined && hit.target === rule.target) return hit.words;
  const out: string[] = [];
  pushMatches(out, rule.matches);
  pushTarget(out, rule.target);
  WORDS.set(rule.matches, { target: rule.target, words: out });
  return out;
}

/** Match words of a hook (the part before its `-j <chain>`). */
export function bridgeMatchArgs(matches: readonly BridgeMatch[]): string[] {
  const out: string[] = [];
  pushMatches(out, matches);
  return out;
}
