/**
 * netd on a node whose kernel has no IPv6, with the real HostOps and real
 * iptables, ebtables and ipset in a scratch namespace (`h9nov6-<pid>`,
 * removed in `after` even on failure; the host's own settings are never
 * touched).
 *
 * What can and cannot be simulated here: a kernel booted with ipv6.disable=1
 * cannot be made inside a namespace (no reboot, no VM). The sysctl
 * `net.ipv6.conf.all.disable_ipv6=1` is NOT the same thing: it removes the
 * addresses of the interfaces, but the IPv6 stack, /proc/net/if_inet6,
 * ip6tables and `ip -6 route show` all keep working (the last test shows it),
 * so netd rightly sees IPv6 there. What ipv6.disable=1 does to netd is
 * simulated at netd's two seams instead: the Files seam answers that
 * /proc/net/if_inet6 does not exist (the probe `ipv6Available()` reads), and
 * the Exec seam fails every ip6tables / `ip -6` command the way the kernel
 * would ("Address family not supported by protocol") and records it.
 * Everything else is real: the sync applies through the real tools.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createExec, prefixedExec, type Exec } from '../../src/shared/exec.ts';
import { createFiles, type Files } from '../../src/shared/files.ts';
import { ExecError } from '../../src/shared/errors.ts';
import { createLinuxHost } from '../../src/netd/apply/linux-host.ts';
import { syncOnce, type SyncDeps } from '../../src/netd/sync.ts';
import { flushHost } from '../../src/netd/flush.ts';
import { netdNames } from '../../src/netd/names.ts';
import { statusFiles } from '../../src/netd/status.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../src/netd/config.ts';
import { group, inst, testDualStackGniXml, testGniXml, type TestCloud } from '../helpers/fake-host.ts';

const NS = `h9nov6-${process.pid}`;
const RUN = `/tmp/${NS}-run`;
const GNI = `${RUN}/global_network_info.xml`;
const PREFIX = '2001:db8:10::/64';
const exec = createExec();
const inNs = prefixedExec(exec, ['ip', 'netns', 'exec', NS]);
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', bridge: 'br0', privateInterface: '', publicInterface: '', runDir: RUN, gniFile: GNI };
const isOurs = netdNames(CONFIG.prefix).isOurs;

/** Every IPv6 command netd tried on the "kernel without IPv6". */
const ipv6Commands: string[] = [];

const isIpv6Command = (argv: readonly string[]) => /^ip6tables/.test(argv[0] ?? '') || (argv[0] === 'ip' && argv.includes('-6'));

/** The kernel without IPv6, at the Exec seam: IPv6 commands fail as they do there. */
const noIpv6Exec: Exec = {
  run: async (argv, options) => {
    if (isIpv6Command(argv)) {
      ipv6Commands.push(argv.join(' '));
      throw new ExecError(argv, argv[0] === 'ip' ? 2 : 1, argv[0] === 'ip' ? 'RTNETLINK answers: Address family not supported by protocol' : "can't initialize ip6tables table `filter': Address family not supported by protocol");
    }
    return inNs.run(argv, options);
  },
  start: (argv, options) => inNs.start(argv, options),
};

/** ... and at the Files seam: no /proc/net/if_inet6. */
function noIpv6Files(inner: Files): Files {
  return { ...inner, exists: async (file) => (file === '/proc/net/if_inet6' ? false : inner.exists(file)) };
}

const host = createLinuxHost({ exec: noIpv6Exec, files: noIpv6Files(createFiles()) });

function deps(): SyncDeps {
  return { host, config: CONFIG, runDir: RUN, gniFile: GNI, now: () => Date.now(), wait: (ms) => new Promise((r) => setTimeout(r, ms)) };
}

// node1 runs no instance (so no dhcpd in the scratch namespace); its cluster's chains, hooks and sets are still laid down.
const CLOUD: TestCloud = {
  nodes: [{ name: 'node1', instances: [] }, { name: 'node2', instances: ['i-00000001'] }],
  instances: [inst('i-00000001', 11, ['sg-0000000a'])],
  groups: [group('sg-0000000a', [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }])],
};

function dualStackXml(sequence: number): string {
  return testDualStackGniXml({ ...CLOUD, sequence }, PREFIX);
}

async function sh(argv: string[]): Promise<string> {
  return (await inNs.run(argv)).stdout;
}

/** Everything IPv4 netd can own in the namespace, as the kernel lists it. */
async function kernelState(): Promise<string> {
  // Without the tools' dated comment lines and the packet counters of chain headers.
  const strip = (t: string) => t.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')).join('\n');
  return [strip(await sh(['iptables-save'])), strip(await sh(['ebtables-save'])), await sh(['ipset', 'save'])].join('\n----\n');
}

before(async () => {
  if (!isRoot()) return;
  await exec.run(['ip', 'netns', 'add', NS]);
  await sh(['ip', 'link', 'set', 'lo', 'up']);
  await sh(['ip', 'link', 'add', 'br0', 'address', '02:00:0a:0a:00:01', 'type', 'bridge']);
  await sh(['ip', 'addr', 'add', '10.10.0.1/24', 'dev', 'br0']);
  await sh(['ip', 'link', 'set', 'br0', 'up']);
  await fs.mkdir(RUN, { recursive: true });
});

after(async () => {
  if (!isRoot()) return;
  await exec.run(['ip', 'netns', 'del', NS], { okExitCodes: [0, 1] });
  await fs.rm(RUN, { recursive: true, force: true });
});

test('kernel without IPv6 (simulated at the seams), real tools: IPv4-only syncs with no IPv6 command, dual-stack is refused changing nothing, flush', async (t) => {
  if (!requireRoot(t, 'netd without IPv6 integration')) return;

  // 1. IPv4-only document: applied, converged, no IPv6 command.
  await fs.writeFile(GNI, testGniXml({ ...CLOUD, sequence: 1 }));
  const first = await syncOnce(deps(), { trigger: 'start', full: true });
  assert.equal(first.result, 'ok', first.error);
  assert.ok(first.writes > 0);
  assert.match(await sh(['iptables-save']), /^-A FORWARD .*-j EDGENET-/m, 'our IPv4 rules are in the kernel');
  const again = await syncOnce(deps(), { trigger: 'poll', full: false });
  assert.equal(again.result, 'ok', again.error);
  assert.equal(again.writes, 0, 'converged: nothing written');
  assert.deepEqual(ipv6Commands, [], 'no ip6tables-save, ip6tables-restore nor ip -6 route');

  // 2. The cluster becomes dual-stack: refused, the kernel unchanged (IPv4 included), still no IPv6 command.
  const before = await kernelState();
  await fs.writeFile(GNI, dualStackXml(2));
  const refused = await syncOnce(deps(), { trigger: 'file', full: false });
  assert.equal(refused.result, 'error');
  assert.match(refused.error ?? '', /^IPV6_UNAVAILABLE: cluster cluster1 is dual-stack .*enable IPv6 on the node .*Ipv6Prefix/);
  assert.equal(refused.writes, 0);
  assert.equal(await kernelState(), before);
  const status = JSON.parse(await fs.readFile(statusFiles(RUN).status, 'utf8')) as { error?: string; appliedSequence?: number };
  assert.match(status.error ?? '', /^IPV6_UNAVAILABLE: /, 'visible in netd status');
  assert.equal(status.appliedSequence, 1, 'the applied document is still the IPv4-only one');
  assert.deepEqual(ipv6Commands, []);

  // 3. flush: our IPv4 objects go, no IPv6 command.
  await flushHost(host, { isOurs, runDir: RUN, publicInterface: '', pool: [], now: () => Date.now(), wait: async () => undefined });
  assert.doesNotMatch(await sh(['iptables-save']), /EDGENET/);
  assert.doesNotMatch(await sh(['ebtables-save']), /EDGENET/);
  assert.doesNotMatch(await sh(['ipset', 'save']), /EDGENET/);
  assert.deepEqual(ipv6Commands, []);
});

test('net.ipv6.conf.all.disable_ipv6=1 is not a kernel without IPv6: the probe says IPv6, ip6tables and the route read work', async (t) => {
  if (!requireRoot(t, 'netd without IPv6 integration')) return;
  await sh(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  try {
    // What the probe reads, read inside the namespace as netd runs there (/proc/net is per namespace).
    const probe = await inNs.run(['test', '-e', '/proc/net/if_inet6'], { okExitCodes: [0, 1] });
    assert.equal(probe.exitCode, 0, '/proc/net/if_inet6 exists: netd sees IPv6');
    const real = createLinuxHost({ exec: inNs, files: createFiles() });
    assert.match(await real.ip6tablesSave('filter'), /^\*filter$/m);
    assert.deepEqual((await real.hostReads(77)).routes6, []);
    // What does fail there: a route on a device whose IPv6 is disabled (a dual-stack sync reports the tool's message).
    await assert.rejects(real.replaceRoute6(PREFIX, 'br0', 77), /IPv6 is disabled on nexthop device/);
  } finally {
    await sh(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0']);
  }
});
