/**
 * EC2 parameter reading (ec2/params.ts) and filter semantics (ec2/filters.ts):
 * indexed members in index order with gaps, lists, integers, booleans,
 * exclusive parameters; filters AND'd, values OR'd, EC2's wildcards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { booleanParam, filtersOf, integerParam, listParam, members, oneOf, requireOneOf, requireParam } from '../../../src/cloud-controller/ec2/params.ts';
import { applyFilters, wildcard } from '../../../src/cloud-controller/ec2/filters.ts';
import { rejectsCode } from '../clc/fixture.ts';

const p = (o: Record<string, string>) => new Map(Object.entries(o));
const throwsCode = (fn: () => unknown, code: string) => rejectsCode(Promise.resolve().then(fn), code);

test('members and lists come in index order (gaps allowed, 0 and non-numbers are not indexes)', () => {
  const params = p({
    'GroupId.10': 'sg-0000000a',
    'GroupId.2': 'sg-00000002',
    'GroupId.0': 'ignored',
    'GroupId.x': 'ignored',
    'IpPermissions.2.IpProtocol': 'udp',
    'IpPermissions.1.IpProtocol': 'tcp',
    'IpPermissions.1.IpRanges.2.CidrIp': '10.2.0.0/16',
    'IpPermissions.1.IpRanges.1.CidrIp': '10.1.0.0/16',
  });
  assert.deepEqual(listParam(params, 'GroupId'), ['sg-00000002', 'sg-0000000a']);
  const perms = members(params, 'IpPermissions');
  assert.deepEqual(perms.map((e) => e.get('IpProtocol')), ['tcp', 'udp']);
  assert.deepEqual(members(perms[0]!, 'IpRanges').map((r) => r.get('CidrIp')), ['10.1.0.0/16', '10.2.0.0/16']);
  assert.deepEqual(listParam(params, 'Missing'), []);
});

test('typed values and required or exclusive parameters answer with EC2 codes', async () => {
  assert.equal(integerParam(p({ FromPort: '-1' }), 'FromPort'), -1);
  assert.equal(integerParam(p({}), 'FromPort'), undefined);
  await throwsCode(() => integerParam(p({ FromPort: '22.5' }), 'FromPort'), 'InvalidParameterValue');
  await throwsCode(() => integerParam(p({ FromPort: '' }), 'FromPort'), 'InvalidParameterValue');
  assert.equal(booleanParam(p({ X: 'True' }), 'X'), true);
  assert.equal(booleanParam(p({ X: 'false' }), 'X'), false);
  await throwsCode(() => booleanParam(p({ X: 'yes' }), 'X'), 'InvalidParameterValue');
  assert.equal(requireParam(p({ A: 'x' }), 'A'), 'x');
  await throwsCode(() => requireParam(p({ A: '' }), 'A'), 'MissingParameter');
  assert.deepEqual(oneOf(p({ B: '2' }), ['A', 'B']), { name: 'B', value: '2' });
  assert.equal(oneOf(p({}), ['A', 'B']), undefined);
  await throwsCode(() => oneOf(p({ A: '1', B: '2' }), ['A', 'B']), 'InvalidParameterCombination');
  await throwsCode(() => requireOneOf(p({}), ['A', 'B']), 'MissingParameter');
  assert.deepEqual(filtersOf(p({ 'Filter.2.Name': 'b', 'Filter.1.Name': 'a', 'Filter.1.Value.2': 'y', 'Filter.1.Value.1': 'x' })), [
    { name: 'a', values: ['x', 'y'] },
    { name: 'b', values: [] },
  ]);
  await throwsCode(() => filtersOf(p({ 'Filter.1.Value.1': 'x' })), 'MissingParameter');
});

test('wildcards: * any run, ? one character, \\ escapes; everything else literal and case-sensitive', () => {
  const cases: [string, string, boolean][] = [
    ['web*', 'web-1', true],
    ['web*', 'Web-1', false],
    ['*', '', true],
    ['w?b', 'web', true],
    ['w?b', 'wb', false],
    ['10.1.*', '10.1.0.0/16', true],
    ['10.1.*', '10.10.0.0/16', false],
    ['a.c', 'abc', false],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['(x)+[y]', '(x)+[y]', true],
  ];
  for (const [pattern, text, want] of cases) assert.equal(wildcard(pattern).test(text), want, `${pattern} ~ ${text}`);
});

test('filters: AND across filters, OR across an item\'s values and the filter\'s values; unknown names refused', async () => {
  const items = [
    { name: 'a', ports: [22, 80] },
    { name: 'b', ports: [443] },
    { name: 'c', ports: [] as number[] },
  ];
  const table = { name: (i: (typeof items)[number]) => i.name, port: (i: (typeof items)[number]) => i.ports };
  const names = (filters: { name: string; values: string[] }[]) => applyFilters(items, filters, table).map((i) => i.name);
  assert.deepEqual(names([]), ['a', 'b', 'c']);
  assert.deepEqual(names([{ name: 'port', values: ['80', '443'] }]), ['a', 'b']);
  assert.deepEqual(names([{ name: 'port', values: ['80', '443'] }, { name: 'name', values: ['b', 'c'] }]), ['b']);
  assert.deepEqual(names([{ name: 'port', values: [] }]), []);
  const err = await throwsCode(() => names([{ name: 'nope', values: ['x'] }]), 'InvalidParameterValue');
  assert.match(err.message, /The filter 'nope' is invalid/);
  await throwsCode(() => names([{ name: 'toString', values: ['x'] }]), 'InvalidParameterValue');
});
