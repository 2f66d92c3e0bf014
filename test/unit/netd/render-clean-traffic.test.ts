/**
 * The rendered ebtables rules do what clean-traffic promises, on real frames
 * (root): a scratch "node" namespace with a bridge and instance namespaces on
 * `vn_<id>` veths (the MACs and IPs of the golden scenario
 * several-instances-groups), only our ebtables nat chains loaded. Checks:
 * legitimate traffic passes; a spoofed source IP, a spoofed MAC, DHCP server
 * replies (udp 67→68) from an instance, IPv6, and an interface without rules
 * get nothing through; the fake router answers ARP for the gateway with the
 * bridge MAC.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createExec } from '../../../src/shared/exec.ts';
import { requireRoot } from '../../helpers/root.ts';
import { ebtablesRestoreText } from '../../../src/netd/netfilter/index.ts';
import { loadScenario, renderScenario } from '../../golden/netd/scenarios.ts';

const exec = createExec();
const BRIDGE_MAC = '02:00:0a:0a:00:01';

async function run(argv: string[], okExitCodes: number[] = [0]): Promise<number> {
  return (await exec.run(argv, { okExitCodes, timeoutMs: 20_000 })).exitCode;
}
const inNs = (ns: string, argv: string[], ok?: number[]) => run(['ip', 'netns', 'exec', ns, ...argv], ok);
const ping = (ns: string, ip: string) => inNs(ns, ['ping', '-c', '1', '-W', '1', ip], [0, 1, 2]);

/** Sends one UDP datagram from `from` (source port sport) to `to`:dport; returns whether the receiver in `toNs` got it. */
async function udpDelivered(args: { fromNs: string; toNs: string; from: string; to: string; sport: number; dport: number; family: 'udp4' | 'udp6' }): Promise<boolean> {
  const any = args.family === 'udp4' ? '0.0.0.0' : '::';
  const receiver = exec.run(['ip', 'netns', 'exec', args.toNs, process.execPath, '-e',
    `const s=require('dgram').createSocket('${args.family}');s.on('message',()=>{console.log('got');process.exit(0)});` +
    `s.bind(${args.dport},'${any}',()=>console.log('ready'));setTimeout(()=>process.exit(0),2500);`], { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 700));
  await exec.run(['ip', 'netns', 'exec', args.fromNs, process.execPath, '-e',
    `const s=require('dgram').createSocket('${args.family}');s.bind(${args.sport},'${args.from}',()=>s.send('x',${args.dport},'${args.to}',()=>s.close()));`], { timeoutMs: 10_000 });
  return (await receiver).stdout.includes('got');
}

test('clean-traffic rules on real frames: spoofing dropped, fake router answers', async (t) => {
  if (!requireRoot(t, 'the clean-traffic namespace test')) return;
  const { result } = renderScenario(loadScenario('several-instances-groups'));
  assert.ok(result.ok);
  const state = result.state;
  const tag = randomBytes(3).toString('hex');
  const node = `h5-ct-${tag}-n`;
  const vms = state.instances.slice(0, 2).map((inst, k) => ({ ...inst, ns: `h5-ct-${tag}-v${k}` }));
  const rogue = { id: 'i-deadbeef', interface: 'vn_i-deadbeef', mac: 'd0:0d:de:ad:be:ef', privateIp: '10.10.1.50', ns: `h5-ct-${tag}-r` };
  const all = [node, ...vms.map((v) => v.ns), rogue.ns];
  try {
    for (const ns of all) await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', node, 'link', 'add', 'br0', 'type', 'bridge']);
    await run(['ip', '-n', node, 'link', 'set', 'br0', 'address', BRIDGE_MAC]);
    await run(['ip', '-n', node, 'addr', 'add', '10.10.0.2/16', 'dev', 'br0']);
    await run(['ip', '-n', node, 'link', 'set', 'br0', 'up']);
    for (const v of [...vms, rogue]) {
      await run(['ip', '-n', node, 'link', 'add', v.interface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', v.ns]);
      await run(['ip', '-n', node, 'link', 'set', v.interface, 'master', 'br0', 'up']);
      await run(['ip', '-n', v.ns, 'link', 'set', 'eth0', 'address', v.mac]);
      await run(['ip', '-n', v.ns, 'addr', 'add', `${v.privateIp}/16`, 'dev', 'eth0']);
      await run(['ip', '-n', v.ns, 'link', 'set', 'eth0', 'up']);
      await run(['ip', '-n', v.ns, 'link', 'set', 'lo', 'up']);
    }
    const hooks = `*nat\n${state.ebtables.nat.hooks.map((h) => `-A ${h.builtin} -j ${h.target}`).join('\n')}\nCOMMIT\n`;
    await exec.run(['ip', 'netns', 'exec', node, 'ebtables-restore', '--noflush'], { input: ebtablesRestoreText('nat', state.ebtables.nat) + hooks });

    const [a, b] = vms as [typeof vms[0], typeof vms[0]];
    assert.equal(await ping(a.ns, b.privateIp), 0, 'instance to instance with its own MAC and IP');
    assert.equal(await ping(a.ns, '10.10.0.2'), 0, 'instance to the node bridge');
    assert.notEqual(await ping(rogue.ns, b.privateIp), 0, 'an interface without rules has no network');

    // Fake router: ARP for the gateway (not an address of anyone) is answered with the bridge MAC.
    const arp = await exec.run(['ip', 'netns', 'exec', a.ns, 'arping', '-c', '1', '-w', '2', '-I', 'eth0', state.gateway], { okExitCodes: [0, 1] });
    assert.equal(arp.exitCode, 0, `no ARP reply for ${state.gateway}: ${arp.stdout}`);
    assert.match(arp.stdout.toLowerCase(), new RegExp(BRIDGE_MAC));

    // A DHCP server reply (udp 67 → 68) from an instance is dropped; the same datagram from another port passes.
    const udp = { fromNs: a.ns, toNs: b.ns, from: a.privateIp, to: b.privateIp, dport: 68, family: 'udp4' as const };
    assert.equal(await udpDelivered({ ...udp, sport: 1067 }), true, 'control: udp 1067 → 68 is delivered');
    assert.equal(await udpDelivered({ ...udp, sport: 67 }), false, 'rogue DHCP server reply dropped');

    // IPv6 (router advertisements included) is dropped both ways; static addresses avoid DAD delays.
    await run(['ip', '-n', a.ns, '-6', 'addr', 'add', 'fd00::5/64', 'dev', 'eth0', 'nodad']);
    await run(['ip', '-n', b.ns, '-6', 'addr', 'add', 'fd00::6/64', 'dev', 'eth0', 'nodad']);
    assert.equal(await udpDelivered({ fromNs: a.ns, toNs: b.ns, from: 'fd00::5', to: 'fd00::6', sport: 4000, dport: 4001, family: 'udp6' }), false, 'IPv6 dropped');

    // Spoofed source IP: the frame leaves a's interface but the rules drop it.
    await run(['ip', '-n', a.ns, 'addr', 'add', '10.10.1.99/32', 'dev', 'eth0']);
    assert.notEqual(await inNs(a.ns, ['ping', '-c', '1', '-W', '1', '-I', '10.10.1.99', b.privateIp], [0, 1, 2]), 0, 'spoofed source IP dropped');
    await run(['ip', '-n', a.ns, 'addr', 'del', '10.10.1.99/32', 'dev', 'eth0']);
    assert.equal(await ping(a.ns, b.privateIp), 0, 'legitimate traffic again');

    // Spoofed MAC: everything from the interface is dropped.
    await run(['ip', '-n', a.ns, 'link', 'set', 'eth0', 'address', 'd0:0d:00:00:00:99']);
    await run(['ip', '-n', b.ns, 'neigh', 'flush', 'all']);
    await run(['ip', '-n', a.ns, 'neigh', 'flush', 'all']);
    assert.notEqual(await ping(a.ns, b.privateIp), 0, 'spoofed MAC dropped');
  } finally {
    for (const ns of all) await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  }
});
