import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_PROTOCOL_NUMBERS, ARGV_NAMED_PROTOCOLS, GNI_PROTOCOL_NUMBERS, apiProtocolName, gniProtocolName, icmpProtocol,
  protocolEntry, protocolHasPorts, protocolNumber,
} from '../../../src/shared/protocols.ts';
import { PROTOCOL_NUMBERS, protocolName } from '../../../src/shared/gni/model.ts';
import { parseRuleString } from '../../../src/shared/gni/rule-string.ts';
import { canonicalProtocol } from '../../../src/netd/netfilter/protocols.ts';
import { parsePermission, protocolName as ec2ProtocolName } from '../../../src/cloud-controller/services/permission.ts';

test('the table: /etc/protocols names map back to their numbers, any case, any alias', () => {
  assert.equal(protocolNumber('sctp'), 132);
  assert.equal(protocolNumber('IPv6-ICMP'), 58);
  assert.equal(protocolNumber('icmpv6'), 58);
  assert.equal(protocolNumber('hopopt'), 0);
  assert.equal(protocolNumber('all'), undefined, 'iptables "all" is not a protocol');
  assert.equal(protocolNumber('constructor'), undefined);
  assert.deepEqual(protocolEntry(58)?.names, ['ipv6-icmp', 'icmpv6']);
  assert.equal(protocolEntry(255), undefined);
});

test('each convention names sctp its own way (GNI: sctp; EC2 API and iptables argv: 132)', () => {
  assert.equal(gniProtocolName(132), 'sctp');
  assert.equal(apiProtocolName(132), '132');
  assert.equal(canonicalProtocol('sctp'), '132');
  assert.equal(canonicalProtocol('!SCTP'), '!132');
  assert.deepEqual({ ...GNI_PROTOCOL_NUMBERS }, { icmp: 1, tcp: 6, udp: 17, sctp: 132 });
  assert.deepEqual({ ...API_PROTOCOL_NUMBERS }, { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 });
  assert.deepEqual([...ARGV_NAMED_PROTOCOLS].sort(), ['icmp', 'tcp', 'udp']);
  assert.equal(GNI_PROTOCOL_NUMBERS['constructor'], undefined, 'no prototype keys');
});

test('ports and ICMP per family', () => {
  assert.deepEqual([6, 17, 132, 1, 58, 47].map(protocolHasPorts), [true, true, false, false, false, false], 'EC2 rules carry ports for tcp and udp only');
  assert.equal(icmpProtocol('ipv4'), 1);
  assert.equal(icmpProtocol('ipv6'), 58);
  assert.equal(protocolEntry(58)?.icmpOf, 'ipv6');
});

test('users read the table: GNI model and rule strings, netfilter canonical form, the CLC permission parser', () => {
  assert.equal(PROTOCOL_NUMBERS['sctp'], 132);
  assert.equal(protocolName(132), 'sctp');
  assert.equal(protocolName(47), '47');
  assert.equal(parseRuleString('-P sctp  -s 10.0.0.0/8')?.protocol, 132);
  assert.equal(parseRuleString('-P SCTP  -s 10.0.0.0/8')?.protocol, 132);
  assert.equal(parseRuleString('-P gre  -s 10.0.0.0/8'), undefined, 'rule strings name only the GNI protocols');
  assert.deepEqual(['6', 'TCP', '!17', '1', 'ipv6-icmp', '47', 'gre', '!ospfigp', 'bogus'].map((p) => canonicalProtocol(p)), ['tcp', 'tcp', '!udp', 'icmp', '58', '47', '47', '!89', 'bogus']);
  assert.deepEqual(['ipv6-icmp', '58', 'icmpv6', '!ipv6-icmp', 'icmp', 'tcp', '132'].map((p) => canonicalProtocol(p, 'ipv6')), ['ipv6-icmp', 'ipv6-icmp', 'ipv6-icmp', '!ipv6-icmp', '1', 'tcp', '132'], 'ip6tables-save prints 58 as ipv6-icmp, the ipv6 writer writes it so');
  assert.equal(ec2ProtocolName(17), 'udp');
  assert.equal(ec2ProtocolName(132), '132');
  assert.equal(parsePermission({ protocol: '132', cidr: '10.0.0.0/8' }, [132]).protocol, 132);
  assert.throws(() => parsePermission({ protocol: 'sctp', cidr: '10.0.0.0/8' }, [132]), /unknown protocol/, 'the EC2 API names only tcp, udp and icmp');
  assert.throws(() => parsePermission({ protocol: 'constructor', cidr: '10.0.0.0/8' }, [132]), /unknown protocol/);
  assert.deepEqual(parsePermission({ protocol: 'udp', port: '53', cidr: '10.0.0.0/8' }, []), { protocol: 17, fromPort: 53, toPort: 53, cidr: '10.0.0.0/8' });
});
