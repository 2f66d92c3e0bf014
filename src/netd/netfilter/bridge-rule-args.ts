/**
 * The argument words of an ebtables rule (what follows `-A <chain>`), written
 * from a typed BridgeRule in the form ebtables-save prints (nft backend,
 * ebtables 1.8.9): `-p`, `-s`, `-d`, `-i`, `-o` first, then the extension
 * matches (`--ip-*`, `--arp-*`) in list order, then `-j`. Negation follows the
 * option (`-s ! <mac>`); ff:ff:ff:ff:ff:ff is printed `Broadcast`.
 *
 * `--ip-*` matches are IPv4 only (IPv6 would be `--ip6-*`): an IPv6 address
 * there is refused (RULE_FAMILY_MISMATCH).
 */
import { assertNever } from '../../shared/errors.ts';
import { familyMismatch } from './rule.ts';
import type { BridgeMatch, BridgeRule, BridgeTarget } from './rule.ts';

const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

const mac = (m: string): string => (m.toLowerCase() === BROADCAST_MAC ? 'Broadcast' : m);

function ipv4(text: string, what: string): string {
  if (text.includes(':')) throw familyMismatch(`an ebtables ${what} match is IPv4 only, not ${text}`);
  return text;
}

/** Pushes into one output array (see ip-rule-args.ts: these run for every rule on every sync). */
function pushNot(out: string[], negate: boolean | undefined): void {
  if (negate === true) out.push('!');
}

function pushExtension(out: string[], m: Exclude<BridgeMatch, { kind: 'ethertype' | 'mac' | 'iface' }>): void {
  switch (m.kind) {
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
    case 'iface': out.push(m.dir === 'in' ? '-i' : '-o', m.name); return;
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
