/**
 * A Eucalyptus node's eucalyptus.conf as netd reads it, on the in-memory
 * kernel (test/helpers/fake-host.ts):
 *   - the install guide's node configuration (VNET_PRIVINTERFACE="br0",
 *     VNET_BRIDGE="br0": Eucalyptus 4.x install guide, "Configure the network
 *     on the node"; eucalyptus-edge.md §6.3) and its neighbours (the private
 *     interface another bridge, or already a port of the bridge) sync with
 *     every rule written and no link attached;
 *   - NC_PROXY=Y (4.1.2+, EUCA-10695; eucalyptus-edge.md §1.4 f/g and
 *     eucanetd 4.4 net/eucanetd_edge.c do_edge_update_eips, do_edge_update_l2,
 *     update_host_arp): proxy ARP for the local instances' addresses with the
 *     bridge MAC, MASQUERADE with the 0x2a exception, one announcement per new
 *     address and none once the rule is in the kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, group, inst, testGniXml, type TestCloud } from '../../helpers/fake-host.ts';
import { syncOnce, type SyncDeps } from '../../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG, NETD_CONFIG_CODES, parseNetdConfig, type NetdConfig } from '../../../src/netd/config.ts';
import { loadScenario, renderScenario } from '../../golden/netd/scenarios.ts';
import { render } from '../../../src/netd/render/render.ts';
import { planSync } from '../../../src/netd/plan/plan.ts';
import type { ObservedState } from '../../../src/netd/plan/observed.ts';
import { ruleArgs } from '../../../src/netd/netfilter/rule-args.ts';

const GNI = '/run/en/global_network_info.xml';
const BRIDGE_MAC = '02:00:00:00:00:aa';
const SSH = { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' };
const CLOUD: TestCloud = {
  nodes: [{ name: 'node1', instances: ['i-00000001', 'i-00000002'] }],
  instances: [inst('i-00000001', 11, ['sg-0000000a'], '198.51.100.11'), inst('i-00000002', 12, ['sg-0000000a'])],
  groups: [group('sg-0000000a', [SSH])],
  sequence: 7,
};

function newHost(extraLinks: { name: string; isBridge?: boolean; master?: string }[] = []): FakeHost {
  return new FakeHost({
    links: [{ name: 'br0', isBridge: true, mac: BRIDGE_MAC }, { name: 'pub0' }, ...extraLinks],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }], pub0: [{ address: '192.0.2.5', prefixlen: 24 }] },
  });
}

function deps(host: FakeHost, config: NetdConfig): SyncDeps {
  let t = 1_700_000_000_000;
  return { host, config, runDir: '/run/en', gniFile: GNI, now: () => (t += 1), wait: async () => undefined };
}

async function sync(host: FakeHost, config: NetdConfig) {
  host.files.set(GNI, testGniXml(CLOUD));
  return syncOnce(deps(host, config), { trigger: 'start', full: true });
}

const BASE: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', publicInterface: 'pub0' };

test('the install guide node configuration (VNET_PRIVINTERFACE="br0", VNET_BRIDGE="br0") syncs: rules written, no link attached', async () => {
  // Source: Eucalyptus 4.x install guide, eucalyptus.conf on the node: VNET_PRIVINTERFACE="br0", VNET_BRIDGE="br0".
  const parsed = parseNetdConfig('VNET_MODE="EDGE"\nVNET_PRIVINTERFACE="br0"\nVNET_PUBINTERFACE="pub0"\nVNET_BRIDGE="br0"\nVNET_DHCPDAEMON="/usr/sbin/dhcpd"\n');
  assert.ok(parsed.ok, JSON.stringify(parsed.diagnostics));
  const host = newHost();
  const o = await sync(host, { ...parsed.value, nodeName: 'node1' });
  assert.equal(o.result, 'ok', o.error);
  const kinds = o.steps.map((s) => s.description);
  assert.ok(!kinds.some((d) => / master /.test(d)), `no link attached: ${kinds.join('; ')}`);
  assert.ok(kinds.some((d) => d.startsWith('iptables filter:')), 'filter rules written');
  assert.ok(kinds.some((d) => d.startsWith('ebtables nat:')), 'ebtables rules written');
  assert.ok(kinds.some((d) => d.startsWith('dhcpd start')), 'dhcpd started for the instances');
  assert.equal((await host.links()).find((l) => l.name === 'br0')?.master, undefined);
  // Converged: the next sync writes nothing.
  assert.equal((await sync(host, { ...parsed.value, nodeName: 'node1' })).writes, 0);
});

test('VNET_PRIVINTERFACE another bridge, or a port already in VNET_BRIDGE: accepted, nothing attached', async () => {
  for (const [links, priv] of [
    [[{ name: 'br1', isBridge: true }], 'br1'],
    [[{ name: 'eth1', master: 'br0' }], 'eth1'],
  ] as const) {
    const host = newHost([...links]);
    const o = await sync(host, { ...BASE, privateInterface: priv });
    assert.equal(o.result, 'ok', `${priv}: ${o.error}`);
    assert.ok(!o.steps.some((s) => / master /.test(s.description)), `${priv}: ${o.steps.map((s) => s.description).join('; ')}`);
    assert.ok(o.steps.some((s) => s.description.startsWith('ebtables nat:')), `${priv}: rules written`);
  }
});

test('NC_PROXY is a known key (Y/N, default N), no longer an unknown-key warning', () => {
  const y = parseNetdConfig('NC_PROXY="Y"\n');
  assert.ok(y.ok);
  assert.equal(y.value.ncProxy, true);
  assert.deepEqual(y.diagnostics.filter((d) => d.code === NETD_CONFIG_CODES.unknownKey), []);
  const none = parseNetdConfig('');
  assert.ok(none.ok);
  assert.equal(none.value.ncProxy, false);
  assert.equal(parseNetdConfig('NC_PROXY="maybe"\n').ok, false);
});

test('NC_PROXY=Y renders proxy ARP and MASQUERADE; NC_PROXY=N renders neither', () => {
  const on = renderScenario(loadScenario('nc-proxy')).result;
  const off = renderScenario(loadScenario('elastic-ips')).result;
  assert.ok(on.ok && off.ok);
  const arpreplies = (s: typeof on) => (s.ok ? s.state.ebtables.nat.chains.flatMap((c) => c.rules).filter((r) => r.target.kind === 'arpreply').map((r) => ruleArgs(r).join(' ')) : []);
  // eucanetd 4.4 do_edge_update_l2: `-p ARP --arp-ip-dst <vm ip> -j arpreply --arpreply-mac <brmac>` per local instance.
  const onRules = arpreplies(on);
  for (const ip of ['10.10.1.5', '10.10.1.6', '10.10.1.7']) {
    assert.ok(onRules.includes(`-p ARP --arp-op Request --arp-ip-dst ${ip} -j arpreply --arpreply-mac 02:00:0a:0a:00:01`), `${ip}: ${onRules.join('\n')}`);
  }
  assert.ok(!arpreplies(off).some((r) => r.includes('--arp-ip-dst 10.10.1.')), 'no proxy ARP without NC_PROXY');
  // eucanetd 4.4 do_edge_update_eips: `-A EUCA_NAT_POST -s <net>/<len> -m mark ! --mark 0x2a -j MASQUERADE`.
  const masq = (s: typeof on) => (s.ok ? s.state.iptables.nat.chains.flatMap((c) => c.rules).filter((r) => r.target.kind === 'masquerade').map((r) => ruleArgs(r).join(' ')) : []);
  assert.deepEqual(masq(on), ['-s 10.10.0.0/16 -m mark ! --mark 0x2a -j MASQUERADE']);
  assert.deepEqual(masq(off), []);
  assert.deepEqual(on.state.proxyArp, { interface: 'br0', addresses: ['10.10.1.5', '10.10.1.6', '10.10.1.7'] });
  assert.equal(off.state.proxyArp, undefined);
});

test('NC_PROXY=Y needs the bridge MAC even with NC_ROUTER=N', () => {
  const s = loadScenario('nc-proxy');
  const config = parseNetdConfig(`${s.configText}\nNC_ROUTER="N"\n`);
  assert.ok(config.ok);
  const r = render(s.doc, { node: s.node }, config.value, {});
  assert.equal(r.ok, false);
  assert.equal(r.ok ? '' : r.code, 'BRIDGE_MAC_UNKNOWN');
});

test('NC_PROXY=Y with DISABLE_L2_ISOLATION=Y keeps the proxy: one wildcard reply for the instances, the per-address replies', () => {
  const s = loadScenario('nc-proxy');
  const config = parseNetdConfig(`${s.configText}\nDISABLE_L2_ISOLATION="Y"\n`);
  assert.ok(config.ok);
  const r = render(s.doc, { node: s.node }, config.value, s.host);
  assert.ok(r.ok);
  const pre = r.state.ebtables.nat.chains[0]!.rules.map((x) => ruleArgs(x).join(' '));
  assert.ok(pre.includes('-p ARP -i vn_+ --arp-op Request -j arpreply --arpreply-mac 02:00:0a:0a:00:01'), pre.join('\n'));
  assert.ok(pre.includes('-p ARP --arp-op Request --arp-ip-dst 10.10.1.5 -j arpreply --arpreply-mac 02:00:0a:0a:00:01'));
  assert.ok(!pre.some((x) => x.includes('--arp-ip-dst 10.10.0.1 ')), 'the fake-router reply is replaced by the wildcard one');
});

test('NC_PROXY=Y: each address is announced once, when its proxy rule is new; a converged host announces nothing', async () => {
  const host = newHost();
  const config: NetdConfig = { ...BASE, ncProxy: true };
  const first = await sync(host, config);
  assert.equal(first.result, 'ok', first.error);
  assert.ok(first.steps.some((s) => s.description === 'announce 10.10.0.11 10.10.0.12 on br0 (proxy ARP)'), first.steps.map((s) => s.description).join('; '));
  // Announcements run in the background after the sync (sync.ts announceInBackground), one per event-loop turn.
  for (let i = 0; i < 20 && !host.arps.includes('br0 10.10.0.12'); i++) await new Promise<void>((r) => setImmediate(r));
  assert.ok(host.arps.includes('br0 10.10.0.11') && host.arps.includes('br0 10.10.0.12'), host.arps.join(', '));
  const announced = host.arps.length;
  const again = await sync(host, config);
  assert.equal(again.writes, 0, again.steps.map((s) => s.description).join('; '));
  assert.equal(host.arps.length, announced);
});

test('NC_PROXY plan: only addresses without an arpreply rule in the kernel are announced', () => {
  const s = renderScenario(loadScenario('nc-proxy')).result;
  assert.ok(s.ok);
  const empty = { chains: new Map() };
  const observed: ObservedState = {
    iptables: { filter: empty, nat: empty },
    ip6tables: { filter: empty, nat: empty },
    ebtables: {
      filter: empty,
      nat: { chains: new Map([['EDGENET-EB-PRE', [{ args: ['-p', 'ARP', '--arp-op', 'Request', '--arp-ip-dst', '10.10.1.5', '-j', 'arpreply', '--arpreply-mac', '02:00:0a:0a:00:01'], comment: '' }]]]) },
    },
    ipsets: new Map(),
    publicAddresses: [],
    links: new Map(),
    sysctls: new Map(),
    processes: new Map(),
  };
  const plan = planSync(s.state, observed, { full: false, isOurs: (n) => n.startsWith('EDGENET') });
  const announce = plan.steps.filter((x) => x.kind === 'arp-announce');
  assert.deepEqual(announce, [{ kind: 'arp-announce', interface: 'br0', addresses: ['10.10.1.6', '10.10.1.7'] }]);
});
