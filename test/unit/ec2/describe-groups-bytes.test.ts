/**
 * The exact bytes of DescribeSecurityGroups answers (issue 15), end to end
 * through the real endpoint (server.ts: SigV4, the handler, the XML writer,
 * the HTTP answer) on a real in-memory CloudState with deterministic ids
 * (test/unit/clc/fixture.ts), so any rewrite of the describe path for speed
 * must keep every byte: rules grouped per protocol and port range in stored
 * order, IPv4 and IPv6 ranges, ICMP type/code, a protocol number, source
 * groups of the caller's own and of another account, a rule naming a since
 * deleted group (no groupName), escaping (names and descriptions are printable ASCII), filters, names,
 * the admin's listing of every account and an empty answer. Only the request
 * id (a random UUID, same length) is replaced before comparing.
 *
 * Golden: test/golden/ec2/describe-security-groups.txt; UPDATE_GOLDEN=1
 * rewrites it (review the diff by hand: it is the EC2 wire format).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nullLogger } from '../../../src/shared/logger.ts';
import { startEc2Server } from '../../../src/cloud-controller/ec2/server.ts';
import { ADMIN_ACCOUNT_ID } from '../../../src/cloud-controller/services/accounts.ts';
import { ec2Call, type SigV4Credentials } from '../../helpers/sigv4-client.ts';
import { ec2Fixture, MIXED_PERMISSIONS, type Ec2Fixture } from './actions-harness.ts';
import type { Ec2Caller } from '../../../src/cloud-controller/ec2/contract.ts';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../golden/ec2/describe-security-groups.txt');
const UUID = /<requestId>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}<\/requestId>|<RequestID>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}<\/RequestID>/g;

/** A fixed state: groups and rules of every kind the describe answer has a shape for. */
async function populate(f: Ec2Fixture): Promise<void> {
  const create = async (caller: Ec2Caller, name: string, description: string) => {
    const r = await f.call(caller, 'CreateSecurityGroup', { GroupName: name, GroupDescription: description });
    return String(r.groupId);
  };
  await f.properties.set('cloud.network.ec2_classic_additional_protocols_allowed', '132');
  const web = await create(f.a, 'web', 'web <tier> & "front" \'end\' ]]> ~');
  await create(f.a, 'a&b<c>', 'markup in the name');
  const gone = await create(f.a, 'gone', 'deleted below');
  await create(f.b, 'db', 'databases');
  await f.call(f.a, 'AuthorizeSecurityGroupIngress', {
    GroupId: web,
    ...MIXED_PERMISSIONS,
    'IpPermissions.4.Groups.2.GroupName': 'gone',
    'IpPermissions.4.Groups.3.UserId': f.b.accountId,
    'IpPermissions.4.Groups.3.GroupName': 'db',
    'IpPermissions.5.IpProtocol': '132',
    'IpPermissions.5.IpRanges.1.CidrIp': '203.0.113.0/24',
  });
  // Interleaved with the first entry's port range: stored order decides the item order.
  await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupName: 'web', IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '172.16.0.0/12' });
  await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupName: 'a&b<c>', SourceSecurityGroupName: 'web' });
  await f.call(f.b, 'AuthorizeSecurityGroupIngress', { GroupName: 'db', IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, SourceSecurityGroupName: 'web', SourceSecurityGroupOwnerId: f.a.accountId });
  await f.call(f.a, 'DeleteSecurityGroup', { GroupId: gone });
}

test('DescribeSecurityGroups answers are byte-identical to the golden file', async () => {
  const f = await ec2Fixture();
  const server = await startEc2Server({ host: '127.0.0.1', port: 0, state: f.state, logger: nullLogger(), now: () => Date.now(), rateLimit: 0 });
  try {
    await populate(f);
    const adminKey = await f.state.createAccessKey(ADMIN_ACCOUNT_ID);
    const keyOf = async (accountId: string): Promise<SigV4Credentials> => {
      const k = await f.state.createAccessKey(accountId);
      return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey };
    };
    const tenantA = await keyOf(f.a.accountId);
    const tenantB = await keyOf(f.b.accountId);
    const admin = { accessKeyId: adminKey.accessKeyId, secretAccessKey: adminKey.secretAccessKey };
    const cases: [string, SigV4Credentials, [string, string][]][] = [
      ['tenant a, all', tenantA, []],
      ['tenant b, all', tenantB, []],
      ['admin, all accounts', admin, []],
      ['tenant a, by id and name', tenantA, [['GroupName.1', 'a&b<c>'], ['GroupId.1', f.a.defaultGroupId]]],
      ['tenant a, filter', tenantA, [['Filter.1.Name', 'ip-permission.cidr'], ['Filter.1.Value.1', '10.*']]],
      ['tenant a, nothing matches', tenantA, [['Filter.1.Name', 'group-name'], ['Filter.1.Value.1', 'none']]],
      ['tenant a, unknown group', tenantA, [['GroupName.1', 'nope']]],
    ];
    let text = '';
    for (const [label, credentials, extra] of cases) {
      const r = await ec2Call({ endpoint: server.url, credentials, params: [['Action', 'DescribeSecurityGroups'], ['Version', '2016-11-15'], ...extra] });
      const body = r.body.replace(UUID, (m) => m.replace(/[0-9a-f-]{36}/, 'REQUEST-ID-REQUEST-ID-REQUEST-ID-XXX'));
      assert.equal(Buffer.byteLength(body), Buffer.byteLength(r.body));
      text += `### ${label}\n${r.status} ${r.headers['content-type']} ${r.headers['content-length']} ${r.headers['cache-control']}\n${body}\n`;
    }
    if (process.env['UPDATE_GOLDEN'] === '1') {
      mkdirSync(path.dirname(GOLDEN), { recursive: true });
      writeFileSync(GOLDEN, text);
    }
    assert.equal(text, readFileSync(GOLDEN, 'utf8'));
  } finally {
    await server.close();
    await f.close();
  }
});
