/**
 * Eucalyptus 4.0–4.3 security-group rule strings (`<rules><value>…</value></rules>`,
 * removed in 4.4 by EUCA-12784), as `NetworkInfoBroadcaster.explodeRules`
 * wrote them (eucalyptus-edge.md §2.3): `-P <proto> -p <lo>-<hi>` or
 * `-P icmp -t <type>:<code>`, then ` -s <cidr>` or ` -o <groupId> -u <owner>`.
 * The parser maps them to ingress rules when a group has no `ingressRules`.
 */
import type { GniRule } from './model.ts';
import { PROTOCOL_NUMBERS } from './model.ts';

const RULE_STRING = /^-P\s+(\S+)\s+(?:-p\s+(-?\d+)-(-?\d+)|-t\s+(-?\d+):(-?\d+))?\s*(?:-s\s+(\S+)|-o\s+(\S+)\s+-u\s+(\S+))\s*$/;

/**
 * Eucalyptus 4.0 rule string → rule: `-P tcp -p 22-22  -s 0.0.0.0/0`,
 * `-P icmp -t -1:-1  -o sg-… -u 000000000001` (eucalyptus-edge.md §2.3).
 */
export function parseRuleString(s: string): GniRule | undefined {
  const m = RULE_STRING.exec(s.trim());
  if (m === null) return undefined;
  const protoText = (m[1] ?? '').toLowerCase();
  const protocol = PROTOCOL_NUMBERS[protoText] ?? (/^-?\d{1,3}$/.test(protoText) ? Number(protoText) : undefined);
  if (protocol === undefined) return undefined;
  const n = (x: string | undefined) => (x === undefined ? undefined : Number(x));
  const fromPort = n(m[2]);
  const toPort = n(m[3]);
  const icmpType = n(m[4]);
  const icmpCode = n(m[5]);
  return {
    protocol,
    ...(fromPort === undefined ? {} : { fromPort }),
    ...(toPort === undefined ? {} : { toPort }),
    ...(icmpType === undefined ? {} : { icmpType }),
    ...(icmpCode === undefined ? {} : { icmpCode }),
    ...(m[6] === undefined ? {} : { cidr: m[6] }),
    ...(m[7] === undefined ? {} : { groupId: m[7], groupOwnerId: m[8] ?? '' }),
  };
}
