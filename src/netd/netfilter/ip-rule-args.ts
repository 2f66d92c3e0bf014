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
 * ipv6, a DNAT port is `a.b.c.d:p` or `[v6]:p`. An address of the other
 * family is refused (RULE_FAMILY_MISMATCH) rather than written into a rule the
 * kernel would reject or misread.
 *
 * These words are also the fingerprint's input (src/netd/plan/fingerprint.ts):
 * changing how a rule is spelled here changes every hash and rewrites chains.
 */
import { assertNever } from '../../shared/errors.ts';
import { familyMismatch } from './rule.ts';
import type { IpFamily, IpMatch, IpProtocol, IpRule, IpTarget, PortRange } from './rule.ts';

/** A rule's words split where the comment match goes. */
export interface IpRuleWords {
  readonly matches: string[];
  readonly target: string[];
}

/** Refuses an address of the other family (IPv6 text always has a colon, IPv4 never). */
function address(family: IpFamily, text: string, what: string): string {
  if (text.includes(':') !== (family === 'ipv6')) {
    throw familyMismatch(`an ${family} rule cannot hold the ${family === 'ipv6' ? 'IPv4' : 'IPv6'} ${what} ${text}`);
  }
  return text;
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

const not = (negate: boolean | undefined): string[] => (negate === true ? ['!'] : []);

/** Extension match words (everything but the header options). */
function extensionWords(family: IpFamily, m: Exclude<IpMatch, { kind: 'addr' | 'iface' | 'proto' }>): string[] {
  switch (m.kind) {
    case 'set': return ['-m', 'set', ...not(m.negate), '--match-set', m.set, m.dir];
    case 'dport': return ['-m', m.proto, '--dport', ports(m.ports)];
    case 'multiport': return ['-m', 'multiport', '--dports', m.ports.map(ports).join(',')];
    case 'icmp': {
      const t = m.code === undefined ? String(m.type) : `${m.type}/${m.code}`;
      return family === 'ipv4' ? ['-m', 'icmp', '--icmp-type', t] : ['-m', 'icmp6', '--icmpv6-type', t];
    }
    case 'ctstate': return ['-m', 'conntrack', '--ctstate', m.states.join(',')];
    case 'ctorigdst': return ['-m', 'conntrack', ...not(m.negate), '--ctorigdst', address(family, m.address, 'conntrack original destination')];
    case 'physdev': return ['-m', 'physdev', m.dir === 'in' ? '--physdev-in' : '--physdev-out', m.name];
    case 'mark': return ['-m', 'mark', ...not(m.negate), '--mark', m.mark];
    default: return assertNever(m, 'ip match');
  }
}

function matchWords(family: IpFamily, matches: readonly IpMatch[]): string[] {
  let src: string[] = [];
  let dst: string[] = [];
  let iin: string[] = [];
  let iout: string[] = [];
  let proto: string[] = [];
  const ext: string[] = [];
  for (const m of matches) {
    switch (m.kind) {
      case 'addr': {
        const words = [...not(m.negate), m.dir === 'src' ? '-s' : '-d', address(family, m.cidr, m.dir === 'src' ? 'source' : 'destination')];
        if (m.dir === 'src') src = words;
        else dst = words;
        break;
      }
      case 'iface': {
        const words = [...not(m.negate), m.dir === 'in' ? '-i' : '-o', m.name];
        if (m.dir === 'in') iin = words;
        else iout = words;
        break;
      }
      case 'proto': proto = ['-p', protocolWord(family, m.proto)]; break;
      default: ext.push(...extensionWords(family, m));
    }
  }
  return [...src, ...dst, ...iin, ...iout, ...proto, ...ext];
}

function targetWords(family: IpFamily, t: IpTarget): string[] {
  switch (t.kind) {
    case 'accept': return ['-j', 'ACCEPT'];
    case 'drop': return ['-j', 'DROP'];
    case 'return': return ['-j', 'RETURN'];
    case 'jump': return ['-j', t.chain];
    case 'dnat': {
      const a = address(family, t.address, 'DNAT address');
      const to = t.port === undefined ? a : family === 'ipv4' ? `${a}:${t.port}` : `[${a}]:${t.port}`;
      return ['-j', 'DNAT', '--to-destination', to];
    }
    case 'snat': return ['-j', 'SNAT', '--to-source', address(family, t.address, 'SNAT address')];
    case 'set-mark': return ['-j', 'MARK', '--set-xmark', `${t.mark}/${t.mask}`];
    case 'masquerade': return ['-j', 'MASQUERADE'];
    default: return assertNever(t, 'ip target');
  }
}

/** The rule's words, matches and target apart. */
export function ipRuleWords(rule: IpRule): IpRuleWords {
  return { matches: matchWords(rule.family, rule.matches), target: targetWords(rule.family, rule.target) };
}

/** The words after `-A <chain>` without the comment match (the fingerprint's input). */
export function ipRuleArgs(rule: IpRule): string[] {
  const w = ipRuleWords(rule);
  return [...w.matches, ...w.target];
}

/** Match words of a hook (the part before its `-j <chain>`). */
export function ipMatchArgs(family: IpFamily, matches: readonly IpMatch[]): string[] {
  return matchWords(family, matches);
}
