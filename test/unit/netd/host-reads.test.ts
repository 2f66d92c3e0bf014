/**
 * The real host's `hostReads` (linux-host.ts) against canned `ip -j -d
 * -batch` output in the shape iproute2 6.1 prints it (one JSON array per
 * batch line; -d adds `"table":"main"` to the main table's routes): ONE
 * process for the links, their addresses of both families, our routes of
 * both families and our neighbours; a route of our protocol in another table
 * is left out. The same read against a real kernel is in
 * test/integration/netd-host-reads.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLinuxHost } from '../../../src/netd/apply/linux-host.ts';
import type { Exec, ExecOptions } from '../../../src/shared/exec.ts';
import type { Files } from '../../../src/shared/files.ts';
import { ExecError } from '../../../src/shared/errors.ts';

const ADDR = [
  { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, label: 'lo' }, { family: 'inet6', local: '::1', prefixlen: 128 }] },
  { ifname: 'br0', flags: ['BROADCAST', 'UP'], address: '02:00:00:00:00:aa', linkinfo: { info_kind: 'bridge' }, addr_info: [{ family: 'inet', local: '10.10.0.1', prefixlen: 24, broadcast: '10.10.0.255', label: 'br0' }] },
  { ifname: 'vn_i-b', flags: ['BROADCAST', 'UP'], master: 'br0', address: '02:00:00:00:00:bb', linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge', info_slave_data: { hairpin: true } }, addr_info: [] },
  { ifname: 'vn_i-a', flags: ['BROADCAST', 'UP'], address: 'fe:ff:ff:ff:ff:ff', linkinfo: { info_kind: 'veth' }, addr_info: [{ family: 'inet', local: '169.254.0.1', prefixlen: 32, label: 'vn_i-a' }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
];
const ROUTES = [
  { type: 'unicast', dst: '10.50.0.99', dev: 'vn_i-a', table: '100', scope: 'link', flags: [] },
  { type: 'unicast', dst: '10.50.0.11', dev: 'vn_i-a', table: 'main', scope: 'link', flags: [] },
  { type: 'unicast', dst: '10.50.0.0/24', table: 'main', flags: [], nexthops: [{ gateway: '10.10.0.2', dev: 'br0' }, { gateway: '10.10.0.3', dev: 'br0' }] },
  { type: 'unicast', dst: '2001:db8:99::/64', dev: 'br0', table: '100', metric: 1024, flags: [], pref: 'medium' },
  { type: 'unicast', dst: '2001:db8:10::/64', dev: 'br0', table: 'main', metric: 1024, flags: [], pref: 'medium' },
  { type: 'unicast', dst: '2001:db8:50::11', dev: 'vn_i-a', table: 'main', metric: 1024, flags: [], pref: 'medium' },
  // `default` names no family: an IPv6 route is the one with a `pref`.
  { type: 'unicast', dst: 'default', dev: 'br0', table: 'main', metric: 1024, flags: [], pref: 'medium' },
  { type: 'unicast', dst: 'default', dev: 'br0', table: 'main', scope: 'link', flags: [] },
];
const NEIGH = [
  { dst: '10.50.0.11', dev: 'vn_i-a', lladdr: 'd0:0d:00:00:01:01', state: ['PERMANENT'], protocol: '77' },
  { dst: '2001:db8:50::11', dev: 'vn_i-a', lladdr: 'd0:0d:00:00:01:01', state: ['PERMANENT'], protocol: '77' },
];

function recordingExec(stdout: string): { exec: Exec; calls: { argv: readonly string[]; input?: string }[] } {
  const calls: { argv: readonly string[]; input?: string }[] = [];
  const exec: Exec = {
    run: async (argv: readonly string[], options?: ExecOptions) => {
      calls.push({ argv, ...(options?.input !== undefined ? { input: options.input } : {}) });
      return { stdout, stderr: '', exitCode: 0 };
    },
    start: () => {
      throw new Error('no process is started by a read');
    },
  };
  return { exec, calls };
}

// The bridge's MAC is pinned (addr_assign_type 3); no other sysfs file is read (the hairpin flag comes with -d).
const files = { read: async (p: string) => (p === '/sys/class/net/br0/addr_assign_type' ? '3\n' : assert.fail(`unexpected read ${p}`)) } as unknown as Files;

test('hostReads: one ip batch of addr, route (both families, every table) and neigh lines; main-table routes only, split by family', async () => {
  const { exec, calls } = recordingExec(`${JSON.stringify(ADDR)}\n${JSON.stringify(ROUTES)}\n${JSON.stringify(NEIGH)}\n`);
  const host = createLinuxHost({ exec, files });
  const r = await host.hostReads(77);
  assert.deepEqual(calls, [{ argv: ['ip', '-j', '-d', '-batch', '-'], input: 'addr show\nroute show table all proto 77\nneigh show proto 77\n' }], 'one process');
  assert.deepEqual(r.routes4, [{ dst: '10.50.0.11', dev: 'vn_i-a' }, { dst: 'default', dev: 'br0' }], 'table 100 and the multipath route left out');
  assert.deepEqual(r.routes6, [{ dst: '2001:db8:10::/64', dev: 'br0' }, { dst: '2001:db8:50::11', dev: 'vn_i-a' }, { dst: 'default', dev: 'br0' }]);
  assert.deepEqual(r.neighbours, [
    { dst: '10.50.0.11', dev: 'vn_i-a', lladdr: 'd0:0d:00:00:01:01', permanent: true },
    { dst: '2001:db8:50::11', dev: 'vn_i-a', lladdr: 'd0:0d:00:00:01:01', permanent: true },
  ]);
  assert.deepEqual(r.interfaces.links.map((l) => l.name), ['lo', 'br0', 'vn_i-b', 'vn_i-a']);
  assert.deepEqual(r.interfaces.links.find((l) => l.name === 'br0'), { name: 'br0', up: true, isBridge: true, mac: '02:00:00:00:00:aa', macPinned: true });
  assert.deepEqual(r.interfaces.links.find((l) => l.name === 'vn_i-b'), { name: 'vn_i-b', up: true, master: 'br0', isBridge: false, mac: '02:00:00:00:00:bb', hairpin: true });
  assert.deepEqual(r.interfaces.addresses.get('br0'), [{ address: '10.10.0.1', prefixlen: 24, label: 'br0', broadcast: '10.10.0.255' }]);
  assert.deepEqual(r.interfaces.addresses.get('vn_i-a'), [{ address: '169.254.0.1', prefixlen: 32, label: 'vn_i-a' }]);
  assert.deepEqual(r.interfaces.addresses6.get('vn_i-a'), [{ address: 'fe80::1', prefixlen: 64 }]);
  assert.deepEqual(r.interfaces.addresses.get('vn_i-b'), []);
});

test('hostReads: empty lists read as empty; output that is not one line per read is an error, never a partial read', async () => {
  const empty = createLinuxHost({ exec: recordingExec('[]\n[]\n[]\n').exec, files });
  const r = await empty.hostReads(77);
  assert.deepEqual([r.interfaces.links, r.routes4, r.routes6, r.neighbours], [[], [], [], []]);
  const short = createLinuxHost({ exec: recordingExec(`${JSON.stringify(ADDR)}\n[]\n`).exec, files });
  await assert.rejects(short.hostReads(77), (err: unknown) => err instanceof ExecError && /expected 3 JSON lines, got 2/.test(err.message));
});
