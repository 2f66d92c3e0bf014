/**
 * radvd on a real kernel (issue 14): the supervisor starts the radvd that
 * render asks for on a dual-stack cluster, and a fresh instance namespace —
 * kernel defaults accept_ra=1, autoconf=1, addr_gen_mode=0 (EUI-64), as a
 * guest has them — configures itself from its advertisements alone:
 *
 *   - its global address is slaacAddress(prefix, its MAC), the address the
 *     CLC computed, and its default route is the node's bridge (fe80 of the
 *     pinned bridge MAC) on eth0;
 *   - rdisc6 sees M and O off, the prefix on-link and autonomous, the RDNSS
 *     server and the DNSSL domain; rdnssd (the guest side) writes them;
 *   - a changed name-server list is written, checked and reloaded by SIGHUP
 *     into the SAME radvd process, and reaches rdisc6 and rdnssd;
 *   - a configuration radvd's own check refuses is never signalled: radvd
 *     keeps running and advertising;
 *   - an unchanged state plans nothing (the process is found again from its
 *     pid file and argv, no memory);
 *   - an IPv4-only cluster stops it: process, pid file and configuration go,
 *     and its stop adverts take the instance's default route away.
 *
 * Topology: `<p>-node` holds br0 (MAC pinned at creation, forwarding=1 as
 * netd sets it) with port vif1; `<p>-i1` holds eth0 (MAC d0:0d:00:00:00:05).
 * netd's HostOps runs every command inside `<p>-node`. Namespaces, radvd,
 * rdnssd and the run directory are removed in `after`, whatever failed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createExec, prefixedExec, type Process } from '../../src/shared/exec.ts';
import { createFiles } from '../../src/shared/files.ts';
import { waitFor } from '../../src/shared/wait.ts';
import { formatIpv6, linkLocalAddress, parseCidr6, slaacAddress } from '../../src/shared/ip.ts';
import { clusterIpv6Extension, instanceIpv6Extension } from '../../src/shared/gni/ipv6.ts';
import type { GniDocument } from '../../src/shared/gni/model.ts';
import { DEFAULT_NETD_CONFIG } from '../../src/netd/config.ts';
import { render } from '../../src/netd/render/render.ts';
import type { SupervisedProcess } from '../../src/netd/render/types.ts';
import { createLinuxHost } from '../../src/netd/apply/linux-host.ts';
import { applySteps, type ApplyContext } from '../../src/netd/apply/apply.ts';
import { processLayout } from '../../src/netd/apply/process-driver.ts';
import { findProcess, observeProcesses, reloadProcess, writeProcessFiles } from '../../src/netd/apply/supervisor.ts';
import { radvdDriver } from '../../src/netd/apply/radvd.ts';
import { planProcesses } from '../../src/netd/plan/processes.ts';
import { describeStep } from '../../src/netd/plan/steps.ts';
import { sleep, systemClock } from '../../src/shared/clock.ts';
import type { EdgenetError } from '../../src/shared/errors.ts';

const P = `enr${randomBytes(3).toString('hex')}`;
const NODE_NS = `${P}-node`;
const INST_NS = `${P}-i1`;
const BRIDGE_MAC = '02:00:0a:0a:00:01';
const INST_MAC = 'd0:0d:00:00:00:05';
const PREFIX = '2001:db8:10::/64';
const NODE = '10.0.0.21';
const RDNSSD = '/usr/sbin/rdnssd';

const exec = createExec();
let runDir = '';
let rdnssd: Process | undefined;
let ctx: ApplyContext;
const layout = () => processLayout(runDir, 'radvd');

async function sh(argv: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec.run(argv, { timeoutMs: 20_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { exitCode?: number; message: string };
    return { code: e.exitCode ?? -1, out: e.message };
  }
}
const inNs = (ns: string, argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);
async function must(argv: string[]): Promise<string> {
  const r = await sh(argv);
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.out}`);
  return r.out;
}

function doc(dnsServers: string[] | undefined): GniDocument {
  const v6 = dnsServers !== undefined;
  const addr = formatIpv6(slaacAddress(parseCidr6(PREFIX)!, INST_MAC)!);
  return {
    version: `v-${dnsServers?.join('-') ?? 'v4'}`,
    sequence: 1,
    configuration: {
      mode: 'EDGE', publicIps: ['203.0.113.10-203.0.113.20'], enabledClcIp: '10.0.0.5', instanceDnsDomain: 'eucalyptus.internal',
      instanceDnsServers: ['10.0.0.2'], subnets: [],
      clusters: [{
        name: 'zone-a', subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' }, macPrefix: 'd0:0d',
        privateIps: ['10.10.1.2-10.10.2.254'], nodes: [{ name: NODE, instanceIds: ['i-00000001'] }],
        ...(v6 ? { extensions: [clusterIpv6Extension({ prefix: PREFIX, dnsServers })] } : {}),
      }],
    },
    instances: [{ name: 'i-00000001', ownerId: '1', macAddress: INST_MAC, privateIp: '10.10.1.5', securityGroups: [], ...(v6 ? { extensions: [instanceIpv6Extension(addr)] } : {}) }],
    securityGroups: [],
  };
}

/** The radvd entry of the rendered desired state. */
function radvdEntry(d: GniDocument): SupervisedProcess {
  const r = render(d, { node: NODE }, DEFAULT_NETD_CONFIG, { bridgeMac: BRIDGE_MAC, bridgeAddresses: ['10.10.0.2/16'] });
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.message}`);
  const p = r.state.processes.find((x) => x.kind === 'radvd');
  assert.ok(p, 'render lists radvd');
  return p;
}

/** One sync of the radvd entry: observe (pid file + argv, no memory), plan, apply. Returns the steps. */
async function sync(entry: SupervisedProcess): Promise<string[]> {
  const observed = await observeProcesses(ctx.host, { runDir, desired: [entry] });
  const steps = planProcesses([entry], observed);
  await applySteps(steps, ctx);
  return steps.map(describeStep);
}

const radvdPid = () => findProcess(ctx.host, radvdDriver, layout());

async function rdisc6(): Promise<string> {
  return (await inNs(INST_NS, ['rdisc6', '-1', '-w', '1000', '-r', '3', 'eth0'])).out;
}

before(async () => {
  if (!isRoot()) return;
  runDir = mkdtempSync(join(tmpdir(), 'en-radvd-'));
  await must(['ip', 'netns', 'add', NODE_NS]);
  await must(['ip', 'netns', 'add', INST_NS]);
  // The MAC is given at creation: pinned, so the RA's source never changes as ports join.
  await must(['ip', '-n', NODE_NS, 'link', 'add', 'br0', 'address', BRIDGE_MAC, 'type', 'bridge']);
  await must(['ip', 'netns', 'exec', NODE_NS, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  await must(['ip', '-n', NODE_NS, 'link', 'add', 'vif1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', INST_NS]);
  await must(['ip', '-n', INST_NS, 'link', 'set', 'eth0', 'address', INST_MAC]);
  await must(['ip', '-n', NODE_NS, 'link', 'set', 'vif1', 'master', 'br0']);
  for (const [ns, dev] of [[NODE_NS, 'vif1'], [NODE_NS, 'br0'], [INST_NS, 'lo'], [INST_NS, 'eth0']] as const) await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  const host = createLinuxHost({ exec: prefixedExec(exec, ['ip', 'netns', 'exec', NODE_NS]), files: createFiles() });
  ctx = { host, runDir, config: DEFAULT_NETD_CONFIG, now: () => systemClock.now(), wait: (ms) => sleep(systemClock, ms), startCheckMs: 300 };
  // The bridge's link-local address must have passed DAD before radvd can send from it.
  await waitFor(async () => !/tentative/.test(await must(['ip', '-n', NODE_NS, '-6', 'addr', 'show', 'dev', 'br0'])) && /fe80::/.test(await must(['ip', '-n', NODE_NS, '-6', 'addr', 'show', 'dev', 'br0'])), { timeoutMs: 10_000, what: 'br0 link-local address' });
});

after(async () => {
  if (!isRoot()) return;
  rdnssd?.kill('SIGTERM');
  // Our radvd only: the pid in our pid file, if its argv is ours.
  const pid = ctx === undefined ? undefined : await radvdPid().catch(() => undefined);
  if (pid !== undefined) process.kill(pid, 'SIGKILL');
  for (const ns of [INST_NS, NODE_NS]) await sh(['ip', 'netns', 'del', ns]);
  if (runDir !== '') rmSync(runDir, { recursive: true, force: true });
});

test('radvd from the rendered state: SLAAC address, default route and DNS on a fresh instance; SIGHUP reload in place; refused config never signalled; stop', { timeout: 180_000 }, async (t) => {
  if (!requireRoot(t, 'netd radvd integration')) return;
  for (const [key, want] of [['accept_ra', '1'], ['autoconf', '1'], ['addr_gen_mode', '0']]) {
    assert.equal((await must(['ip', 'netns', 'exec', INST_NS, 'sysctl', '-n', `net.ipv6.conf.eth0.${key}`])).trim(), want, `instance default ${key}`);
  }
  const expected = formatIpv6(slaacAddress(parseCidr6(PREFIX)!, INST_MAC)!);
  const router = formatIpv6(linkLocalAddress(BRIDGE_MAC)!);
  assert.equal(expected, '2001:db8:10:0:d20d:ff:fe00:5');

  // 1. Dual-stack: written, checked, started.
  assert.deepEqual(await sync(radvdEntry(doc(['2001:db8:10::53']))), ['radvd config write', 'radvd start on br0']);
  const pid = await radvdPid();
  assert.ok(pid !== undefined, 'radvd runs and is recognised as ours');
  assert.equal(readFileSync(layout().pid, 'utf8').trim(), String(pid));
  assert.match(readFileSync(layout().file('radvd.conf'), 'utf8'), /^ {2}RDNSS 2001:db8:10::53 \{$/m);

  // 2. The instance takes the EUI-64 address and the node as its default router, by itself.
  await waitFor(async () => new RegExp(`inet6 ${expected}/64 scope global`).test(await must(['ip', '-n', INST_NS, '-6', 'addr', 'show', 'dev', 'eth0'])), { timeoutMs: 20_000, what: `SLAAC address ${expected}` });
  await waitFor(async () => new RegExp(`^default via ${router} dev eth0 proto ra`, 'm').test(await must(['ip', '-n', INST_NS, '-6', 'route', 'show'])), { timeoutMs: 20_000, what: `default route via ${router}` });

  // 3. What the advertisement says, as a guest tool reads it.
  const ra = await rdisc6();
  for (const re of [/Stateful address conf\.\s*:\s*No/, /Stateful other conf\.\s*:\s*No/, /Prefix\s*:\s*2001:db8:10::\/64/, /On-link\s*:\s*Yes/, /Autonomous address conf\.\s*:\s*Yes/, /Recursive DNS server\s*:\s*2001:db8:10::53/, /DNS search list\s*:\s*eucalyptus\.internal/, /Source link-layer address: 02:00:0A:0A:00:01/i, new RegExp(`from ${router}`)]) {
    assert.match(ra, re);
  }
  assert.doesNotMatch(ra, /2001:db8:10::54/);

  // 4. rdnssd on the guest writes the name server it learned.
  const resolv = join(runDir, 'guest-resolv.conf');
  if (existsSync(RDNSSD)) {
    rdnssd = exec.start(['ip', 'netns', 'exec', INST_NS, RDNSSD, '-f', '-u', 'root', '-r', resolv, '-p', join(runDir, 'rdnssd.pid')], { logFile: join(runDir, 'rdnssd.log') });
    await waitFor(() => existsSync(resolv) && /^nameserver 2001:db8:10::53$/m.test(readFileSync(resolv, 'utf8')), { timeoutMs: 30_000, what: 'rdnssd resolv file with 2001:db8:10::53' });
    assert.match(readFileSync(resolv, 'utf8'), /^search eucalyptus\.internal$/m);
  } else {
    t.diagnostic(`${RDNSSD} is not installed (scripts/setup.sh TEST_PACKAGES): the guest-side RDNSS check did not run`);
  }

  // 5. Nothing changed: nothing planned (found again from the pid file and argv).
  assert.deepEqual(await sync(radvdEntry(doc(['2001:db8:10::53']))), []);

  // 6. A changed DNS list: rewritten, checked, SIGHUP to the same process.
  assert.deepEqual(await sync(radvdEntry(doc(['2001:db8:10::53', '2001:db8:10::54']))), ['radvd config write', `radvd reload (pid ${pid}, SIGHUP)`]);
  await waitFor(async () => /Recursive DNS server\s*:\s*2001:db8:10::54/.test(await rdisc6()), { timeoutMs: 20_000, what: 'the new name server in the RA' });
  assert.equal(await radvdPid(), pid, 'the same radvd process');
  if (rdnssd !== undefined) {
    await waitFor(() => /^nameserver 2001:db8:10::54$/m.test(readFileSync(resolv, 'utf8')), { timeoutMs: 30_000, what: 'rdnssd resolv file with 2001:db8:10::54' });
  }

  // 7. A configuration radvd refuses is never signalled (radvd exits on one): it keeps running and advertising.
  await writeProcessFiles(ctx, 'radvd', [{ name: 'radvd.conf', content: 'interface br0 {\n  AdvSendAdvert on\n' }]);
  await assert.rejects(reloadProcess(ctx, 'radvd', pid, 'SIGHUP'), (err: EdgenetError) => err.code === 'PROCESS_CONFIG_REFUSED' && /syntax error/.test(err.message));
  assert.equal(await radvdPid(), pid, 'still running');
  assert.match(await rdisc6(), /Recursive DNS server\s*:\s*2001:db8:10::54/, 'still advertising its previous configuration');
  // The refused file is gone, so the next sync writes the good one again and reloads.
  assert.deepEqual(await sync(radvdEntry(doc(['2001:db8:10::53', '2001:db8:10::54']))), ['radvd config write', `radvd reload (pid ${pid}, SIGHUP)`]);
  assert.equal(await radvdPid(), pid);

  // 8. IPv4-only: stopped; pid file and configuration removed; the stop adverts end the instance's default route.
  assert.deepEqual(await sync(radvdEntry(doc(undefined))), [`radvd stop (pid ${pid})`]);
  assert.equal(await ctx.host.processArgv(pid), undefined, 'the process is gone');
  assert.equal(existsSync(layout().pid), false);
  assert.equal(existsSync(layout().file('radvd.conf')), false);
  await waitFor(async () => !/^default /m.test(await must(['ip', '-n', INST_NS, '-6', 'route', 'show'])), { timeoutMs: 10_000, what: 'the default route withdrawn by the stop adverts' });
  assert.deepEqual(await sync(radvdEntry(doc(undefined))), [], 'stopped stays stopped');
});
