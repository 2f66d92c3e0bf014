/**
 * EC2 Query parameters (src/cloud-controller/ec2/query.ts): form decoding
 * as the clients encode, refusals of undecodable input, and the matcher of
 * declared names with `N` = a 1-based index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParamMatcher, decodeForm, matcherFor } from '../../../src/cloud-controller/ec2/query.ts';
import { formBody } from '../../helpers/sigv4-client.ts';

test('decodeForm: order kept, + is a space, %XX is UTF-8, empty segments skipped, a bare name has an empty value', () => {
  const d = decodeForm('Action=DescribeSecurityGroups&Version=2016-11-15&GroupName.1=a+b&GroupName.2=%C3%A9%2B%26%3D&&Flag&Empty=');
  assert.ok(d.ok);
  assert.deepEqual(d.pairs, [
    ['Action', 'DescribeSecurityGroups'],
    ['Version', '2016-11-15'],
    ['GroupName.1', 'a b'],
    ['GroupName.2', 'é+&='],
    ['Flag', ''],
    ['Empty', ''],
  ]);
});

test('decodeForm inverts what the clients write (botocore quoting, via the test signer)', () => {
  const values = ['plain', 'a b', 'x/y+z', '100%', 'ünïcødé ✓ 𝄞', '\u0001\u007f', '&=?#', ''];
  const pairs = values.map((v, i) => [`P.${i + 1}`, v] as const);
  const d = decodeForm(formBody(pairs));
  assert.ok(d.ok);
  assert.deepEqual(d.pairs, pairs);
});

test('decodeForm refuses broken escapes and bytes that are not UTF-8 instead of altering them', () => {
  for (const bad of ['A=%', 'A=%G1', 'A=%4', 'A=%FF', 'A=%C3', '%ZZ=1', 'A=%ED%A0%80']) {
    const d = decodeForm(bad);
    assert.equal(d.ok, false, bad);
  }
});

test('the matcher: exact names, N = a 1-based index without leading zeros, case-sensitive', () => {
  const m = new ParamMatcher(['GroupName', 'GroupId.N', 'IpPermissions.N.IpRanges.N.CidrIp', 'Filter.N.Name', 'Filter.N.Value.N']);
  for (const yes of ['GroupName', 'GroupId.1', 'GroupId.42', 'IpPermissions.3.IpRanges.12.CidrIp', 'Filter.1.Name', 'Filter.2.Value.7', 'GroupId.999999']) assert.equal(m.matches(yes), true, yes);
  for (const no of [
    'groupname', 'GroupName.1', 'GroupId', 'GroupId.0', 'GroupId.01', 'GroupId.N', 'GroupId.1.', 'GroupId.-1', 'GroupId.1e3', 'GroupId.1000000',
    'IpPermissions.1.IpRanges.CidrIp', 'IpPermissions.1.IpRanges.1.CidrIpv6', 'IpPermissionsX1.IpRanges.1.CidrIp', 'Filter.1.Value', 'Filter.1.Name.1', 'Action', '',
  ]) {
    assert.equal(m.matches(no), false, no);
  }
});

test('a dot in a declared name is literal, not a regex wildcard', () => {
  const m = new ParamMatcher(['Placement.AvailabilityZone', 'A.N']);
  assert.equal(m.matches('Placement.AvailabilityZone'), true);
  assert.equal(m.matches('PlacementXAvailabilityZone'), false);
  assert.equal(m.matches('AX1'), false);
});

test('matcherFor compiles a declared list once', () => {
  const declared = ['X.N'];
  assert.equal(matcherFor(declared), matcherFor(declared));
  assert.notEqual(matcherFor(declared), matcherFor(['X.N']));
});
