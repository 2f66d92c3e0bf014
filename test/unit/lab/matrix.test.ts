import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectVerdict, describeRule, type MatrixGroup } from '../../../src/lab/matrix.ts';

const groups: MatrixGroup[] = [
  { id: 'sg-web', name: 'web', rules: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }] },
  {
    id: 'sg-db',
    name: 'db',
    rules: [
      { protocol: 6, fromPort: 5432, toPort: 5432, sourceGroupId: 'sg-web', sourceGroupOwnerId: 'a' },
      { protocol: 1, icmpType: -1, icmpCode: -1, cidr: '10.111.0.0/16' },
      { protocol: 6, fromPort: 8000, toPort: 8002, cidr: '10.111.103.30/32' },
    ],
  },
];
const web = { name: 'web1', groups: ['sg-web'] };
const db = { name: 'db1', groups: ['sg-db'] };
const client = { name: 'client', groups: [] };

test('same group admits everything', () => {
  const v = expectVerdict({ groups, src: web, dst: { name: 'web2', groups: ['sg-web'] }, seenSourceIp: '10.111.103.30', service: { proto: 'tcp', port: 22 } });
  assert.deepEqual(v, { allow: true, reason: 'same group web (members admit each other)' });
});

test('source-group, CIDR and port-range rules admit exactly what they say', () => {
  const from = (src: typeof web, ip: string, service: Parameters<typeof expectVerdict>[0]['service']) => expectVerdict({ groups, src, dst: db, seenSourceIp: ip, service });
  assert.equal(from(web, '10.111.103.30', { proto: 'tcp', port: 5432 }).reason, 'db admits tcp 5432 from group web');
  assert.equal(from(client, '203.0.113.2', { proto: 'tcp', port: 5432 }).allow, false);
  assert.equal(from(web, '10.111.103.30', { proto: 'icmp' }).reason, 'db admits icmp (any type) from 10.111.0.0/16');
  assert.equal(from(client, '203.0.113.2', { proto: 'icmp' }).allow, false);
  assert.equal(from(web, '10.111.103.30', { proto: 'tcp', port: 8002 }).reason, 'db admits tcp 8000-8002 from 10.111.103.30/32');
  assert.equal(from(web, '10.111.103.30', { proto: 'tcp', port: 8003 }).allow, false);
  assert.equal(from(web, '10.111.103.31', { proto: 'tcp', port: 8000 }).allow, false);
  assert.equal(from(web, '10.111.103.30', { proto: 'udp', port: 5432 }).allow, false);
});

test('nothing admits: the reason names the groups and the source', () => {
  const v = expectVerdict({ groups, src: db, dst: web, seenSourceIp: '10.111.103.32', service: { proto: 'tcp', port: 22 } });
  assert.deepEqual(v, { allow: false, reason: 'no rule of web admits tcp/22 from db1 (10.111.103.32)' });
});

test('a rule naming a group that no longer exists admits nothing', () => {
  const orphan: MatrixGroup[] = [{ id: 'sg-db', name: 'db', rules: [{ protocol: 6, fromPort: 22, toPort: 22, sourceGroupId: 'sg-gone' }] }];
  assert.equal(expectVerdict({ groups: orphan, src: { name: 'x', groups: ['sg-gone'] }, dst: db, seenSourceIp: '10.0.0.1', service: { proto: 'tcp', port: 22 } }).allow, false);
});

test('describeRule', () => {
  const name = (id: string) => id.replace('sg-', '');
  assert.equal(describeRule({ protocol: 6, fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0' }, name), 'tcp (all ports) from 0.0.0.0/0');
  assert.equal(describeRule({ protocol: 1, icmpType: 8, icmpCode: 0, sourceGroupId: 'sg-web' }, name), 'icmp type 8:0 from group web');
  assert.equal(describeRule({ protocol: 132 }, name), 'proto 132 from 0.0.0.0/0');
});

test('IPv6 verdicts: CIDR rules admit only their own family, source groups both, ICMP and ICMPv6 each their own', () => {
  const dual: MatrixGroup[] = [
    { id: 'sg-web', name: 'web', rules: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }, { protocol: 6, fromPort: 80, toPort: 80, cidr: '::/0' }] },
    {
      id: 'sg-db',
      name: 'db',
      rules: [
        { protocol: 6, fromPort: 5432, toPort: 5432, sourceGroupId: 'sg-web' },
        { protocol: 1, icmpType: -1, icmpCode: -1, cidr: '10.111.0.0/16' },
        { protocol: 58, icmpType: 128, icmpCode: -1, cidr: '2001:db8:10::/64' },
        { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' },
      ],
    },
  ];
  const v = (src: typeof web, ip: string, dst: typeof web, service: Parameters<typeof expectVerdict>[0]['service']) => expectVerdict({ groups: dual, src, dst, seenSourceIp: ip, service });
  const w6 = '2001:db8:10::d20d:aff:fe0b:c01';
  assert.equal(v(client, '2001:db8:ffff::2', web, { proto: 'tcp', port: 80 }).reason, 'web admits tcp 80 from ::/0');
  assert.equal(v(client, '203.0.113.2', web, { proto: 'tcp', port: 80 }).reason, 'web admits tcp 80 from 0.0.0.0/0');
  // 0.0.0.0/0 admits no IPv6 source.
  assert.equal(v(client, '2001:db8:ffff::2', db, { proto: 'tcp', port: 22 }).allow, false);
  // A source-group rule admits the members' IPv6 addresses.
  assert.equal(v(web, w6, db, { proto: 'tcp', port: 5432 }).reason, 'db admits tcp 5432 from group web');
  // ICMP (v4) does not admit an ICMPv6 echo; the ICMPv6 rule does, from its prefix only.
  assert.equal(v(web, w6, db, { proto: 'icmp' }).reason, 'db admits icmpv6 type 128 from 2001:db8:10::/64');
  assert.equal(v(web, '10.111.103.30', db, { proto: 'icmp' }).reason, 'db admits icmp (any type) from 10.111.0.0/16');
  const blocked = v(client, '2001:db8:ffff::2', db, { proto: 'icmp' });
  assert.deepEqual(blocked, { allow: false, reason: 'no rule of db admits icmpv6 from client (2001:db8:ffff::2)' });
  // Members of one group admit each other in IPv6 too.
  assert.equal(v(web, w6, { name: 'web2', groups: ['sg-web'] }, { proto: 'tcp', port: 22 }).allow, true);
});
