/**
 * netd sync against the in-memory kernel (test/helpers/fake-host.ts):
 * convergence (style.md 4), zero writes when nothing changed, minimal writes
 * when one instance is added, atomic failure and full retry, ownership, dhcpd
 * lifecycle, public /32 handling, bad documents changing nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, group, inst, testGniXml, type TestCloud } from '../../helpers/fake-host.ts';
import { syncOnce, type SyncDeps } from '../../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';

const GNI = '/run/en/global_network_info.xml';
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', privateInterface: 'eth1', publicInterface: 'pub0' };

function newHost(): FakeHost {
  return new FakeHost({
    links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }], pub0: [{ address: '192.0.2.5', prefixlen: 24 }] },
  });
}

function deps(host: FakeHost, config: NetdConfig = CONFIG): SyncDeps {
  let t = 1_700_000_000_000;
  return { host, config, runDir: '/run/en', gniFile: GNI, now: () => (t += 1), wait: async () => undefined };
}

const SSH = { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' };
const WEB = { protocol: 6, fromPort: 8000, toPort: 8010, cidr: '10.0.0.0/8' };
const PING_FROM_A = { protocol: 1, icmpType: -1, icmpCode: -1, groupId: 'sg-0000000a', groupOwnerId: '000000000001' };

/** The table of states the convergence tests walk through. */
const STATES: Record<string, TestCloud> = {
  empty: { nodes: [{ name: 'node1', instances: [] }], instances: [], groups: [], sequence: 1 },
  one: { nodes: [{ name: 'node1', instances: ['i-00000001'] }], instances: [inst('i-00000001', 11, ['sg-0000000a'], '198.51.100.11')], groups: [group('sg-0000000a', [SSH])], sequence: 2 },
  two: {
    nodes: [{ name: 'node1', instances: ['i-00000001', 'i-00000002'] }],
    instances: [inst('i-00000001', 11, ['sg-0000000a'], '198.51.100.11'), inst('i-00000002', 12, ['sg-0000000b'])],
    groups: [group('sg-0000000a', [SSH]), group('sg-0000000b', [PING_FROM_A])],
    sequence: 3,
  },
  moved: {
    nodes: [{ name: 'node1', instances: ['i-00000002'] }, { name: 'node2', instances: ['i-00000001'] }],
    instances: [inst('i-00000001', 11, ['sg-0000000a'], '198.51.100.11'), inst('i-00000002', 12, ['sg-0000000b'], '198.51.100.12')],
    groups: [group('sg-0000000a', [SSH]), group('sg-0000000b', [PING_FROM_A, WEB])],
    sequence: 4,
  },
  three: {
    nodes: [{ name: 'node1', instances: ['i-00000001', 'i-00000003', 'i-00000004'] }],
    instances: [inst('i-00000001', 11, ['sg-0000000a', 'sg-0000000c'], '198.51.100.11'), inst('i-00000003', 13, ['sg-0000000c'], '198.51.100.13'), inst('i-00000004', 14, ['sg-0000000c'])],
    groups: [group('sg-0000000a', [SSH]), group('sg-0000000c', [WEB, { protocol: 17, fromPort: 53, toPort: 53, cidr: '192.0.2.0/24' }])],
    sequence: 5,
  },
};

/** Documents get increasing sequences unless a test sets one (an older sequence is refused). */
let nextSequence = 1000;

async function applyState(host: FakeHost, name: string, opts: { full?: boolean; sequence?: number } = {}) {
  const cloud = STATES[name]!;
  host.files.set(GNI, testGniXml({ ...cloud, sequence: opts.sequence ?? nextSequence++ }));
  return syncOnce(deps(host), { trigger: 'file', full: opts.full ?? false });
}

/** Small deterministic PRNG (mulberry32) so a failing order can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('convergence: every state, reached from any other in random order, gives the same host dump', async () => {
  const host = newHost();
  const expected = new Map<string, string>();
  let seq = 10;
  for (const name of Object.keys(STATES)) {
    const o = await applyState(host, name, { sequence: seq++ });
    assert.equal(o.result, 'ok', o.error);
    expected.set(name, host.dump());
  }
  // The states really differ, so equal dumps below mean something.
  assert.equal(new Set(expected.values()).size, Object.keys(STATES).length);
  const random = rng(42);
  const names = Object.keys(STATES);
  for (let i = 0; i < 60; i++) {
    const name = names[Math.floor(random() * names.length)]!;
    const o = await applyState(host, name, { sequence: seq++, full: random() < 0.2 });
    assert.equal(o.result, 'ok', o.error);
    assert.equal(host.dump(), expected.get(name), `after applying ${name} (step ${i})`);
  }
});

test('convergence: a fresh host and a host that went through other states end up identical', async () => {
  for (const name of Object.keys(STATES)) {
    const fresh = newHost();
    assert.equal((await applyState(fresh, name, { sequence: 100 })).result, 'ok');
    const used = newHost();
    for (const other of Object.keys(STATES)) await applyState(used, other, { sequence: 50 });
    assert.equal((await applyState(used, name, { sequence: 100 })).result, 'ok');
    assert.equal(used.dump(), fresh.dump(), name);
  }
});

test('re-applying an unchanged state issues zero writes (no restore call at all)', async () => {
  for (const name of Object.keys(STATES)) {
    const host = newHost();
    await applyState(host, name);
    const before = host.writeCount;
    const again = await applyState(host, name);
    assert.equal(again.result, 'ok');
    assert.equal(again.writes, 0, `${name}: ${again.steps.map((s) => s.description).join('; ')}`);
    assert.equal(host.writeCount, before, name);
  }
});

test('one instance added writes only the chains and sets it touches', async () => {
  const host = newHost();
  const base: TestCloud = {
    nodes: [{ name: 'node1', instances: ['i-00000001', 'i-00000002'] }],
    instances: [inst('i-00000001', 11, ['sg-0000000a']), inst('i-00000002', 12, ['sg-0000000b'])],
    groups: [group('sg-0000000a', [SSH]), group('sg-0000000b', [WEB])],
  };
  host.files.set(GNI, testGniXml(base));
  assert.equal((await syncOnce(deps(host), { trigger: 'start', full: true })).result, 'ok');
  const mark = host.writes.length;
  host.files.set(
    GNI,
    testGniXml({ ...base, nodes: [{ name: 'node1', instances: ['i-00000001', 'i-00000002', 'i-00000003'] }], instances: [...base.instances, inst('i-00000003', 13, ['sg-0000000b'])] }),
  );
  const o = await syncOnce(deps(host), { trigger: 'file', full: false });
  assert.equal(o.result, 'ok', o.error);
  const writes = host.writes.slice(mark);
  const ipt = writes.filter((w) => w.op === 'iptables-restore').map((w) => w.input).join('\n');
  const ebt = writes.filter((w) => w.op === 'ebtables-restore').map((w) => w.input).join('\n');
  const ips = writes.filter((w) => w.op === 'ipset-restore').map((w) => w.input).join('\n');
  // The group chain of sg-0000000a and the nat table do not change: not written.
  assert.doesNotMatch(ipt, /:EDGENET-sg-0000000a /);
  assert.doesNotMatch(ipt, /\*nat/);
  assert.doesNotMatch(ipt, /:EDGENET-sg-0000000b /, 'sg-0000000b rules did not change, only its member set');
  // The new instance's ebtables chains and the dispatch chains that list it are written; the other instances' are not.
  assert.match(ebt, /:EDGENET-I-i-00000003 /);
  assert.match(ebt, /:EDGENET-O-i-00000003 /);
  assert.doesNotMatch(ebt, /:EDGENET-I-i-00000001 |:EDGENET-I-i-00000002 /);
  // Only the sets that gain the member are refilled.
  assert.match(ips, /EDGENET-sg-0000000b/);
  assert.match(ips, /EDGENET-LOCAL/);
  assert.doesNotMatch(ips, /EDGENET-sg-0000000a/);
  // dhcpd gets the new host entry and is restarted once.
  assert.equal(writes.filter((w) => w.op === 'start').length, 1);
});

test('new sets and refilled sets are one ipset restore: the creations first, then the refills; one step that names both', async () => {
  const host = newHost();
  assert.equal((await applyState(host, 'one')).result, 'ok');
  const mark = host.writes.length;
  // 'three' brings a new group (its set is created) and new local instances (EDGENET-LOCAL refilled).
  const o = await applyState(host, 'three');
  assert.equal(o.result, 'ok', o.error);
  const restores = host.writes.slice(mark).filter((w) => w.op === 'ipset-restore');
  assert.equal(restores.length, 1, 'one ipset restore process');
  const input = restores[0]!.input;
  const created = input.indexOf('create EDGENET-sg-0000000c ');
  const refilled = input.indexOf('create EDGENET-LOCAL ');
  assert.ok(created >= 0 && refilled > created, `creations first, then refills:\n${input}`);
  const sets = o.steps.filter((s) => s.name.startsWith('ipset'));
  assert.deepEqual(sets.map((s) => s.name), ['ipset-write']);
  assert.match(sets[0]!.description, /^ipset create .*EDGENET-sg-0000000c.*; refill .*EDGENET-LOCAL\(\+2\/-0\)/);
  assert.deepEqual([...(host.ipsets.get('EDGENET-LOCAL')?.members ?? [])].sort(), ['10.10.0.11', '10.10.0.13', '10.10.0.14']);
  assert.ok(host.ipsets.has('EDGENET-sg-0000000c'));
  assert.equal((await applyState(host, 'three')).writes, 0, 'converged');
});

test('a failed restore leaves the kernel as it was, reports error with the offending line, and a full retry converges', async () => {
  const host = newHost();
  await applyState(host, 'one');
  const before = host.dump();
  host.failNext('iptablesRestore', 'iptables-restore: line 3 failed\nError occurred at line: 3');
  host.files.set(GNI, testGniXml({ ...STATES.two!, sequence: nextSequence++ }));
  const failed = await syncOnce(deps(host), { trigger: 'file', full: false });
  assert.equal(failed.result, 'error');
  assert.match(failed.error ?? '', /iptables-restore filter failed/);
  assert.match(failed.error ?? '', />3: /, 'offending input line is quoted');
  // iptables filter is unchanged; ipsets created before it are there (harmless, nothing uses them yet).
  const iptBefore = before.split('\n').filter((l) => l.startsWith('iptables'));
  assert.deepEqual(host.dump().split('\n').filter((l) => l.startsWith('iptables')), iptBefore);
  const retry = await syncOnce(deps(host), { trigger: 'retry', full: true });
  assert.equal(retry.result, 'ok', retry.error);
  const fresh = newHost();
  await applyState(fresh, 'two');
  assert.equal(host.dump(), fresh.dump());
});

test('rules, chains, sets and addresses of other software are never touched', async () => {
  const host = newHost();
  await host.ipsetRestore('create other-set hash:ip\nadd other-set 10.9.9.9\n');
  await host.iptablesRestore('*filter\n:OTHER - [0:0]\n-A OTHER -s 10.9.9.9/32 -j DROP\n-A FORWARD -j OTHER\n-A FORWARD -m set --match-set other-set src -j ACCEPT\nCOMMIT\n');
  await host.ebtablesRestore('*nat\n:OTHER-EB RETURN\n-A OTHER-EB -j RETURN\n-A PREROUTING -j OTHER-EB\nCOMMIT\n');
  await host.addAddress('pub0', '203.0.113.9'); // not in the pool, no label of ours
  const others = () => host.dump().split('\n').filter((l) => /OTHER|other-set|203\.0\.113\.9|-A FORWARD -j OTHER|-A PREROUTING -j OTHER/.test(l));
  const before = others();
  assert.ok(before.length >= 6);
  for (const name of ['three', 'two', 'empty']) {
    assert.equal((await applyState(host, name)).result, 'ok');
    assert.deepEqual(others(), before, name);
  }
  // Our hook went in first, ahead of theirs.
  assert.equal(host.iptables.filter.get('FORWARD')!.rules.length, 3);
});

test('a terminated instance and an unused group leave nothing behind', async () => {
  const host = newHost();
  const pristine = host.dump();
  await applyState(host, 'three');
  assert.match(host.dump(), /EDGENET-sg-0000000c/);
  await applyState(host, 'empty');
  const dump = host.dump();
  assert.doesNotMatch(dump, /sg-0000000c|sg-0000000a|i-00000001|i-00000003|198\.51\.100/);
  // What remains is only the fixed skeleton (dispatch chains, shared sets, sysctls, bridge member).
  for (const line of dump.split('\n')) {
    if (!pristine.includes(line)) assert.match(line, /EDGENET-(FWD|IN|PRE|OUT|POST|EB-PRE|EB-POST|ALLPRIV|LOCAL|HOSTS)|sysctl|link eth1|-j EDGENET-|^processes/, line);
  }
});

test('stale chains, hooks and sets with our prefix are swept; a hook deleted by someone else comes back', async () => {
  const host = newHost();
  await applyState(host, 'two');
  await host.ipsetRestore('create EDGENET-sg-old hash:net\n');
  await host.iptablesRestore('*filter\n:EDGENET-sg-old - [0:0]\n-A EDGENET-sg-old -j ACCEPT\n-A FORWARD -j EDGENET-sg-old\nCOMMIT\n');
  host.iptables.nat.get('PREROUTING')!.rules = [];
  const o = await applyState(host, 'two');
  assert.equal(o.result, 'ok', o.error);
  assert.ok(!host.iptables.filter.has('EDGENET-sg-old'));
  assert.ok(!host.ipsets.has('EDGENET-sg-old'));
  assert.equal(host.iptables.filter.get('FORWARD')!.rules.length, 1);
  assert.equal(host.iptables.nat.get('PREROUTING')!.rules.length, 1);
});

test('chains flushed by someone else are rewritten by the next sync', async () => {
  const host = newHost();
  await applyState(host, 'two');
  const good = host.dump();
  host.iptables.filter.get('EDGENET-sg-0000000a')!.rules = [];
  host.ebtables.nat.get('EDGENET-I-i-00000001')!.rules.pop();
  const o = await applyState(host, 'two');
  assert.equal(o.result, 'ok');
  assert.equal(host.dump(), good);
  assert.deepEqual(o.steps.map((s) => s.name), ['iptables-write', 'ebtables-write']);
});

test('public /32s: added with a gratuitous ARP, removed when they leave; only pool addresses or ours are removed', async () => {
  const host = newHost();
  await host.addAddress('pub0', '198.51.100.40'); // in the pool, left by an earlier run
  await applyState(host, 'two');
  const pub = () => host.addrs.get('pub0')!.map((a) => `${a.address}/${a.prefixlen}`).sort();
  assert.deepEqual(pub(), ['192.0.2.5/24', '198.51.100.11/32']);
  assert.deepEqual(host.arps, ['pub0 198.51.100.11']);
  await applyState(host, 'moved'); // i-00000001 left this node, i-00000002 got .12
  assert.deepEqual(pub(), ['192.0.2.5/24', '198.51.100.12/32']);
});

test('dhcpd: started with a host entry per instance, restarted only when its file changes, restarted when it dies, stopped when no instance is left', async () => {
  const host = newHost();
  await applyState(host, 'one');
  const starts = () => host.writes.filter((w) => w.op === 'start').length;
  assert.equal(starts(), 1);
  const conf = host.files.get('/run/en/netd/dhcpd.conf')!;
  assert.match(conf, /d0:0d:00:00:00:0b/);
  const [pid] = [...host.processes.keys()];
  assert.deepEqual(host.processes.get(pid!)!.slice(0, 4), ['/usr/sbin/dhcpd', '-f', '-4', '-cf']);
  await applyState(host, 'one');
  assert.equal(starts(), 1, 'same file: no restart');
  host.crash(pid!);
  await applyState(host, 'one');
  assert.equal(starts(), 2, 'dead dhcpd is started again');
  await applyState(host, 'two');
  assert.equal(starts(), 3, 'changed file: restart');
  assert.equal(host.processes.size, 1);
  await applyState(host, 'empty');
  assert.equal(host.processes.size, 0, 'no local instance: dhcpd stopped');
});

test('a dhcpd found through a stale pid file that is not ours is not adopted', async () => {
  const host = newHost();
  await applyState(host, 'one');
  const [pid] = [...host.processes.keys()];
  host.crash(pid!);
  host.processes.set(pid!, ['/usr/bin/sleep', '100']); // pid recycled by another program
  await applyState(host, 'one');
  assert.equal(host.processes.get(pid!)![0], '/usr/bin/sleep', 'the other process is left alone');
  assert.equal([...host.processes.values()].filter((a) => a[0] === '/usr/sbin/dhcpd').length, 1);
});

test('a missing, truncated, malformed, DOCTYPE or invalid document changes nothing and is reported', async () => {
  const host = newHost();
  const applied = await applyState(host, 'two');
  const good = host.dump();
  const writes = host.writeCount;
  const full = testGniXml(STATES.three!);
  const bad = [
    undefined,
    full.slice(0, Math.floor(full.length / 2)),
    '<network-data version="x"><configuration>',
    `<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n${full.split('\n').slice(1).join('\n')}`,
    full.replace('<privateIp>10.10.0.13</privateIp>', '<privateIp>not-an-ip</privateIp>'),
  ];
  for (const text of bad) {
    if (text === undefined) host.files.delete(GNI);
    else host.files.set(GNI, text);
    const o = await syncOnce(deps(host), { trigger: 'file', full: true });
    assert.equal(o.result, 'invalid-document', String(text).slice(0, 40));
    assert.equal(o.status.appliedSequence, applied.status.appliedSequence, 'the last good state stays the applied one');
    assert.equal(host.dump(), good);
    assert.equal(host.writeCount, writes);
  }
});

test('an older document (by sequence) is ignored; a node not in the document changes nothing', async () => {
  const host = newHost();
  await applyState(host, 'two', { sequence: 7 });
  const good = host.dump();
  const stale = await applyState(host, 'one', { sequence: 6 });
  assert.equal(stale.result, 'stale-document');
  assert.equal(host.dump(), good);
  host.files.set(GNI, testGniXml({ ...STATES.one!, nodes: [{ name: 'other', instances: ['i-00000001'] }], sequence: 9 }));
  const absent = await syncOnce(deps(host), { trigger: 'file', full: false });
  assert.equal(absent.result, 'not-in-document');
  assert.equal(host.dump(), good);
});

test('the node is found by a local address when no name is configured', async () => {
  const host = newHost();
  host.files.set(GNI, testGniXml({ ...STATES.one!, nodes: [{ name: '192.0.2.5', instances: ['i-00000001'] }] }));
  const o = await syncOnce(deps(host, { ...CONFIG, nodeName: '' }), { trigger: 'start', full: true });
  assert.equal(o.result, 'ok', o.error);
  assert.equal(o.status.node, '192.0.2.5');
  assert.ok(host.iptables.filter.has('EDGENET-sg-0000000a'));
});

test('status and applied version are written after every attempt', async () => {
  const host = newHost();
  await applyState(host, 'one', { sequence: 4 });
  const status = JSON.parse(host.files.get('/run/en/netd-status.json')!);
  assert.equal(status.result, 'ok');
  assert.equal(status.appliedSequence, 4);
  assert.equal(status.sequence, 4);
  assert.equal(host.files.get('/run/en/global_network_info.version')!.trim(), status.appliedVersion);
  assert.ok(status.steps.length > 0);
  host.files.set(GNI, 'garbage');
  await syncOnce(deps(host), { trigger: 'poll', full: false });
  const after = JSON.parse(host.files.get('/run/en/netd-status.json')!);
  assert.equal(after.result, 'invalid-document');
  assert.equal(after.appliedVersion, status.appliedVersion);
  assert.equal(host.files.get('/run/en/global_network_info.version')!.trim(), status.appliedVersion);
});
