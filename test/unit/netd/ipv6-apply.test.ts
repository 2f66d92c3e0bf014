/**
 * netd's IPv6 plumbing against the in-memory kernel (test/helpers/fake-host.ts):
 * ip6tables filter/nat and inet6 ipsets applied in the same incremental,
 * atomic way as IPv4 (one restore per table, only changed chains, zero writes
 * when nothing changed), sets created before and destroyed after the rules
 * using them, the sweep when the desired ip6tables tables are empty, the
 * bridge's IPv6 routes (ours by route protocol; others never touched), flush.
 * The state is hand-built (test/helpers/ipv6-state.ts), not rendered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost } from '../../helpers/fake-host.ts';
import { BRIDGE, INSTANCE6, PREFIX6, dualStackState, groupRules, ipv4OnlyState } from '../../helpers/ipv6-state.ts';
import type { DesiredState } from '../../../src/netd/render/types.ts';
import { observeHost } from '../../../src/netd/apply/observe.ts';
import { planSync } from '../../../src/netd/plan/plan.ts';
import { applySteps, ApplyError } from '../../../src/netd/apply/apply.ts';
import { describeStep, EDGENET_ROUTE_PROTOCOL, type Step } from '../../../src/netd/plan/steps.ts';
import { flushHost } from '../../../src/netd/flush.ts';
import { parseIpsetSave, parseIptablesSave } from '../../../src/netd/netfilter/index.ts';

const isOurs = (n: string) => n.startsWith('EN-');
const RUN = '/run/en';

function newHost(): FakeHost {
  return new FakeHost({ links: [{ name: BRIDGE, isBridge: true, mac: '02:00:00:00:00:aa', macPinned: true }, { name: 'vn_i-b', master: BRIDGE, hairpin: true }] });
}

async function plan(host: FakeHost, desired: DesiredState): Promise<Step[]> {
  const observed = await observeHost(host, { sysctlKeys: [], publicInterface: '', runDir: RUN, processes: [], bridge: BRIDGE, privateInterface: '' });
  return [...planSync(desired, observed, { full: false, isOurs }).steps];
}

/** One sync: observe, plan, apply; returns the writes it issued. */
async function sync(host: FakeHost, desired: DesiredState): Promise<{ op: string; input: string }[]> {
  const before = host.writes.length;
  let t = 0;
  await applySteps(await plan(host, desired), { host, runDir: RUN, now: () => (t += 1), wait: async () => undefined });
  return host.writes.slice(before);
}

const chainsOf = async (host: FakeHost, table: 'filter' | 'nat') => [...(parseIptablesSave(await host.ip6tablesSave(table), 'ipv6').get(table)?.chains.keys() ?? [])];

test('dual stack: ip6tables filter and nat, inet6 sets, ebtables filter and the bridge route are applied; a second sync writes nothing', async () => {
  const host = newHost();
  const writes = await sync(host, dualStackState());
  assert.deepEqual(writes.map((w) => w.op), ['ipset-restore', 'iptables-restore', 'ip6tables-restore', 'ip6tables-restore', 'ebtables-restore', 'route6-replace']);
  assert.deepEqual(await chainsOf(host, 'filter'), ['INPUT', 'FORWARD', 'OUTPUT', 'EN-FWD', 'EN-ND', 'EN-sg-a']);
  assert.deepEqual(await chainsOf(host, 'nat'), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'EN-PRE']);
  const sets = parseIpsetSave(await host.ipsetSave());
  assert.deepEqual(sets.get('EN-sg-a-6')?.options.slice(0, 2), ['family', 'inet6']);
  assert.deepEqual(sets.get('EN-sg-a-6')?.members, [INSTANCE6, '2001:db8:99::/48'], 'the fake lists members as written; the planner compares them canonically');
  assert.deepEqual((await host.hostReads(EDGENET_ROUTE_PROTOCOL)).routes6, [{ dst: PREFIX6, dev: BRIDGE }]);
  const filter6 = host.ip6tables.filter;
  assert.match(filter6.get('FORWARD')!.rules[0]!.join(' '), /-j EN-FWD$/);
  assert.ok(filter6.get('EN-ND')!.rules[0]!.includes('0x30=0x20010db8&&0x34=0x100000&&0x38=0xd20d00ff&&0x3c=0xfe00000b'), 'nd-target written as u32');
  assert.match(host.ebtables.filter.get('OUTPUT')!.rules[0]!.join(' '), /-j EN-EB-OUT$/);

  assert.deepEqual(await sync(host, dualStackState()), [], 'a converged dual-stack node: zero writes');
  assert.deepEqual(await plan(host, dualStackState()), [], 'and an empty plan');
});

test('a changed v6 group chain rewrites only that chain, in one ip6tables filter restore', async () => {
  const host = newHost();
  await sync(host, dualStackState());
  const writes = await sync(host, dualStackState({ group: groupRules([22, 443]) }));
  assert.deepEqual(writes.map((w) => w.op), ['ip6tables-restore']);
  const text = writes[0]!.input;
  assert.match(text, /^\*filter\n:EN-sg-a - \[0:0\]\n/);
  assert.doesNotMatch(text, /EN-FWD|EN-ND|\*nat/, 'no other chain, no other table');
  assert.equal((text.match(/^-A EN-sg-a /gm) ?? []).length, 4);
  assert.deepEqual(await sync(host, dualStackState({ group: groupRules([22, 443]) })), []);
});

test('a changed inet6 set is refilled alone; an ip6tables nat change writes only nat', async () => {
  const host = newHost();
  await sync(host, dualStackState());
  const s = dualStackState();
  const more: DesiredState = { ...s, ipsets: s.ipsets.map((x) => (x.name === 'EN-sg-a-6' ? { ...x, members: [...x.members, '2001:db8:10::1'] } : x)) };
  const w1 = await sync(host, more);
  assert.deepEqual(w1.map((w) => w.op), ['ipset-restore']);
  assert.match(w1[0]!.input, /create EN-sg-a-6-T hash:net family inet6 /);
  const w2 = await sync(host, { ...dualStackState({ metadataTo: 'fd00:172:31::3' }), ipsets: more.ipsets });
  assert.deepEqual(w2.map((w) => w.op), ['ip6tables-restore']);
  assert.match(w2[0]!.input, /^\*nat\n:EN-PRE - \[0:0\]\n-A EN-PRE -d fd00:ec2::254\/128 -p tcp -m tcp --dport 80 .*--to-destination "?\[fd00:172:31::3\]:8773"?\n/);
});

test('dual stack → IPv4 only sweeps every IPv6 object: chains, hooks, inet6 sets (after the rules), the route; then nothing more', async () => {
  const host = newHost();
  await sync(host, dualStackState());
  const steps = await plan(host, ipv4OnlyState());
  assert.deepEqual(steps.map((s) => s.kind), ['ip6tables-write', 'ip6tables-write', 'ebtables-write', 'ipset-destroy', 'route6-del']);
  assert.deepEqual(steps.map(describeStep), [
    'ip6tables filter: unhook 1 delete EN-FWD EN-ND EN-sg-a',
    'ip6tables nat: unhook 1 delete EN-PRE',
    'ebtables filter: unhook 1 delete EN-EB-OUT',
    'ipset destroy EN-sg-a-6',
    `route -6 del ${PREFIX6} dev ${BRIDGE}`,
  ]);
  await sync(host, ipv4OnlyState());
  assert.deepEqual(await chainsOf(host, 'filter'), ['INPUT', 'FORWARD', 'OUTPUT']);
  assert.deepEqual(await chainsOf(host, 'nat'), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
  for (const t of ['filter', 'nat'] as const) for (const [, c] of host.ip6tables[t]) assert.deepEqual(c.rules, []);
  assert.deepEqual([...host.ipsets.keys()], ['EN-sg-a']);
  assert.deepEqual(host.routes6List, []);
  assert.ok(host.iptables.filter.has('EN-FWD'), 'the IPv4 rules stay');
  assert.deepEqual(await sync(host, ipv4OnlyState()), [], 'an IPv4-only node: zero writes, also for ip6tables');
});

test('an IPv4-only state on a fresh host issues no ip6tables write at all', async () => {
  const host = newHost();
  const writes = await sync(host, ipv4OnlyState());
  assert.ok(writes.every((w) => !w.op.startsWith('ip6tables') && !w.op.startsWith('route6')), writes.map((w) => w.op).join(' '));
});

test('routes: only ours (by route protocol) are replaced and removed; a moved prefix is deleted and the new one added', async () => {
  const host = newHost();
  host.routes6List.push({ dst: '2001:db8:77::/64', dev: BRIDGE, proto: 4 }, { dst: 'fd00:172:31::/64', dev: BRIDGE, proto: 2 });
  await sync(host, dualStackState());
  const steps = await plan(host, dualStackState({ routes: ['2001:db8:20::/64'] }));
  assert.deepEqual(steps.map(describeStep), [`route -6 del ${PREFIX6} dev ${BRIDGE}`, `route -6 replace 2001:db8:20::/64 dev ${BRIDGE} (on-link)`]);
  await sync(host, dualStackState({ routes: ['2001:db8:20::/64'] }));
  assert.deepEqual(host.routes6List.map((r) => `${r.dst} ${r.proto}`).sort(), ['2001:db8:20::/64 77', '2001:db8:77::/64 4', 'fd00:172:31::/64 2']);
  // The prefix spelled differently is the same route: nothing to do.
  assert.deepEqual(await plan(host, dualStackState({ routes: ['2001:DB8:20:0::/64'] })), []);
});

test('a failed ip6tables restore leaves that table as it was and fails the sync with the offending line', async () => {
  const host = newHost();
  await sync(host, dualStackState());
  const before = host.dump();
  host.failNext('ip6tablesRestore', 'ip6tables-restore: line 3 failed\nError occurred at line: 3');
  await assert.rejects(sync(host, dualStackState({ group: groupRules([23]) })), (err: unknown) => err instanceof ApplyError && /ip6tables-restore filter/.test(err.message) && /RESTORE_FAILED/.test(err.message));
  assert.equal(host.dump(), before);
  const retry = await sync(host, dualStackState({ group: groupRules([23]) }));
  assert.deepEqual(retry.map((w) => w.op), ['ip6tables-restore']);
});

test('the fake kernel refuses what the real one does: an inet set matched by ip6tables, an IPv4 member in an inet6 set', async () => {
  const host = newHost();
  await sync(host, dualStackState());
  await assert.rejects(host.ip6tablesRestore('*filter\n:EN-X - [0:0]\n-A EN-X -m set --match-set EN-sg-a src -j ACCEPT\nCOMMIT\n'), /protocol family of set EN-sg-a is IPv4/);
  await assert.rejects(host.ipsetRestore('add EN-sg-a-6 10.0.0.1\n'), /IPv6/);
  assert.ok(!host.ip6tables.filter.has('EN-X'));
});

test('netd flush removes our ip6tables chains and hooks, inet6 sets and our routes, and nothing else', async () => {
  const host = newHost();
  host.routes6List.push({ dst: 'fd00:172:31::/64', dev: BRIDGE, proto: 2 });
  await host.ip6tablesRestore('*filter\n:OTHER - [0:0]\n-A OTHER -j ACCEPT\n-A FORWARD -j OTHER\nCOMMIT\n');
  await sync(host, dualStackState());
  await flushHost(host, { isOurs, runDir: RUN, publicInterface: '', pool: [], now: () => 0, wait: async () => undefined });
  assert.deepEqual(await chainsOf(host, 'filter'), ['INPUT', 'FORWARD', 'OUTPUT', 'OTHER']);
  assert.deepEqual(host.ip6tables.filter.get('FORWARD')!.rules, [['-j', 'OTHER']]);
  assert.deepEqual(await chainsOf(host, 'nat'), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
  assert.deepEqual([...host.ipsets.keys()], []);
  assert.deepEqual(host.routes6List, [{ dst: 'fd00:172:31::/64', dev: BRIDGE, proto: 2 }]);
  assert.deepEqual([...host.ebtables.filter.keys()], ['INPUT', 'FORWARD', 'OUTPUT']);
});

test('a set of ours with the other family is left alone with a note (a set cannot change family)', async () => {
  const host = newHost();
  await host.ipsetRestore('create EN-sg-a-6 hash:net family inet hashsize 1024 maxelem 1048576\n');
  const observed = await observeHost(host, { sysctlKeys: [], publicInterface: '', runDir: RUN, processes: [], bridge: BRIDGE, privateInterface: '' });
  const p = planSync(dualStackState(), observed, { full: false, isOurs });
  assert.ok(p.notes.some((n) => /EN-sg-a-6 exists with family inet, wanted inet6/.test(n)), p.notes.join('\n'));
  assert.ok(!p.steps.some((s) => s.kind === 'ipset-write' && (s.refill.length > 0 || s.create.some((x) => x.name === 'EN-sg-a-6'))));
});
