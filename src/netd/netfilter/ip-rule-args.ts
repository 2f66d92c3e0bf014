/**
 * The argument words of an iptables or ip6tables rule (what follows `-A
 * <chain>`), written from a typed IpRule in the canonical order iptables-save
 * prints them, so a written rule and its kernel echo compare equal: the ip
 * header options (`-s`, `-d`, `-i`, `-o`, `-p`) first, then the extension
 * matches in list order, then the target. The comment match goes between the
 * matches and the target (`iptablesRuleArgs` in iptables.ts).
 *
 * One writer for both families; what differs is spelled here: ICMP is `-p icmp
 * -m icmp --icmp-type` for ipv4 and `-p ipv6-icmp -m icmp6 --icmpv6-type` for
 * ipv6, a DNAT port is `a.b.c.d:p` or `[v6]:p`; IPv6 addresses are written
 * the way ip6tables-save prints them (ipv6-text.ts). An address of the other
 * family is refused (RULE_FAMILY_MISMATCH) rather than written into a rule the
 * kernel would reject or misread.
 *
 * These words are also the fingerprint's input (src/netd/plan/fingerprint.ts):
 * changing how a rule is spelled here changes every hash and rewrites chains.
 */
import { assertNever } from '../../shared/errors.ts';
import { parseIpv6 } from '../../shared/ip.ts';
import { familyMismatch } from './rule.ts';
import { canonicalIpv6, ipv6WithPrefix } from './ipv6-text.ts';
import type { IpFamily, IpMatch, IpProtocol, IpRule, IpTarget, PortRange } from './rule.ts';

/** Refuses an address of the other family (IPv6 text always has a colon, IPv4 never). */
function address(family: IpFamily, text: string, what: string): string {
  if (text.includes(':') !== (family === 'ipv6')) {
    throw familyMismatch(`an ${family} rule cannot hold the ${family === 'ipv6' ? 'IPv4' : 'IPv6'} ${what} ${text}`);
  }
  return text;
}

/**
 * `-s`/`-d`: IPv4 as given; IPv6 as ip6tables-save prints it (RFC 5952, host
 * bits cleared, the length always written: `2001:db8:10:0:d20d:ff:fe00:b/128`).
 */
function cidrWord(family: IpFamily, text: string, what: string): string {
  const a = address(family, text, what);
  return family === 'ipv6' ? ipv6WithPrefix(a, what) : a;
}

/** A bare address (DNAT/SNAT, conntrack): IPv6 in RFC 5952 text. */
function addressWord(family: IpFamily, text: string, what: string): string {
  const a = address(family, text, what);
  return family === 'ipv6' ? canonicalIpv6(a, what).address : a;
}

/**
 * The u32 expression of an `nd-target` match: the neighbour discovery target
 * address is bytes 48..63 of the packet (40-byte IPv6 header, 8-byte ICMPv6
 * header: type, code, checksum, reserved/flags), compared as four 32-bit
 * words. Written the way ip6tables-save prints it back (offsets and values in
 * hex, no leading zeros: `0x30=0x20010db8&&0x34=0x100000&&...`), so the
 * written rule and its echo compare equal.
 */
function ndTargetU32(family: IpFamily, text: string): string {
  if (family !== 'ipv6') throw familyMismatch(`an nd-target match is ipv6 only (an ${family} rule asked for ${text})`);
  const v = parseIpv6(text);
  if (v === undefined) throw familyMismatch(`an nd-target match needs an IPv6 address, not ${text}`);
  const parts: string[] = [];
  for (let i = 0; i < 4; i++) {
    const word = (v >> BigInt(96 - 32 * i)) & 0xffffffffn;
    parts.push(`0x${(48 + 4 * i).toString(16)}=0x${word.toString(16)}`);
  }
  return parts.join('&&');
}

const ports = (p: PortRange): string => (p.lo === p.hi ? String(p.lo) : `${p.lo}:${p.hi}`);

function protocolWord(family: IpFamily, p: IpProtocol): string {
  if (p === 'icmp') return family === 'ipv4' ? 'icmp' : 'ipv6-icmp';
  if (typeof p === 'string') return p;
  if (p === 6) return 'tcp';
  if (p === 17) return 'udp';
  if (p === 1 && family === 'ipv4') return 'icmp';
  if (p === 58 && family === 'ipv6') return 'ipv6-icmp';
  return String(p);
}

/**
 * The writers push into one output array (no intermediate arrays per match):
 * they run for every rule on every sync, twice (the fingerprint and the
 * restore text), so allocation here shows in the netd benches.
 */
function pushNot(out: string[], negate: boolean | undefined): void {
  if (negate === true) out.push('!');
}

/** Extension match words (everything but the header options). */
function pushExtension(out: string[], family: IpFamily, m: Exclude<IpMatch, { kind: 'addr' | 'iface' | 'proto' }>): void {
  switch (m.kind) {
    case 'set':
      out.push('-m', 'set');
      pushNot(out, m.negate);
      out.push('--match-set', m.set, m.dir);
      return;
    case 'dport': out.push('-m', m.proto, '--dport', ports(m.ports)); return;
    case 'multiport': out.push('-m', 'multiport', '--dports', m.ports.map(ports).join(',')); return;
    case 'icmp': {
      const t = m.code === undefined ? String(m.type) : `${m.type}/${m.code}`;
      if (family === 'ipv4') out.push('-m', 'icmp', '--icmp-type', t);
      else out.push('-m', 'icmp6', '--icmpv6-type', t);
      return;
    }
    case 'ctstate': out.push('-m', 'conntrack', '--ctstate', m.states.join(',')); return;
    case 'ctorigdst':
      out.push('-m', 'conntrack');
      pushNot(out, m.negate);
      out.push('--ctorigdst', addressWord(family, m.address, 'conntrack original destination'));
      return;
    case 'physdev': out.push('-m', 'physdev', m.dir === 'in' ? '--physdev-in' : '--physdev-out', m.name); return;
    case 'mark':
      out.push('-m', 'mark');
      pushNot(out, m.negate);
      out.push('--mark', m.mark);
      return;
    case 'nd-target': out.push('-m', 'u32', '--u32', ndTargetU32(family, m.address)); return;
    default: assertNever(m, 'ip match');
  }
}

type HeaderMatch = Extract<IpMatch, { kind: 'addr' | 'iface' | 'proto' }>;

function pushHeader(out: string[], family: IpFamily, m: HeaderMatch | undefined): void {
  if (m === undefined) return;
  switch (m.kind) {
    case 'addr':
      pushNot(out, m.negate);
      out.push(m.dir === 'src' ? '-s' : '-d', cidrWord(family, m.cidr, m.dir === 'src' ? 'source' : 'destination'));
      return;
    case 'iface':
      pushNot(out, m.negate);
      out.push(m.dir === 'in' ? '-i' : '-o', m.name);
      return;
    case 'proto': out.push('-p', protocolWord(family, m.proto)); return;
    default: assertNever(m, 'ip header match');
  }
}

/** Header options first in iptables-save's order (-s -d -i -o -p; the last of a kind wins), then the extensions in list order. */
function pushMatches(out: string[], family: IpFamily, matches: readonly IpMatch[]): void {
  let src: HeaderMatch | undefined;
  let dst: HeaderMatch | undefined;
  let iin: HeaderMatch | undefined;
  let iout: HeaderMatch | undefined;
  let proto: HeaderMatch | undefined;
  let extensions = false;
  for (const m of matches) {
    if (m.kind === 'addr') {
      if (m.dir === 'src') src = m;
      else dst = m;
    } else if (m.kind === 'iface') {
      if (m.dir === 'in') iin = m;
      else iout = m;
    } else if (m.kind === 'proto') proto = m;
    else extensions = true;
  }
  pushHeader(out, family, src);
  pushHeader(out, family, dst);
  pushHeader(out, family, iin);
  pushHeader(out, family, iout);
  pushHeader(out, family, proto);
  if (!extensions) return;
  for (const m of matches) if (m.kind !== 'addr' && m.kind !== 'iface' && m.kind !== 'proto') pushExtension(out, family, m);
}

function matchWords(family: IpFamily, matches: readonly IpMatch[]): string[] {
  const out: string[] = [];
  pushMatches(out, family, matches);
  return out;
}

function pushTarget(out: string[], family: IpFamily, t: IpTarget): void {
  switch (t.kind) {
    case 'accept': out.push('-j', 'ACCEPT'); return;
    case 'drop': out.push('-j', 'DROP'); return;
    case 'return': out.push('-j', 'RETURN'); return;
    case 'jump': out.push('-j', t.chain); return;
    case 'dnat': {
      const a = addressWord(family, t.address, 'DNAT address');
      const to = t.port === undefined ? a : family === 'ipv4' ? `${a}:${t.port}` : `[${a}]:${t.port}`;
      out.push('-j', 'DNAT', '--to-destination', to);
      return;
    }
    case 'snat': out.push('-j', 'SNAT', '--to-source', addressWord(family, t.address, 'SNAT address')); return;
    case 'set-mark': out.push('-j', 'MARK', '--set-xmark', `${t.mark}/${t.mask}`); return;
    case 'masquerade': out.push('-j', 'MASQUERADE'); return;
    default: assertNever(t, 'ip target');
  }
}

/**
 * A rule's words, memoized by its matches array (which a rule and its
 * fingerprint-tagged copy share: the tag changes only the comment), so the
 * fingerprint and the restore writer of one sync compute them once. Rules are
 * immutable data, so the memo is invisible; the target and family are checked
 * because two rules may share one matches array.
 */
interface Words {
  readonly family: IpFamily;
  readonly target: IpTarget;
  readonly words: readonly string[];
  /** Index of the target's first word (where the comment match goes). */
  readonly targetAt: number;
}

const WORDS = new WeakMap<readonly IpMatch[], Words>();

function wordsOf(rule: IpRule): Words {
  const hit = WORDS.get(rule.matches);
  if (hit !== undefined && hit.target === rule.target && hit.family === rule.family) return hit;
  const words: string[] = [];
  pushMatches(words, rule.family, rule.matches);
  const targetAt = words.length;
  pushTarget(words, rule.family, rule.target);
  const entry: Words = { family: rule.family, target: rule.target, words, targetAt };
  WORDS.set(rule.matches, entry);
  return entry;
}

/**
 * The full words of a rule into `out`, with `between` (the comment match, if
 * any) placed between the matches and the target.
 */
export function pushIpRuleWords(out: string[], rule: IpRule, between?: readonly string[]): void {
  const w = wordsOf(rule);
  for (let i = 0; i < w.targetAt; i++) out.push(w.words[i] as string);
  if (between !== undefined) for (const word of between) out.push(word);
  for (let i = w.targetAt; i < w.words.length; i++) out.push(w.words[i] as string);
}

/** The words after `-A <chain>` without the comment match (the fingerprint's input). */
export function ipRuleArgs(rule: IpRule): string[] {
  return [...wordsOf(rule).words];
}

/** Match words of a hook (the part before its `-j <chain>`). */
export function ipMatchArgs(family: IpFamily, matches: readonly IpMatch[]): string[] {
  return matchWords(family, matches);
}
