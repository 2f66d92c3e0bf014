/**
 * netd's IPv6 plumbing on a real kernel (root; one scratch namespace,
 * `h3v6-<pid>`, removed in `after` even on failure): the real HostOps
 * (linux-host.ts, every tool run through `ip netns exec`) applies a
 * hand-built dual-stack DesiredState (test/helpers/ipv6-state.ts) through the
 * same observe → plan → apply path as a sync, and the kernel is read back:
 * - ip6tables filter and nat chains and hooks, inet6 ipsets and the ebtables
 *   filter rules (`-o ! vn_+`, ICMPv6 names) are in the kernel, and the
 *   kernel's echo equals what was written (a second sync writes nothing:
 *   every write of the host is counted);
 * - a changed group chain is one ip6tables-restore of the filter table with
 *   only that chain;
 * - the bridge's /64 is routed on-link with our route protocol; a foreign
 *   route on the bridge is never touched;
 * - going back to IPv4 only sweeps every IPv6 object (chains, hooks, inet6
 *   set, route) and leaves the IPv4 rules; `netd flush` removes the rest.
 * The restores are real ones (not `--test`, which on the nft backend misses
 * undefined chains).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createExec, prefixedExec } from '../../src/shared/exec.ts';
import { createFiles } from '../../src/shared/files.ts';
import { createLinuxHost } from '../../src/netd/apply/linux-host.ts';
import type { HostOps } from '../../src/netd/apply/host.ts';
import { observeHost } from '../../src/netd/apply/observe.ts';
import { planSync } from '../../src/netd/plan/plan.ts';
import { applySteps } from '../../src/netd/apply/apply.ts';
import { flushHost } from '../../src/netd/flush.ts';
import type { DesiredState } from '../../src/netd/render/types.ts';
import { parseIpsetSave, parseIptablesSave } from '../../src/netd/netfilter/index.ts';
import { BRIDGE, INSTANCE6_KERNEL, PREFIX6, dualStackState, groupRules, ipv4OnlyState } from '../helpers/ipv6-state.ts';

const NS = `h3v6-${process.pid}`;
const RUN = `/tmp/${NS}-run`;
const exec = createExec();
const isOurs = (n: string) => n.startsWith('EN-');
let host: HostOps;
/** Every write the host was asked to do: [operation, input]. */
const writes: [string, string][] = [];

async function sh(argv: string[], input?: string): Promise<string> {
  return (await exec.run(['ip', 'netns', 'exec', NS, ...argv], input === undefined ? {} : { input })).stdout;
}

/** The real host, with every write counted. */
function counted(inner: HostOps): HostOps {
  const wrap = <K extends 'iptablesRestore' | 'ip6tablesRestore' | 'ebtablesRestore' | 'ipsetRestore'>(k: K) => async (text: string) => {
    writes.push([k, text]);
    await inner[k](text);
  };
  return {
    ...inner,
    iptablesRestore: wrap('iptablesRestore'),
    ip6tablesRestore: wrap('ip6tablesRestore'),
    ebtablesRestore: wrap('ebtablesRestore'),
    ipsetRestore: wrap('ipsetRestore'),
    replaceRoute6: async (p, d, proto) => { writes.push(['replaceRoute6', p]); await inner.replaceRoute6(p, d, proto); },
    deleteRoute6: async (p, d, proto) => { writes.push(['deleteRoute6', p]); await inner.deleteRoute6(p, d, proto); },
    changeAddresses: async (ops) => { writes.push(['changeAddresses', JSON.stringify(ops)]); await inner.changeAddresses(ops); },
  };
}

/** One sync of `desired` (observe, plan, apply); returns the writes it issued. */
async function sync(desired: DesiredState): Promise<[string, string][]> {
  const before = writes.length;
  const observed = await observeHost(host, { sysctlKeys: [], publicInterface: '', runDir: RUN, processes: [], bridge: BRIDGE, privateInterface: '' });
  const plan = planSync(desired, observed, { full: false, isOurs });
  await applySteps(plan.steps, { host, runDir: RUN, now: () => Date.now(), wait: async () => undefined });
  return writes.slice(before);
}

const ourChains = async (table: 'filter' | 'nat') => [...(parseIptablesSave(await sh(['ip6tables-save', '-t', table]), 'ipv6').get(table)?.chains.keys() ?? [])].filter(isOurs);
const routes = async () => (await sh(['ip', '-6', 'route', 'show', 'dev', BRIDGE])).split('\n').filter((l) => l !== '' && !l.startsWith('fe80::') && !l.startsWith('multicast'));

before(async () => {
  if (!isRoot()) return;
  await exec.run(['ip', 'netns', 'add', NS]);
  await sh(['ip', 'link', 'set', 'lo', 'up']);
  await sh(['ip', 'link', 'add', BRIDGE, 'address', '02:00:0a:0a:00:01', 'type', 'bridge']);
  await sh(['ip', 'link', 'add', 'vn_i-b', 'type', 'veth', 'peer', 'name', 'eth0']);
  await sh(['ip', 'link', 'set', 'vn_i-b', 'master', BRIDGE]);
  for (const l of [BRIDGE, 'vn_i-b', 'eth0']) await sh(['ip', 'link', 'set', l, 'up']);
  // Someone else's route on the bridge: netd must never touch it.
  await sh(['ip', '-6', 'route', 'add', 'fd00:77::/64', 'dev', BRIDGE, 'proto', 'static']);
  host = counted(createLinuxHost({ exec: prefixedExec(exec, ['ip', 'netns', 'exec', NS]), files: createFiles() }));
});

after(async () => {
  if (!isRoot()) return;
  await exec.run(['ip', 'netns', 'del', NS], { okExitCodes: [0, 1] });
});

test('dual stack on a real kernel: applied, echoed exactly (second sync writes nothing), one changed chain is one restore, IPv4-only sweeps all IPv6, flush', async (t) => {
  if (!requireRoot(t, 'netd IPv6 apply integration')) return;

  // 1. Apply the dual-stack state.
  const first = await sync(dualStackState());
  assert.deepEqual(first.map(([op]) => op).sort(), ['ebtablesRestore', 'ip6tablesRestore', 'ip6tablesRestore', 'ipsetRestore', 'iptablesRestore', 'replaceRoute6'].sort());
  assert.deepEqual(await ourChains('filter'), ['EN-FWD', 'EN-ND', 'EN-sg-a']);
  assert.deepEqual(await ourChains('nat'), ['EN-PRE']);
  const save6 = await sh(['ip6tables-save']);
  assert.match(save6, /^-A FORWARD -m comment --comment "security groups #[0-9a-f]{10}" -j EN-FWD$/m);
  assert.match(save6, /^-A PREROUTING -m comment --comment "metadata #[0-9a-f]{10}" -j EN-PRE$/m);
  assert.match(save6, /^-A EN-ND -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m u32 --u32 "0x30=0x20010db8&&0x34=0x100000&&0x38=0xd20d00ff&&0x3c=0xfe00000b"/m);
  assert.match(save6, /--to-destination \[fd00:172:31::2\]:8773/);
  const sets = parseIpsetSave(await sh(['ipset', 'save']));
  assert.deepEqual(sets.get('EN-sg-a-6')?.options.slice(0, 2), ['family', 'inet6']);
  assert.deepEqual(sets.get('EN-sg-a-6')?.members, [INSTANCE6_KERNEL, '2001:db8:99::/48'], 'the kernel lists RFC 5952 text (a single zero group is not compressed)');
  assert.deepEqual(sets.get('EN-sg-a')?.options.slice(0, 2), ['family', 'inet']);
  const eb = await sh(['ebtables-save', '-t', 'filter']);
  assert.match(eb, /^-A EN-EB-OUT -p IPv6 -o ! vn_\+ --ip6-proto ipv6-icmp --ip6-icmp-type router-advertisement -j DROP$/m);
  assert.match(eb, /^-A EN-EB-OUT -p IPv6 --ip6-src :: --ip6-proto udp --ip6-dport 547 -j RETURN$/m);
  assert.match(eb, /^-A OUTPUT -j EN-EB-OUT$/m);
  assert.match(eb, /^-A EN-EB-OUT -p IPv6 --ip6-dst 2001:db8:10:0:d20d:ff:fe00:b -j RETURN$/m);
  const r = await routes();
  assert.ok(r.some((l) => l.startsWith(`${PREFIX6} proto 77 `)), r.join('\n'));
  assert.ok(r.some((l) => l.startsWith('fd00:77::/64 proto static')), r.join('\n'));

  // 2. Converged: the kernel's echo equals the desired state, nothing is written.
  assert.deepEqual(await sync(dualStackState()), []);

  // 3. One v6 group chain changes: one ip6tables filter restore, only that chain.
  const changed = await sync(dualStackState({ group: groupRules([22, 443]) }));
  assert.deepEqual(changed.map(([op]) => op), ['ip6tablesRestore']);
  assert.match(changed[0]![1], /^\*filter\n:EN-sg-a - \[0:0\]\n/);
  assert.doesNotMatch(changed[0]![1], /EN-FWD|EN-ND/);
  assert.match(await sh(['ip6tables-save', '-t', 'filter']), /^-A EN-sg-a -p tcp -m tcp --dport 443 /m);
  assert.deepEqual(await sync(dualStackState({ group: groupRules([22, 443]) })), []);

  // 4. Back to IPv4 only: every IPv6 object goes, the IPv4 ones stay, the foreign route stays.
  const swept = await sync(ipv4OnlyState());
  // ip6tables filter and nat, ebtables filter (rules gone first), then the inet6 set, then the route.
  assert.deepEqual(swept.map(([op]) => op), ['ip6tablesRestore', 'ip6tablesRestore', 'ebtablesRestore', 'ipsetRestore', 'deleteRoute6']);
  assert.deepEqual(await ourChains('filter'), []);
  assert.deepEqual(await ourChains('nat'), []);
  assert.doesNotMatch(await sh(['ip6tables-save']), /EN-/);
  assert.doesNotMatch(await sh(['ebtables-save']), /EN-/);
  assert.deepEqual([...parseIpsetSave(await sh(['ipset', 'save'])).keys()], ['EN-sg-a']);
  assert.deepEqual(await routes(), ['fd00:77::/64 proto static metric 1024 pref medium']);
  assert.match(await sh(['iptables-save', '-t', 'filter']), /^-A FORWARD .*-j EN-FWD$/m);
  assert.deepEqual(await sync(ipv4OnlyState()), [], 'an IPv4-only node writes nothing, ip6tables included');

  // 5. Dual stack again, then flush: nothing of ours is left, the foreign route is.
  await sync(dualStackState());
  await flushHost(host, { isOurs, runDir: RUN, publicInterface: '', pool: [], now: () => Date.now(), wait: async () => undefined });
  assert.doesNotMatch(await sh(['ip6tables-save']), /EN-/);
  assert.doesNotMatch(await sh(['iptables-save']), /EN-/);
  assert.doesNotMatch(await sh(['ebtables-save']), /EN-/);
  assert.equal((await sh(['ipset', 'save'])).trim(), '');
  assert.deepEqual(await routes(), ['fd00:77::/64 proto static metric 1024 pref medium']);
});
