/**
 * Security groups with IPv6 (issue 14): the API takes IPv6 CIDRs and icmpv6
 * with euca-authorize semantics and EC2 error codes, keys IPv6 CIDRs by their
 * RFC 5952 text (one rule per prefix, however it is spelled), refuses mixed
 * families, and the document carries each rule where shared/gni/ipv6.ts says
 * (IPv4 and both-family rules in `ingressRules`, IPv6-only rules in the
 * group's `ipv6` extension) — incrementally too: the snapshot cache and the
 * encoder see an IPv6 rule come and go, and a group back to IPv4-only rules
 * is written byte for byte as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { populated, rejectsCode, type Fixture } from './fixture.ts';
import { readSnapshot } from '../../../src/cloud-controller/snapshot/read-snapshot.ts';
import { snapshotReadInfo } from '../../../src/cloud-controller/snapshot/snapshot-cache.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { GniEncoder } from '../../../src/cloud-controller/gni/encoder.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { groupIpv6Rules, rulesForFamily } from '../../../src/shared/gni/ipv6.ts';
import { checkRule } from '../../../src/shared/gni/rule-check.ts';
import { parsePermission, ruleKey } from '../../../src/cloud-controller/services/permission.ts';
import type { CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';
import type { GniSecurityGroup } from '../../../src/shared/gni/model.ts';

const code = (f: () => unknown): string | undefined => {
  try { f(); return undefined; } catch (err) { return (err as { code?: string }).code; }
};

test('parsePermission: IPv6 CIDRs in RFC 5952 text, icmpv6 type:code, the default source of icmpv6 is ::/0', () => {
  assert.deepEqual(parsePermission({ protocol: 'tcp', port: '22', cidr: '::/0' }, []), { protocol: 6, fromPort: 22, toPort: 22, cidr: '::/0' });
  assert.deepEqual(parsePermission({ protocol: 'tcp', port: '22', cidr: '2001:DB8:0:0::/32' }, []).cidr, '2001:db8::/32');
  assert.deepEqual(parsePermission({ protocol: 'icmpv6', icmp: '128:-1' }, []), { protocol: 58, icmpType: 128, icmpCode: -1, cidr: '::/0' });
  assert.deepEqual(parsePermission({ protocol: '58', icmp: '1:4', cidr: '2001:db8::/32' }, []), { protocol: 58, icmpType: 1, icmpCode: 4, cidr: '2001:db8::/32' });
  assert.deepEqual(parsePermission({ protocol: 58, icmpType: 135 }, []), { protocol: 58, icmpType: 135, icmpCode: -1, cidr: '::/0' });
  // 255 is exact in ip6tables (its icmp6 match has no "any" type), unlike IPv4's icmp.
  assert.deepEqual(parsePermission({ protocol: 'icmpv6', icmp: '255:3' }, []), { protocol: 58, icmpType: 255, icmpCode: 3, cidr: '::/0' });
  assert.deepEqual(parsePermission({ protocol: 'icmpv6', sourceGroup: 'web' }, []), { protocol: 58, icmpType: -1, icmpCode: -1, sourceGroup: 'web' });
  assert.deepEqual(parsePermission({ protocol: 'icmp', icmp: '8:0', sourceGroup: 'web' }, []), { protocol: 1, icmpType: 8, icmpCode: 0, sourceGroup: 'web' });
  assert.deepEqual(parsePermission({ protocol: 132, cidr: '2001:db8:1::/48' }, [132]), { protocol: 132, cidr: '2001:db8:1::/48' });
  // What the API accepts, netd renders exactly.
  for (const p of [
    parsePermission({ protocol: 'icmpv6', icmp: '-1:-1' }, []), parsePermission({ protocol: 'icmpv6', icmp: '255:255' }, []),
    parsePermission({ protocol: 'icmpv6', icmp: '0:0', cidr: '2001:db8::1/128' }, []), parsePermission({ protocol: 'udp', port: '-1', cidr: '::/0' }, []),
  ]) assert.equal(checkRule(p), undefined, JSON.stringify(p));
});

test('parsePermission: bad IPv6 values and mixed families get EC2 codes', () => {
  const bad: [Parameters<typeof parsePermission>[0], string][] = [
    [{ protocol: 'tcp', port: '22', cidr: '2001:db8::1/32' }, 'InvalidParameterValue'], // host bits
    [{ protocol: 'tcp', port: '22', cidr: '2001:db8::/129' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '22', cidr: '2001:db8:::/32' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '22', cidr: 'fe80::1%eth0/64' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '22', cidr: '2001:db8::' }, 'InvalidParameterValue'], // no prefix length
    [{ protocol: 'icmpv6', icmp: '256:0' }, 'InvalidParameterValue'],
    [{ protocol: 'icmpv6', icmp: '128:256' }, 'InvalidParameterValue'],
    [{ protocol: 'icmpv6', icmp: '-1:0' }, 'InvalidParameterValue'], // a code without a type
    [{ protocol: 'icmpv6', icmp: 'echo' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'icmpv6' }, 'InvalidPermission.Malformed'], // needs -t, like icmp
    [{ protocol: 'icmpv6', port: '22', cidr: '::/0' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'icmp', icmp: '8:0', cidr: '::/0' }, 'InvalidPermission.Malformed'], // icmp is IPv4's
    [{ protocol: 'icmpv6', icmp: '128:0', cidr: '0.0.0.0/0' }, 'InvalidPermission.Malformed'], // icmpv6 is IPv6's
    [{ protocol: '58', icmp: '128:0', cidr: '10.0.0.0/8' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'tcp', port: '22', cidr: '::/0', sourceGroup: 'web' }, 'InvalidPermission.Malformed'],
  ];
  for (const [input, want] of bad) assert.equal(code(() => parsePermission(input, [58])), want, JSON.stringify(input));
  // The messages say which family each protocol belongs to.
  assert.throws(() => parsePermission({ protocol: 'icmp', icmp: '8:0', cidr: '::/0' }, []), /icmpv6/);
  assert.throws(() => parsePermission({ protocol: 'icmpv6', icmp: '128:0', cidr: '10.0.0.0/8' }, []), /IPv4 source 10\.0\.0\.0\/8/);
});

test('authorize/revoke IPv6 rules: one rule per prefix however it is spelled, Duplicate in one request, NotFound on revoke', async () => {
  const f = await populated();
  const a = await f.state.authorize('web', undefined, { protocol: 'tcp', port: '22', cidr: '2001:DB8::/32' });
  assert.equal(a.changed, true);
  assert.deepEqual(a.added?.map((r) => [r.protocolName, r.fromPort, r.cidr]), [['tcp', 22, '2001:db8::/32']]);
  f.changes.length = 0;
  const same = await f.state.authorize('web', undefined, { protocol: 'tcp', port: '22', cidr: '2001:db8:0::/32' });
  assert.equal(same.changed, false, 'the same prefix in another spelling is the same rule');
  assert.equal(f.changes.length, 0);
  await rejectsCode(
    f.state.authorize('web', undefined, { permissions: [{ protocol: 'tcp', port: '80', cidr: '2001:DB8::/32' }, { protocol: 'tcp', port: '80', cidr: '2001:db8:0:0:0::/32' }] }),
    'InvalidPermission.Duplicate',
  );
  await f.state.authorize('web', undefined, { protocol: 'icmpv6', icmp: '128:-1', cidr: '::/0' });
  await f.state.authorize('web', undefined, { protocol: 'icmpv6', sourceGroup: 'web' });
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '22', cidr: '0.0.0.0/0' });
  const before = (await f.state.getGroup('web')).rules.length;
  await rejectsCode(f.state.authorize('web', undefined, { protocol: 'icmp', icmp: '8:0', cidr: '2001:db8::/32' }), 'InvalidPermission.Malformed');
  await rejectsCode(f.state.authorize('web', undefined, { permissions: [{ protocol: 'tcp', port: '443', cidr: '::/0' }, { protocol: 'icmpv6', icmp: '1:0', cidr: '10.0.0.0/8' }] }), 'InvalidPermission.Malformed');
  const g = await f.state.getGroup('web');
  assert.equal(g.rules.length, before, 'a refused request changes nothing');
  assert.deepEqual(
    g.rules.map((r) => [r.protocolName, r.fromPort ?? r.icmpType, r.toPort ?? r.icmpCode, r.cidr ?? r.sourceGroupName]),
    [['tcp', 22, 22, '2001:db8::/32'], ['icmpv6', 128, -1, '::/0'], ['icmpv6', -1, -1, 'web'], ['tcp', 22, 22, '0.0.0.0/0']],
  );

  // Revoke in another spelling; a second revoke finds nothing.
  await f.state.revoke('web', undefined, { protocol: 'tcp', port: '22', cidr: '2001:0db8::/32' });
  await rejectsCode(f.state.revoke('web', undefined, { protocol: 'tcp', port: '22', cidr: '2001:db8::/32' }), 'InvalidPermission.NotFound');
  await f.state.revoke('web', undefined, { protocol: '58', icmp: '128:-1' });
  await f.state.revoke('web', undefined, { protocol: 'icmpv6', sourceGroup: 'web' });
  assert.deepEqual((await f.state.getGroup('web')).rules.map((r) => r.cidr), ['0.0.0.0/0']);
  await f.close();
});

test('a protocol-58 rule stored before IPv6 (a plain protocol number, no type/code) can still be revoked', async () => {
  const f = await populated();
  const webId = f.webId;
  const legacy = [
    { rule_key: ruleKey({ protocol: 58, cidr: '10.0.0.0/8' }), cidr: '10.0.0.0/8', source_group_id: null, source_group_owner_id: null },
    { rule_key: ruleKey({ protocol: 58, sourceGroupId: webId }), cidr: null, source_group_id: webId, source_group_owner_id: '000000000001' },
  ];
  await f.store.write(async (tx) => {
    for (const l of legacy) {
      await tx.db.insertInto('group_rules').values({ group_id: webId, protocol: 58, from_port: null, to_port: null, icmp_type: null, icmp_code: null, created_at: 0, ...l }).execute();
    }
    tx.changed({ kind: 'rule', id: webId });
  });
  const listed = (await f.state.getGroup('web')).rules;
  assert.deepEqual(listed.map((r) => [r.protocolName, r.icmpType, r.cidr ?? r.sourceGroupId]), [['icmpv6', undefined, '10.0.0.0/8'], ['icmpv6', undefined, webId]]);
  // Authorizing that shape is refused now; revoking it works (-P 58 -s <IPv4>, no -t; -P 58 -o group, no -t).
  await rejectsCode(f.state.authorize('web', undefined, { protocol: '58', cidr: '10.0.0.0/8' }), 'InvalidPermission.Malformed');
  await f.state.revoke('web', undefined, { protocol: '58', cidr: '10.0.0.0/8' });
  await f.state.revoke('web', undefined, { protocol: 'icmpv6', sourceGroup: 'web' });
  assert.deepEqual((await f.state.getGroup('web')).rules, []);
  await f.close();
});

const CLC_IP = '10.0.0.1';

/** The document the broadcaster's encoder builds (kept across calls) equals a from-scratch build, byte for byte. */
function checkedBuild(encoder: GniEncoder, snapshot: CloudSnapshot, truth: CloudSnapshot, step: string): string {
  const text = encoder.build(snapshot).encode(3).toString('utf8');
  assert.equal(text, serializeGni(buildGni(structuredClone(truth), { sequence: 3 })), `incremental = from scratch after ${step}`);
  return text;
}

function groupOf(text: string, id: string): GniSecurityGroup {
  const parsed = parseGni(text);
  assert.ok(parsed.ok, 'the document reads');
  const g = parsed.value.securityGroups.find((x) => x.name === id);
  assert.ok(g, `group ${id} in the document`);
  return g;
}

async function truthOf(f: Fixture): Promise<CloudSnapshot> {
  return f.store.read((db) => readSnapshot(db, CLC_IP));
}

test('the document: IPv6-only rules in the ipv6 extension, both-family rules in ingressRules; the cache and the encoder follow an IPv6 rule in and out', async () => {
  const f = await populated();
  const db = await f.state.createGroup({ name: 'db' });
  await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['db'] });
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '80', cidr: '0.0.0.0/0' });
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '5432', sourceGroup: 'db' });
  const encoder = new GniEncoder();
  const s0 = await f.state.snapshot();
  const ipv4Only = checkedBuild(encoder, s0, await truthOf(f), 'start');
  assert.equal(groupOf(ipv4Only, f.webId).extensions, undefined, 'an IPv4-only group has no extension');
  assert.doesNotMatch(ipv4Only, /edgenet:extension/);

  // An IPv6 rule: one group re-read, the document gains the extension on that group only.
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '443', cidr: '2001:DB8::/32' });
  const s1 = await f.state.snapshot();
  assert.deepEqual(snapshotReadInfo(s1), { kind: 'incremental', reason: 'rules of 1 group(s)', instances: 0, groups: 1 });
  const withV6 = checkedBuild(encoder, s1, await truthOf(f), 'authorize IPv6');
  const web = groupOf(withV6, f.webId);
  assert.deepEqual(web.ingressRules, groupOf(ipv4Only, f.webId).ingressRules, 'ingressRules unchanged');
  assert.deepEqual(groupIpv6Rules(web), { rules: [{ protocol: 6, fromPort: 443, toPort: 443, cidr: '2001:db8::/32' }], unreadable: [] });
  assert.match(withV6, /<edgenet:value>-P 6 -p 443-443 -s 2001:db8::\/32<\/edgenet:value>/);
  assert.equal(groupOf(withV6, db.id).extensions, undefined);

  // ICMPv6 from a group goes to the extension; icmp from a group stays in ingressRules; IPv6 renders both-family rules too.
  await f.state.authorize('web', undefined, { permissions: [{ protocol: 'icmpv6', icmp: '128:-1', sourceGroup: 'db' }, { protocol: 'icmp', icmp: '8:-1', sourceGroup: 'db' }, { protocol: 'icmpv6', icmp: '135:0', cidr: 'fd00::/8' }] });
  const s2 = await f.state.snapshot();
  const all = groupOf(checkedBuild(encoder, s2, await truthOf(f), 'authorize ICMPv6'), f.webId);
  const v6 = groupIpv6Rules(all).rules;
  assert.deepEqual(v6, [
    { protocol: 6, fromPort: 443, toPort: 443, cidr: '2001:db8::/32' },
    { protocol: 58, icmpType: 128, icmpCode: -1, groupId: db.id, groupOwnerId: '000000000001' },
    { protocol: 58, icmpType: 135, icmpCode: 0, cidr: 'fd00::/8' },
  ], 'sorted as ingressRules are: protocol, ports, icmp type/code, then source');
  assert.deepEqual(all.ingressRules.map((r) => [r.protocol, r.fromPort ?? r.icmpType, r.cidr ?? r.groupId]), [[1, 8, db.id], [6, 80, '0.0.0.0/0'], [6, 5432, db.id]]);
  assert.deepEqual(rulesForFamily('ipv6', all.ingressRules, v6).map((r) => [r.protocol, r.fromPort ?? r.icmpType, r.cidr ?? r.groupId]).sort(), [
    [58, 128, db.id], [58, 135, 'fd00::/8'], [6, 443, '2001:db8::/32'], [6, 5432, db.id],
  ].sort(), 'IPv6: the extension plus the non-ICMP source-group rules');
  assert.deepEqual(rulesForFamily('ipv4', all.ingressRules, v6), [...all.ingressRules]);
  for (const r of [...all.ingressRules, ...v6]) assert.equal(checkRule(r), undefined, `every rule the CLC writes is exact: ${JSON.stringify(r)}`);

  // Revoking the IPv6-only rules: the group is written exactly as before.
  await f.state.revoke('web', undefined, { permissions: [{ protocol: 'tcp', port: '443', cidr: '2001:db8::/32' }, { protocol: 'icmpv6', icmp: '128:-1', sourceGroup: 'db' }, { protocol: 'icmpv6', icmp: '135:0', cidr: 'fd00::/8' }, { protocol: 'icmp', icmp: '8:-1', sourceGroup: 'db' }] });
  const s3 = await f.state.snapshot();
  assert.equal(snapshotReadInfo(s3)?.kind, 'incremental');
  const back = checkedBuild(encoder, s3, await truthOf(f), 'revoke IPv6');
  assert.equal(back, ipv4Only, 'back to IPv4-only rules: the same document, byte for byte');
  assert.equal(buildGni(s3).version, buildGni(s0).version, 'and the same content version');
  await f.close();
});
