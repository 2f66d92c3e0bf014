/**
 * rule-check with IPv6 (issue 14): exact IPv6 rules are accepted, inexact
 * ones refused with the same codes as IPv4, mixed families with RULE_FAMILY.
 * ICMPv6 type 255 is exact (ip6tables' icmp6 match has no "any" type: shown
 * on a real kernel by test/integration/netd-hardening-exactness-ipv6.test.ts),
 * so ICMPv6 takes types -1..255 where ICMP stops at 254.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRule } from '../../../src/shared/gni/rule-check.ts';
import type { GniRule } from '../../../src/shared/gni/model.ts';

const G = 'sg-0a0b0c0d';

test('exact IPv6 rules pass', () => {
  const ok: GniRule[] = [
    { protocol: 6, fromPort: 22, toPort: 22, cidr: '::/0' },
    { protocol: 17, fromPort: 0, toPort: 65535, cidr: '2001:db8::/32' },
    { protocol: 6, fromPort: 80, toPort: 80, cidr: '2001:db8::1/128' },
    { protocol: 6, fromPort: 80, toPort: 80, cidr: '2001:db8::1' }, // a bare address is /128, as a bare IPv4 address is /32
    { protocol: 132, cidr: 'fd00::/8' },
    { protocol: 58, icmpType: -1, icmpCode: -1, cidr: '::/0' },
    { protocol: 58, cidr: '::/0' }, // missing type/code = any, as for icmp
    { protocol: 58, icmpType: 128, icmpCode: -1, cidr: '::/0' },
    { protocol: 58, icmpType: 128, cidr: '::/0' },
    { protocol: 58, icmpType: 1, icmpCode: 4, cidr: '2001:db8::/32' },
    { protocol: 58, icmpType: 255, icmpCode: -1, cidr: '::/0' },
    { protocol: 58, icmpType: 255, icmpCode: 255, cidr: '::/0' },
    { protocol: 58, icmpType: 0, icmpCode: 0, cidr: '::/0' },
    { protocol: 58, icmpType: 128, icmpCode: -1, groupId: G, groupOwnerId: '000000000001' },
    { protocol: 1, icmpType: 8, icmpCode: 0, groupId: G, groupOwnerId: '000000000001' },
    // Before IPv6, 58 was a plain protocol number: with an IPv4 CIDR and no type/code it is still an exact IPv4 rule.
    { protocol: 58, cidr: '10.0.0.0/8' },
  ];
  for (const r of ok) assert.equal(checkRule(r), undefined, JSON.stringify(r));
});

test('inexact IPv6 rules are refused with the IPv4 codes, mixed families with RULE_FAMILY', () => {
  const bad: [GniRule, string][] = [
    [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '2001:db8::1/32' }, 'RULE_CIDR'], // host bits
    [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '2001:db8::/129' }, 'RULE_CIDR'],
    [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '2001:db8:::/32' }, 'RULE_CIDR'],
    [{ protocol: 6, fromPort: 22, toPort: 22, cidr: 'fe80::1%eth0' }, 'RULE_CIDR'],
    [{ protocol: 0, cidr: '::/0' }, 'RULE_PROTOCOL'],
    [{ protocol: 6, fromPort: 90, toPort: 80, cidr: '::/0' }, 'RULE_PORTS'],
    [{ protocol: 58, icmpType: 256, icmpCode: -1, cidr: '::/0' }, 'RULE_ICMP'],
    [{ protocol: 58, icmpType: -2, cidr: '::/0' }, 'RULE_ICMP'],
    [{ protocol: 58, icmpType: 128, icmpCode: 256, cidr: '::/0' }, 'RULE_ICMP'],
    [{ protocol: 58, icmpType: -1, icmpCode: 0, cidr: '::/0' }, 'RULE_ICMP'], // a code without a type = every type
    [{ protocol: 58, icmpCode: 3, cidr: '::/0' }, 'RULE_ICMP'],
    [{ protocol: 58, icmpType: 1.5, cidr: '::/0' }, 'RULE_ICMP'],
    [{ protocol: 58, fromPort: 1, toPort: 2, cidr: '::/0' }, 'RULE_FIELD_NOT_APPLICABLE'],
    [{ protocol: 132, icmpType: 1, cidr: '::/0' }, 'RULE_FIELD_NOT_APPLICABLE'],
    [{ protocol: 58, icmpType: 128, icmpCode: -1, cidr: '::/0', groupId: G }, 'RULE_SOURCE'],
    [{ protocol: 1, icmpType: 8, icmpCode: 0, cidr: '::/0' }, 'RULE_FAMILY'],
    [{ protocol: 1, icmpType: -1, icmpCode: -1, cidr: '2001:db8::/32' }, 'RULE_FAMILY'],
    [{ protocol: 1, cidr: '2001:db8::1' }, 'RULE_FAMILY'],
    [{ protocol: 58, icmpType: 128, icmpCode: -1, cidr: '0.0.0.0/0' }, 'RULE_FAMILY'],
    [{ protocol: 58, icmpType: -1, icmpCode: -1, cidr: '10.0.0.0/8' }, 'RULE_FAMILY'],
  ];
  for (const [r, want] of bad) assert.equal(checkRule(r)?.code, want, JSON.stringify(r));
  // ICMP keeps its IPv4 limit: 255 is "any" to iptables.
  assert.equal(checkRule({ protocol: 1, icmpType: 255, icmpCode: -1, cidr: '0.0.0.0/0' })?.code, 'RULE_ICMP');
  assert.match(checkRule({ protocol: 1, icmpType: 0, cidr: '::/0' })?.message ?? '', /icmpv6/);
});
