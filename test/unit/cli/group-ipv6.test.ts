/**
 * `edgenet group authorize|revoke` with IPv6 (issue 14): euca-authorize flags
 * pass through unchanged (`-P icmpv6 -t 128:-1 -s ::/0`), and rules print
 * with their protocol's name (`icmpv6 128:-1 from ::/0`, not "icmp").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliSandbox } from './cli-sandbox.ts';
import { startFakeClc } from './fake-clc.ts';
import { describeRule } from '../../../src/cli/commands/cloud-state.ts';

const { baseEnv, run } = cliSandbox('edgenet-cli-v6-');

const group = { id: 'sg-00000001', ownerId: '000000000001', name: 'web', description: '', createdAt: '2024-01-01T00:00:00.000Z', instances: 0 };
const echo = { protocol: 58, protocolName: 'icmpv6', icmpType: 128, icmpCode: -1, cidr: '::/0' };
const ssh6 = { protocol: 6, protocolName: 'tcp', fromPort: 22, toPort: 22, cidr: '2001:db8::/32' };

test('group authorize/revoke: IPv6 flags reach the API as given; rules print with icmpv6', { timeout: 60_000 }, async () => {
  const fake = await startFakeClc({
    'POST /v1/groups/web/authorize': { status: 200, body: { group: { ...group, rules: [echo, ssh6] }, changed: true, added: [echo] } },
    'POST /v1/groups/web/revoke': { status: 200, body: { group: { ...group, rules: [echo] }, changed: true, removed: [ssh6] } },
    'GET /v1/groups/web': { status: 200, body: { ...group, rules: [echo, ssh6] } },
    'POST /v1/groups/db/authorize': { status: 400, body: { error: { code: 'InvalidPermission.Malformed', message: "icmp is IPv4's ICMP and never matches the IPv6 source ::/0: use -P icmpv6 (58) for ICMPv6" } } },
  });
  const env = { ...baseEnv, EDGENET_URL: fake.url, EDGENET_TOKEN: 't' };
  try {
    const a = await run(['group', 'authorize', 'web', '-P', 'icmpv6', '-t', '128:-1', '-s', '::/0'], env);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'PERMISSION\tsg-00000001\tALLOWS\ticmpv6 128:-1 from ::/0\n');
    const r = await run(['group', 'revoke', 'web', '-P', 'tcp', '-p', '22', '-s', '2001:db8::/32'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'PERMISSION\tsg-00000001\tREVOKED\ttcp 22 from 2001:db8::/32\n');
    const s = await run(['group', 'show', 'web'], env);
    assert.match(s.stdout, /PERMISSION\tsg-00000001\ticmpv6 128:-1 from ::\/0\nPERMISSION\tsg-00000001\ttcp 22 from 2001:db8::\/32\n/);
    const bad = await run(['group', 'authorize', 'db', '-P', 'icmp', '-t', '8:0', '-s', '::/0'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /InvalidPermission\.Malformed/);
    assert.deepEqual(fake.seen.filter((x) => x.method === 'POST').map((x) => [x.path, x.body]), [
      ['/v1/groups/web/authorize', { protocol: 'icmpv6', icmp: '128:-1', cidr: '::/0' }],
      ['/v1/groups/web/revoke', { protocol: 'tcp', port: '22', cidr: '2001:db8::/32' }],
      ['/v1/groups/db/authorize', { protocol: 'icmp', icmp: '8:0', cidr: '::/0' }],
    ]);
  } finally {
    await fake.close();
  }
});

test('describeRule names the ICMP of the rule', () => {
  assert.equal(describeRule({ protocolName: 'icmpv6', icmpType: 1, icmpCode: 4, cidr: '2001:db8::/32' }), 'icmpv6 1:4 from 2001:db8::/32');
  assert.equal(describeRule({ protocolName: 'icmp', icmpType: 8, icmpCode: 0, cidr: '0.0.0.0/0' }), 'icmp 8:0 from 0.0.0.0/0');
  assert.equal(describeRule({ protocolName: 'icmpv6', sourceGroupId: 'sg-1', sourceGroupName: 'web' }), 'icmpv6 from group sg-1 (web)');
});
