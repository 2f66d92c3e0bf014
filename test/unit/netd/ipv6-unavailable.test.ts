/**
 * A node whose kernel has no IPv6 (booted with ipv6.disable=1; the fake host
 * built with `ipv6: false`, where every IPv6 command fails as it would there):
 * - an IPv4-only document syncs exactly as on a host with IPv6 (same host
 *   state, same writes), with no IPv6 command at all, also on a full sync and
 *   a flush, and a converged node still writes nothing;
 * - a dual-stack document is refused whole (IPV6_UNAVAILABLE in the result,
 *   the status and the event, saying what to do) and nothing on the host
 *   changes, IPv4 included;
 * - on a host WITH IPv6, an ip6tables-save that fails still fails the sync
 *   like any observe failure.
 * And ipv6Needs on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, group, inst, testDualStackGniXml, testGniXml, type TestCloud } from '../../helpers/fake-host.ts';
import { dualStackState, ipv4OnlyState } from '../../helpers/ipv6-state.ts';
import { planFor, syncOnce, type SyncDeps } from '../../../src/netd/sync.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { flushHost } from '../../../src/netd/flush.ts';
import { observeHost } from '../../../src/netd/apply/observe.ts';
import { ipv6Needs, ipv6Refusal } from '../../../src/netd/ipv6-needs.ts';
import { readEvents } from '../../../src/netd/events.ts';
import { statusFiles } from '../../../src/netd/status.ts';
import { netdNames } from '../../../src/netd/names.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';

const RUN = '/run/en';
const GNI = `${RUN}/global_network_info.xml`;
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', privateInterface: 'eth1', publicInterface: 'pub0' };
const PREFIX = '2001:db8:10::/64';
const SSH = { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' };

function newHost(ipv6: boolean): FakeHost {
  return new FakeHost({
    ipv6,
    links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }], pub0: [{ address: '192.0.2.5', prefixlen: 24 }] },
  });
}

function deps(host: FakeHost): SyncDeps {
  let t = 1_700_000_000_000;
  return { host, config: CONFIG, runDir: RUN, gniFile: GNI, now: () => (t += 1), wait: async () => undefined };
}

const CLOUD: TestCloud = {
  nodes: [{ name: 'node1', instances: ['i-00000001', 'i-00000002'] }],
  instances: [inst('i-00000001', 11, ['sg-0000000a'], '198.51.100.11'), inst('i-00000002', 12, ['sg-0000000a'])],
  groups: [group('sg-0000000a', [SSH])],
};

/** CLOUD made dual-stack: the cluster's /64 and name server, the CLC's IPv6 address, each instance's EUI-64 address. */
function dualStackXml(sequence: number): string {
  return testDualStackGniXml({ ...CLOUD, sequence }, PREFIX);
}

async function syncXml(host: FakeHost, xml: string, full = false) {
  host.files.set(GNI, xml);
  return syncOnce(deps(host), { trigger: 'file', full });
}

test('no IPv6 in the kernel, IPv4-only document: the sync is what it is on a host with IPv6, and runs no IPv6 command', async () => {
  const without = newHost(false);
  const withV6 = newHost(true);
  const a = await syncXml(without, testGniXml({ ...CLOUD, sequence: 1 }), true);
  const b = await syncXml(withV6, testGniXml({ ...CLOUD, sequence: 1 }), true);
  assert.equal(a.result, 'ok', a.error);
  assert.equal(b.result, 'ok', b.error);
  assert.deepEqual(without.ipv6Commands, [], 'no ip6tables-save, ip6tables-restore nor ip -6 route');
  assert.ok(withV6.ipv6Commands.length > 0, 'a host with IPv6 reads its IPv6 side (the sweep of an earlier dual-stack document)');
  assert.equal(without.ipv6Probes, 1, 'one probe per sync');
  assert.equal(without.dump(), withV6.dump(), 'same host state');
  assert.deepEqual(without.writes, withV6.writes, 'same writes, in the same order');
  assert.ok(without.writeCount > 0);

  // Converged: nothing to write, still nothing IPv6; a change applies as usual.
  const again = await syncXml(without, testGniXml({ ...CLOUD, sequence: 2 }));
  assert.equal(again.result, 'ok', again.error);
  assert.equal(again.writes, 0);
  const more = await syncXml(without, testGniXml({ ...CLOUD, groups: [group('sg-0000000a', [SSH, { ...SSH, fromPort: 443, toPort: 443 }])], sequence: 3 }));
  assert.equal(more.result, 'ok', more.error);
  assert.ok(more.writes > 0);
  assert.deepEqual(without.ipv6Commands, []);
  assert.equal(without.ipv6Probes, 3);
});

test('no IPv6 in the kernel: flush removes the IPv4 side and runs no IPv6 command', async () => {
  const host = newHost(false);
  assert.equal((await syncXml(host, testGniXml({ ...CLOUD, sequence: 1 }))).result, 'ok');
  assert.ok(host.iptables.filter.size > 3, 'our chains are there');
  let t = 0;
  const label = 'pub0:en';
  const results = await flushHost(host, { isOurs: netdNames(CONFIG.prefix).isOurs, runDir: RUN, publicInterface: 'pub0', addressLabel: label, pool: ['198.51.100.10-198.51.100.50'], now: () => (t += 1), wait: async () => undefined });
  assert.ok(results.length > 0);
  assert.deepEqual(host.ipv6Commands, []);
  const isOurs = netdNames(CONFIG.prefix).isOurs;
  for (const table of ['filter', 'nat'] as const) assert.deepEqual([...host.iptables[table].keys()].filter(isOurs), [], `no chain of ours left in ${table}`);
  assert.deepEqual([...host.ipsets.keys()].filter(isOurs), []);
});

test('no IPv6 in the kernel: observe reads the IPv6 side as empty without asking the tools', async () => {
  const host = newHost(false);
  const observed = await observeHost(host, { sysctlKeys: [], publicInterface: '', runDir: RUN, processes: [], bridge: 'br0', privateInterface: '' });
  assert.deepEqual([...observed.ip6tables.filter.chains.keys()], []);
  assert.deepEqual([...observed.ip6tables.nat.chains.keys()], []);
  assert.deepEqual(observed.routes6, []);
  assert.deepEqual(host.ipv6Commands, []);
  assert.equal(host.ipv6Probes, 1);
});

test('no IPv6 in the kernel, dual-stack document: refused with IPV6_UNAVAILABLE, nothing changed (IPv4 included)', async () => {
  const host = newHost(false);
  const first = await syncXml(host, testGniXml({ ...CLOUD, sequence: 1 }));
  assert.equal(first.result, 'ok', first.error);
  const before = host.dump();
  const writes = host.writeCount;

  // The same cloud made dual-stack, plus an IPv4 change that must not be applied either.
  const o = await syncXml(host, dualStackXml(2));
  assert.equal(o.result, 'error');
  assert.match(o.error ?? '', /^IPV6_UNAVAILABLE: cluster cluster1 is dual-stack \(it needs ip6tables filter and nat rules, \d+ inet6 ipsets, the route 2001:db8:10::\/64 on br0, sysctl net\.ipv6\.conf\.all\.forwarding, radvd\) but this node's kernel has no IPv6/);
  assert.match(o.error ?? '', /enable IPv6 on the node .*or remove the cluster's Ipv6Prefix/);
  assert.equal(o.writes, 0);
  assert.equal(host.writeCount, writes, 'no write of any kind');
  assert.equal(host.dump(), before, 'host unchanged');
  assert.deepEqual(host.ipv6Commands, [], 'not even an IPv6 read');

  // Visible where the operator looks: the status (applied stays the IPv4 document) and the event.
  assert.match(o.status.error ?? '', /^IPV6_UNAVAILABLE: /);
  assert.equal(o.status.sequence, 2);
  assert.equal(o.status.appliedSequence, 1);
  const events = await readEvents(host, statusFiles(RUN).events);
  assert.equal(events.at(-1)?.result, 'error');
  assert.match(events.at(-1)?.error ?? '', /^IPV6_UNAVAILABLE: /);

  // A full retry is refused the same way; the same document on a host with IPv6 applies.
  assert.equal((await syncXml(host, dualStackXml(3), true)).result, 'error');
  assert.equal(host.dump(), before);
  const withV6 = newHost(true);
  const ok = await syncXml(withV6, dualStackXml(2));
  assert.equal(ok.result, 'ok', ok.error);
  assert.ok(withV6.ip6tables.filter.size > 3, 'the dual-stack document does apply where IPv6 exists');
});

test('IPv6 in the kernel, ip6tables-save fails: the sync fails as any observe failure, nothing changed', async () => {
  const host = newHost(true);
  const first = await syncXml(host, testGniXml({ ...CLOUD, sequence: 1 }));
  assert.equal(first.result, 'ok', first.error);
  const before = host.dump();
  const writes = host.writeCount;
  host.failNext('ip6tablesSave', 'ip6tables-save: xtables lock wedged');
  // A full sync: an IPv4-only node's event syncs do not read the IPv6 side (ipv6-deferred-reads.test.ts).
  const o = await syncXml(host, testGniXml({ ...CLOUD, groups: [group('sg-0000000a', [])], sequence: 2 }), true);
  assert.equal(o.result, 'error');
  assert.match(o.error ?? '', /ip6tables-save.*xtables lock wedged/s);
  assert.doesNotMatch(o.error ?? '', /IPV6_UNAVAILABLE/);
  assert.equal(host.writeCount, writes);
  assert.equal(host.dump(), before);
  // The next sync (the daemon's retry) applies.
  assert.equal((await syncXml(host, testGniXml({ ...CLOUD, groups: [group('sg-0000000a', [])], sequence: 2 }), true)).result, 'ok');
});

test('no IPv6 in the kernel: planFor (what `netd plan` runs) refuses a dual-stack state with IPV6_UNAVAILABLE and plans an IPv4-only one', async () => {
  const host = newHost(false);
  await assert.rejects(planFor({ host, config: CONFIG, runDir: RUN, desired: dualStackState(), full: false }), (err: unknown) => {
    assert.ok(err instanceof EdgenetError);
    assert.equal(err.code, 'IPV6_UNAVAILABLE');
    assert.match(err.message, /remove the cluster's Ipv6Prefix/);
    return true;
  });
  const plan = await planFor({ host, config: CONFIG, runDir: RUN, desired: ipv4OnlyState(), full: true });
  assert.ok(plan.steps.length > 0);
  assert.ok(plan.steps.every((s) => !['ip6tables-write', 'route6-replace', 'route6-del'].includes(s.kind)), plan.steps.map((s) => s.kind).join(' '));
  assert.deepEqual(host.ipv6Commands, []);
});

test('ipv6Needs: nothing for an IPv4-only state, each IPv6 part of a dual-stack one', () => {
  assert.deepEqual(ipv6Needs(ipv4OnlyState()), []);
  assert.equal(ipv6Refusal(ipv4OnlyState(), false), undefined);
  const dual = dualStackState();
  assert.deepEqual(ipv6Needs(dual), ['ip6tables filter and nat rules', '1 inet6 ipset', 'the route 2001:db8:10::/64 on br0']);
  assert.equal(ipv6Refusal(dual, true), undefined, 'IPv6 present: nothing to refuse');
  assert.equal(ipv6Refusal(dual, false)?.code, 'IPV6_UNAVAILABLE');
  // Each part alone is enough.
  const empty = ipv4OnlyState();
  const table = { chains: [], hooks: [] };
  assert.deepEqual(ipv6Needs({ ...empty, bridgeRoutes: ['2001:db8:20::/64'] }), ['the route 2001:db8:20::/64 on br0']);
  assert.deepEqual(ipv6Needs({ ...empty, ip6tables: { filter: table, nat: dual.ip6tables.nat } }), ['ip6tables nat rules']);
  assert.deepEqual(ipv6Needs({ ...empty, ipsets: dual.ipsets }), ['1 inet6 ipset']);
  assert.deepEqual(ipv6Needs({ ...empty, sysctls: [{ key: 'net.ipv6.conf.all.forwarding', value: '1' }] }), ['sysctl net.ipv6.conf.all.forwarding']);
  const radvd = { kind: 'radvd', run: true, interfaces: ['br0'], files: [], reload: { kind: 'signal', signal: 'SIGHUP' }, summary: '' } as const;
  assert.deepEqual(ipv6Needs({ ...empty, processes: [radvd] }), ['radvd']);
  assert.deepEqual(ipv6Needs({ ...empty, processes: [{ ...radvd, run: false }] }), [], 'radvd that must not run needs nothing');
});
