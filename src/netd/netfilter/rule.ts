/**
 * The rule model: what netd wants in a netfilter chain, as typed data. A rule
 * is a family, a list of matches, a target and a comment that says why the
 * rule exists. Renderers (src/netd/render/) build these values; the writers in
 * this directory turn them into restore text (`ip-rule-args.ts` for iptables
 * and ip6tables, `bridge-rule-args.ts` for ebtables); the planner hashes the
 * writer's words (src/netd/plan/fingerprint.ts).
 *
 * Families: `ipv4` rules go to iptables, `ipv6` rules to ip6tables (same
 * matches, the writer picks the family's spelling: icmp/icmpv6, addresses of
 * the family only), `bridge` rules to ebtables. A writer refuses a rule of
 * another family.
 *
 * Matches are a list; the writer prints the tool's header options first in
 * the tool's fixed order (iptables `-s -d -i -o -p`, ebtables `-p -s -d -i
 * -o`) and every extension match in list order, which is the order the save
 * tools echo them. Every variant is a tagged union; writers switch on `kind`
 * exhaustively, so a new match is one case in each writer.
 */
import { EdgenetError } from '../../shared/errors.ts';
import { safeComment } from './tokens.ts';

export type IpFamily = 'ipv4' | 'ipv6';
export type Family = IpFamily | 'bridge';

/** Source or destination side of a packet or frame. */
export type Direction = 'src' | 'dst';

/** `lo` alone when `lo === hi`. */
export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

/** tcp/udp/icmp by name (icmp = the family's ICMP: icmpv6 for ipv6), every other protocol by number. */
export type IpProtocol = 'tcp' | 'udp' | 'icmp' | number;

export type ConntrackState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

export type IpMatch =
  /** `-s`/`-d`: an address or CIDR of the rule's family. */
  | { readonly kind: 'addr'; readonly dir: Direction; readonly cidr: string; readonly negate?: boolean }
  /** `-i`/`-o`. */
  | { readonly kind: 'iface'; readonly dir: 'in' | 'out'; readonly name: string; readonly negate?: boolean }
  /** `-p`. */
  | { readonly kind: 'proto'; readonly proto: IpProtocol }
  /** `-m set --match-set <set> src|dst`. */
  | { readonly kind: 'set'; readonly set: string; readonly dir: Direction; readonly negate?: boolean }
  /** `-m tcp|udp --dport lo[:hi]`; needs the same `proto` match. */
  | { readonly kind: 'dport'; readonly proto: 'tcp' | 'udp'; readonly ports: PortRange }
  /** `-m multiport --dports a,b:c` (at most 15 slots; the config checks it). */
  | { readonly kind: 'multiport'; readonly ports: readonly PortRange[] }
  /** `-m icmp --icmp-type t[/c]` or `-m icmp6 --icmpv6-type t[/c]`; needs `proto: 'icmp'`. */
  | { readonly kind: 'icmp'; readonly type: number; readonly code?: number }
  /** `-m conntrack --ctstate A,B` (in the given order). */
  | { readonly kind: 'ctstate'; readonly states: readonly ConntrackState[] }
  /** `-m conntrack --ctorigdst <address>`: the destination before DNAT. */
  | { readonly kind: 'ctorigdst'; readonly address: string; readonly negate?: boolean }
  /** `-m physdev --physdev-in|--physdev-out <bridge port>` (`+` wildcard allowed). */
  | { readonly kind: 'physdev'; readonly dir: 'in' | 'out'; readonly name: string }
  /** `-m mark --mark <value>`. */
  | { readonly kind: 'mark'; readonly mark: string; readonly negate?: boolean }
  /**
   * ipv6 only: the target address of a neighbour solicitation/advertisement
   * equals `address` (`-m u32 --u32 "48=…&&52=…&&56=…&&60=…"`: the 16 bytes
   * after the 8-byte ICMPv6 header, read at a fixed offset, so a packet with an
   * extension header never matches). Needs `proto: 'icmp'` and an `icmp`
   * match of type 135 or 136.
   */
  | { readonly kind: 'nd-target'; readonly address: string };

export type IpTarget =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'return' }
  /** `-j <chain>`: one of our chains. */
  | { readonly kind: 'jump'; readonly chain: string }
  /** `-j DNAT --to-destination <address>[:port]`. */
  | { readonly kind: 'dnat'; readonly address: string; readonly port?: number }
  /** `-j SNAT --to-source <address>`. */
  | { readonly kind: 'snat'; readonly address: string }
  /** `-j MARK --set-xmark <mark>/<mask>`. */
  | { readonly kind: 'set-mark'; readonly mark: string; readonly mask: string }
  /** `-j MASQUERADE`: SNAT to the address of the outgoing interface (NC_PROXY). */
  | { readonly kind: 'masquerade' };

/** Ethertypes by the names ebtables-save prints. */
export type EtherType = 'IPv4' | 'IPv6' | 'ARP' | 'RARP';

/** ebtables `--arp-op` values by the names ebtables-save prints. */
export type ArpOp = 'Request' | 'Reply' | 'Request_Reverse' | 'Reply_Reverse';

export type BridgeMatch =
  /** `-p`. */
  | { readonly kind: 'ethertype'; readonly type: EtherType }
  /** `-s`/`-d`: frame MAC (ff:ff:ff:ff:ff:ff is written `Broadcast`). */
  | { readonly kind: 'mac'; readonly dir: Direction; readonly mac: string; readonly negate?: boolean }
  /** `-i`/`-o` (`-o ! vn_+` negated). */
  | { readonly kind: 'iface'; readonly dir: 'in' | 'out'; readonly name: string; readonly negate?: boolean }
  /** `--ip-proto`; needs `ethertype IPv4`. */
  | { readonly kind: 'ip-proto'; readonly proto: 'tcp' | 'udp' }
  /** `--ip-src`/`--ip-dst`: an IPv4 address. */
  | { readonly kind: 'ip-addr'; readonly dir: Direction; readonly address: string; readonly negate?: boolean }
  /** `--ip-sport`/`--ip-dport`. */
  | { readonly kind: 'ip-port'; readonly dir: Direction; readonly port: number }
  /** `--arp-op`. */
  | { readonly kind: 'arp-op'; readonly op: ArpOp }
  /** `--arp-ip-src`/`--arp-ip-dst`. */
  | { readonly kind: 'arp-ip'; readonly dir: Direction; readonly address: string; readonly negate?: boolean }
  /** `--arp-mac-src`/`--arp-mac-dst`. */
  | { readonly kind: 'arp-mac'; readonly dir: Direction; readonly mac: string; readonly negate?: boolean }
  /** `--ip6-proto`; needs `ethertype IPv6` (`icmp` is written `ipv6-icmp`). */
  | { readonly kind: 'ip6-proto'; readonly proto: 'tcp' | 'udp' | 'icmp' }
  /** `--ip6-src`/`--ip6-dst`: an IPv6 address (a /128, written bare) or CIDR. */
  | { readonly kind: 'ip6-addr'; readonly dir: Direction; readonly address: string; readonly negate?: boolean }
  /** `--ip6-sport`/`--ip6-dport`; needs `ip6-proto` tcp or udp. */
  | { readonly kind: 'ip6-port'; readonly dir: Direction; readonly port: number }
  /** `--ip6-icmp-type t[/c]` (ebtables-save prints the type's name, e.g. `router-advertisement`); needs `ip6-proto icmp`. */
  | { readonly kind: 'ip6-icmp'; readonly type: number; readonly code?: number };

export type BridgeTarget =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'return' }
  | { readonly kind: 'jump'; readonly chain: string }
  /** `-j arpreply --arpreply-mac <mac>`: answer an ARP request with this MAC. */
  | { readonly kind: 'arpreply'; readonly mac: string };

export interface IpRule {
  readonly family: IpFamily;
  readonly matches: readonly IpMatch[];
  readonly target: IpTarget;
  /** Why the rule exists; written as `-m comment --comment` right before the target. */
  readonly comment: string;
}

export interface BridgeRule {
  readonly family: 'bridge';
  readonly matches: readonly BridgeMatch[];
  readonly target: BridgeTarget;
  /** Why the rule exists; ebtables has no comment match, so it is a `#` line above the rule. */
  readonly comment: string;
}

export type Rule = IpRule | BridgeRule;

export interface Chain<R extends Rule = Rule> {
  readonly name: string;
  readonly rules: readonly R[];
}

/** A jump from a built-in chain (FORWARD, PREROUTING, ...) into one of our chains. */
export interface IpHook {
  readonly family: IpFamily;
  readonly builtin: string;
  /** Matches before the jump (often none). */
  readonly matches: readonly IpMatch[];
  /** Our chain. */
  readonly target: string;
  readonly comment: string;
}

export interface BridgeHook {
  readonly family: 'bridge';
  readonly builtin: string;
  readonly matches: readonly BridgeMatch[];
  readonly target: string;
  readonly comment: string;
}

export type Hook = IpHook | BridgeHook;

/** The hook type that goes with a rule type. */
export type HookOf<R extends Rule> = R extends IpRule ? IpHook : BridgeHook;

export interface NetfilterTable<R extends Rule = Rule> {
  /** Our chains, each written in full on every change. */
  readonly chains: readonly Chain<R>[];
  /** Jumps from built-in chains into ours; ensured separately, first in their chain. */
  readonly hooks: readonly HookOf<R>[];
}

/** A rule, match or address of one family handed to a writer of another (a renderer bug, never data). */
export function familyMismatch(message: string): EdgenetError {
  return new EdgenetError('RULE_FAMILY_MISMATCH', message);
}

export const ACCEPT = { kind: 'accept' } as const;
export const DROP = { kind: 'drop' } as const;

export function jump(chain: string): { readonly kind: 'jump'; readonly chain: string } {
  return { kind: 'jump', chain };
}

/** An iptables/ip6tables rule; the comment is made safe for `-m comment`. */
export function ipRule(family: IpFamily, spec: { readonly matches?: readonly IpMatch[]; readonly target: IpTarget; readonly comment: string }): IpRule {
  return { family, matches: spec.matches ?? [], target: spec.target, comment: safeComment(spec.comment) };
}

/** An ebtables rule; the comment is made safe like an iptables one (it is only a `#` line). */
export function bridgeRule(matches: readonly BridgeMatch[], target: BridgeTarget, comment: string): BridgeRule {
  return { family: 'bridge', matches, target, comment: safeComment(comment) };
}

/** The rule a hook puts into its built-in chain. */
export function hookRule(hook: IpHook): IpRule;
export function hookRule(hook: BridgeHook): BridgeRule;
export function hookRule(hook: Hook): Rule;
export function hookRule(hook: Hook): Rule {
  const target = jump(hook.target);
  return hook.family === 'bridge'
    ? { family: 'bridge', matches: hook.matches, target, comment: hook.comment }
    : { family: hook.family, matches: hook.matches, target, comment: hook.comment };
}

/** The chain a rule jumps to, or undefined for a terminal target. */
export function jumpTarget(rule: Rule): string | undefined {
  return rule.target.kind === 'jump' ? rule.target.chain : undefined;
}

/** The ipsets a rule matches on. */
export function matchedSets(rule: Rule): string[] {
  const out: string[] = [];
  if (rule.family === 'bridge') return out;
  for (const m of rule.matches) if (m.kind === 'set') out.push(m.set);
  return out;
}
