/**
 * The namespace primitives build the right argv (fake Exec; no root), and the
 * dhclient script/lease parsing used by Topology.dhcp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exec, ExecOptions } from '../../../src/shared/exec.ts';
import { ExecError } from '../../../src/shared/errors.ts';
import { createNetns, assertIfName } from '../../../src/lab/netns.ts';
import { dhclientScript, parseLeaseInfo } from '../../../src/lab/dhclient.ts';
import { FakeClock } from '../../../src/shared/clock.ts';

function recordingExec(reply: (argv: readonly string[]) => { stdout?: string; fail?: string } = () => ({})) {
  const calls: string[][] = [];
  const exec: Exec = {
    async run(argv: readonly string[], _o?: ExecOptions) {
      calls.push([...argv]);
      const r = reply(argv);
      if (r.fail !== undefined) throw new ExecError(argv, 1, r.fail);
      return { stdout: r.stdout ?? '', stderr: '', exitCode: 0 };
    },
    start(argv) {
      calls.push(['START', ...argv]);
      return { pid: 1, exited: new Promise(() => undefined), kill: () => undefined };
    },
  };
  return { exec, calls };
}

test('veths are created straight into their namespaces, never in the root namespace', async () => {
  const { exec, calls } = recordingExec();
  const ns = createNetns(exec);
  await ns.addVeth({ ns: 'p-n1', name: 'vn_i-1', peerNs: 'p-i-1', peerName: 'eth0', peerMac: 'd0:0d:00:00:00:01' });
  assert.deepEqual(calls[0], ['ip', '-n', 'p-n1', 'link', 'add', 'vn_i-1', 'type', 'veth', 'peer', 'name', 'eth0', 'address', 'd0:0d:00:00:00:01', 'netns', 'p-i-1']);
  await ns.add('p-x');
  assert.deepEqual(calls.slice(1), [['ip', 'netns', 'add', 'p-x'], ['ip', '-n', 'p-x', 'link', 'set', 'lo', 'up']]);
  ns.startIn('p-x', ['sleep', '1']);
  assert.deepEqual(calls.at(-1), ['START', 'ip', 'netns', 'exec', 'p-x', 'sleep', '1']);
  await ns.execFor('p-x').run(['iptables-save']);
  assert.deepEqual(calls.at(-1), ['ip', 'netns', 'exec', 'p-x', 'iptables-save']);
});

test('interface and namespace names are checked before any command runs', async () => {
  const { exec, calls } = recordingExec();
  const ns = createNetns(exec);
  assert.throws(() => assertIfName('vn_i-0123456789ab'), { code: 'LAB_BAD_IFNAME' });
  await assert.rejects(ns.addBridge('p', 'a-very-long-bridge'), { code: 'LAB_BAD_IFNAME' });
  await assert.rejects(ns.add('bad name'), { code: 'LAB_BAD_NSNAME' });
  assert.equal(calls.length, 0);
});

test('list parses `ip netns list` with ids; delete of a missing namespace is not an error', async () => {
  const { exec } = recordingExec((argv) => {
    if (argv.join(' ') === 'ip netns list') return { stdout: 'p-n1 (id: 3)\np-lan (id: 1)\nother\n' };
    if (argv[2] === 'delete') return { fail: 'Cannot remove namespace file "/run/netns/p-gone": No such file or directory' };
    return {};
  });
  const ns = createNetns(exec);
  assert.deepEqual(await ns.list('p-'), ['p-n1', 'p-lan']);
  assert.equal(await ns.exists('other'), true);
  await ns.delete('p-gone');
});

test('killAll sends TERM, then KILL to what survives the grace period', async () => {
  let alive = [11, 12];
  const { exec, calls } = recordingExec((argv) => {
    if (argv[1] === 'netns' && argv[2] === 'pids') return { stdout: alive.join('\n') };
    if (argv[0] === 'kill' && argv[1] === '-KILL') alive = [];
    return {};
  });
  const clock = new FakeClock();
  const ns = createNetns(exec, clock);
  const done = ns.killAll('p-n1', { graceMs: 100 });
  await clock.advance(200);
  await clock.advance(100);
  await done;
  const kills = calls.filter((c) => c[0] === 'kill');
  assert.deepEqual(kills, [['kill', '-TERM', '11', '12'], ['kill', '-KILL', '11', '12']]);
});

test('dhclient lease info parses; incomplete info is no lease', () => {
  const lease = parseLeaseInfo('ip=10.111.0.5\nnetmask=255.255.0.0\nrouters=10.111.0.1\ndns=10.111.0.1 10.1.1.1\ndomain=lab.internal\nreason=BOUND\n');
  assert.deepEqual(lease, { ip: '10.111.0.5', netmask: '255.255.0.0', prefixLength: 16, routers: ['10.111.0.1'], dns: ['10.111.0.1', '10.1.1.1'], domain: 'lab.internal' });
  assert.equal(parseLeaseInfo('ip=10.111.0.5\n'), undefined);
  assert.equal(parseLeaseInfo(''), undefined);
});

test('the dhclient script writes only the files it was given (quoted), never /etc/resolv.conf', () => {
  const script = dhclientScript({ info: "/tmp/it's/lease.env", resolvIpv4: '/tmp/lab/dns/i-1/ipv4.resolv', mergeResolv: '/tmp/lab/dns/i-1/merge-resolv' });
  assert.match(script, /'\/tmp\/it'\\''s\/lease\.env'/);
  assert.match(script, /> '\/tmp\/lab\/dns\/i-1\/ipv4\.resolv'\.tmp/);
  // The merge script (instance-dns.ts) builds /etc/netns/<ns>/resolv.conf from the fragments.
  assert.match(script, /sh '\/tmp\/lab\/dns\/i-1\/merge-resolv'/);
  assert.doesNotMatch(script, /\/etc\/resolv\.conf/);
});
