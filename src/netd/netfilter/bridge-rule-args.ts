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
const not = (negate: boolean | undefined): string[] => (negate === true ? ['!'] : []);

function ipv4(text: string, what: string): string {
  if (text.includes(':')) throw familyMismatch(`an ebtables ${what} match is IPv4 only, not ${text}`);
  return text;
}

function extensionWords(m: Exclude<BridgeMatch, { kind: 'ethertype' | 'mac' | 'iface' }>): string[] {
  switch (m.kind) {
    case 'ip-proto': return ['--ip-proto', m.proto];
    case 'ip-addr': return [m.dir === 'src' ? '--ip-src' : '--ip-dst', ...not(m.negate), ipv4(m.address, m.dir === 'src' ? '--ip-src' : '--ip-dst')];
    case 'ip-port': return [m.dir === 'src' ? '--ip-sport' : '--ip-dport', String(m.port)];
    case 'arp-op': return ['--arp-op', m.op];
    case 'arp-ip': return [m.dir === 'src' ? '--arp-ip-src' : '--arp-ip-dst', ...not(m.negate), ipv4(m.address, m.dir === 'src' ? '--arp-ip-src' : '--arp-ip-dst')];
    case 'arp-mac': return [m.dir === 'src' ? '--arp-mac-src' : '--arp-mac-dst', ...not(m.negate), m.mac];
    default: return assertNever(m, 'bridge match');
  }
}

function matchWords(matches: readonly BridgeMatch[]): string[] {
  let proto: string[] = [];
  let src: string[] = [];
  let dst: string[] = [];
  let iin: string[] = [];
  let iout: string[] = [];
  const ext: string[] = [];
  for (const m of matches) {
    switch (m.kind) {
      case 'ethertype': proto = ['-p', m.type]; break;
      case 'mac': {
        const words = [m.dir === 'src' ? '-s' : '-d', ...not(m.negate), mac(m.mac)];
        if (m.dir === 'src') src = words;
        else dst = words;
        break;
      }
      case 'iface': {
        if (m.dir === 'in') iin = ['-i', m.name];
        else iout = ['-o', m.name];
        break;
      }
      default: ext.push(...extensionWords(m));
    }
  }
  return [...proto, ...src, ...dst, ...iin, ...iout, ...ext];
}

function targetWords(t: BridgeTarget): string[] {
  switch (t.kind) {
    case 'accept': return ['-j', 'ACCEPT'];
    case 'drop': return ['-j', 'DROP'];
    case 'return': return ['-j', 'RETURN'];
    case 'jump': return ['-j', t.chain];
    case 'arpreply': return ['-j', 'arpreply', '--arpreply-mac', t.mac];
    default: return assertNever(t, 'bridge target');
  }
}

/** The words after `-A <chain>` (ebtables keeps no comment in the kernel). */
export function bridgeRuleArgs(rule: BridgeRule): string[] {
  return [...matchWords(rule.matches), ...targetWords(rule.target)];
}

/** Match words of a hook (the part before its `-j <chain>`). */
export function bridgeMatchArgs(matches: readonly BridgeMatch[]): string[] {
  return matchWords(matches);
}
