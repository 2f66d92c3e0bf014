/**
 * The fake host behaves like the real tools where netd's tests rely on it:
 * a failed restore changes nothing, `-X` of a referenced chain fails, a set
 * in use cannot be destroyed, a rule on a missing set fails, and its save
 * output reads back through the shared parsers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost } from '../../helpers/fake-host.ts';
import { parseIptablesSave, parseIpsetSave } from '../../../src/netd/netfilter/index.ts';
import { ExecError } from '../../../src/shared/errors.ts';

test('a failing line rolls back the whole table transaction', async () => {
  const host = new FakeHost();
  await host.iptablesRestore('*filter\n:A - [0:0]\n-A A -j ACCEPT\nCOMMIT\n');
  const before = await host.iptablesSave('filter');
  await assert.rejects(host.iptablesRestore('*filter\n:A - [0:0]\n-A A -j DROP\n-A A -j NOPE\nCOMMIT\n'), (e: unknown) => e instanceof ExecError && /Error occurred at line: \d+/.test(e.stderr));
  assert.equal(await host.iptablesSave('filter'), before);
});

test('a referenced chain cannot be deleted; a set used by a rule cannot be destroyed or be missing', async () => {
  const host = new FakeHost();
  await assert.rejects(host.iptablesRestore('*filter\n:A - [0:0]\n-A A -m set --match-set S src -j ACCEPT\nCOMMIT\n'), /Set S doesn't exist/);
  await host.ipsetRestore('create S hash:ip\nadd S 10.0.0.1\n');
  await host.iptablesRestore('*filter\n:A - [0:0]\n-A A -m set --match-set S src -j ACCEPT\n-A FORWARD -j A\nCOMMIT\n');
  await assert.rejects(host.iptablesRestore('*filter\n:A - [0:0]\n-X A\nCOMMIT\n'), /referenced/);
  await assert.rejects(host.ipsetRestore('destroy S\n'), /in use/);
  const saved = parseIptablesSave(await host.iptablesSave('filter')).get('filter')!;
  assert.deepEqual(saved.chains.get('FORWARD')!.rules, [{ args: ['-j', 'A'], comment: '' }]);
  assert.deepEqual(parseIpsetSave(await host.ipsetSave()).get('S')!.members, ['10.0.0.1']);
});

test('-I inserts at the position, -D deletes by spec, writes are counted', async () => {
  const host = new FakeHost();
  await host.iptablesRestore('*filter\n:A - [0:0]\n:B - [0:0]\n-A FORWARD -j A\n-I FORWARD 1 -m comment --comment "x y" -j B\nCOMMIT\n');
  assert.deepEqual(host.iptables.filter.get('FORWARD')!.rules.map((r) => r.at(-1)), ['B', 'A']);
  await host.iptablesRestore('*filter\n-D FORWARD -m comment --comment "x y" -j B\nCOMMIT\n');
  assert.deepEqual(host.iptables.filter.get('FORWARD')!.rules.map((r) => r.at(-1)), ['A']);
  assert.equal(host.writeCount, 2);
});
