/**
 * `netd adopt`'s pure parts: finding eucanetd's footprint in what the save
 * tools print, and the order of the adopt plan (one transaction per table that
 * writes ours and removes eucanetd's; its other tables, sets, /32s and dhcpd
 * after; refusals). The namespace test (test/integration/netd-adopt.test.ts)
 * runs the real switch.
 *
 * eucanetd's names and rules: ../shared/reference/eucalyptus-edge.md §1.4 d–h, §6.3 (4.4 shapes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findFootprint, eucanetdPaths, isEucanetdName, type EucanetdFootprint } from '../../../src/netd/eucanetd-footprint.ts';
import { planAdopt, removalText, type AdoptStep } from '../../../src/netd/adopt-plan.ts';
import { parseEbtablesSave, parseIptablesSave } from '../../../src/netd/netfilter/index.ts';
import { render } from '../../../src/netd/render/render.ts';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import { netdNames } from '../../../src/netd/names.ts';
import type { ObservedState, ObservedTable } from '../../../src/netd/plan/observed.ts';
import type { DesiredState } from '../../../src/netd/render/types.ts';
import { group, inst, testGni } from '../../helpers/fake-host.ts';

const PATHS = eucanetdPaths('/opt/euca');
const DHCPD_ARGV = ['/usr/sbin/dhcpd', '-f', '-cf', '/opt/euca/var/run/eucalyptus/net/euca-dhcp.conf', 'br0'];

// 4.4 shapes: §1.4 d (filter), f (nat, raw counters).
const IPTABLES_SAVE = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:EUCA_RAW_PRE - [0:0]
:EUCA_COUNTERS_IN - [0:0]
-A PREROUTING -j EUCA_RAW_PRE
-A EUCA_RAW_PRE -j EUCA_COUNTERS_IN
-A EUCA_COUNTERS_IN -d 10.10.0.11/32
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:EUCA_FILTER_FWD_PREUSERHOOK - [0:0]
:EUCA_FILTER_FWD - [0:0]
:sg-000000eb - [0:0]
:sg-custom - [0:0]
-A FORWARD -j EUCA_FILTER_FWD_PREUSERHOOK
-A FORWARD -j EUCA_FILTER_FWD
-A FORWARD -s 192.0.2.0/24 -j ACCEPT
-A EUCA_FILTER_FWD -m set --match-set sg-000000eb dst -j sg-000000eb
-A sg-000000eb -m set --match-set sg-000000eb src -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:EUCA_NAT_PRE - [0:0]
-A PREROUTING -j EUCA_NAT_PRE
-A EUCA_NAT_PRE -d 198.51.100.11/32 -j DNAT --to-destination 10.10.0.11
-A EUCA_NAT_PRE -d 198.51.100.99/32 -j DNAT --to-destination 10.10.0.12
-A EUCA_NAT_PRE -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.10.0.2:8773
COMMIT
`;

// §1.4 h.
const EBTABLES_SAVE = `*nat
:PREROUTING ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:EUCA_EBT_NAT_PRE ACCEPT
-A PREROUTING -j EUCA_EBT_NAT_PRE
-A EUCA_EBT_NAT_PRE -i vn_i+ -j DROP
`;

function footprint(extra: { userRule?: boolean; eucanetd?: boolean } = {}): EucanetdFootprint {
  const text = extra.userRule ? IPTABLES_SAVE.replace('-A FORWARD -j EUCA_FILTER_FWD\n', '-A FORWARD -j EUCA_FILTER_FWD\n-A EUCA_FILTER_FWD_PREUSERHOOK -s 192.0.2.7/32 -j DROP\n') : IPTABLES_SAVE;
  return findFootprint({
    iptables: parseIptablesSave(text),
    ebtables: parseEbtablesSave(EBTABLES_SAVE),
    ipsets: ['EUCA_ALLPRIVATE', 'EUCA_VERSION', 'sg-000000eb', 'EDGENET-LOCAL', 'admin-set'],
    paths: PATHS,
    dhcpd: { pid: 4242, argv: DHCPD_ARGV },
    ...(extra.eucanetd ? { eucanetd: { pid: 77, argv: ['/usr/sbin/eucanetd'] } } : {}),
  });
}

test('eucanetd names: EUCA_*, 4.0 EU_*, 4.4 group ids; nothing else', () => {
  for (const n of ['EUCA_FILTER_FWD', 'EUCA_VERSION', 'EU_aGVsbG8gd29ybGQ', 'sg-000000eb', 'sg-0123456789abcdef0']) assert.ok(isEucanetdName(n), n);
  for (const n of ['EDGENET-FWD', 'sg-custom', 'DOCKER', 'EUCALYPTUS', 'admin-set']) assert.ok(!isEucanetdName(n), n);
});

test('the footprint lists chains per table, hooks, sets, DNATed /32s (not metadata), and eucanetd dhcpd by its -cf', () => {
  const f = footprint();
  assert.deepEqual(f.iptables.get('filter')?.chains, ['EUCA_FILTER_FWD', 'EUCA_FILTER_FWD_PREUSERHOOK', 'sg-000000eb']);
  assert.equal(f.iptables.get('filter')?.hooks.length, 2, 'the admin FORWARD rule is no hook of eucanetd');
  assert.deepEqual(f.iptables.get('raw')?.chains, ['EUCA_COUNTERS_IN', 'EUCA_RAW_PRE']);
  assert.deepEqual(f.ebtables.get('nat')?.chains, ['EUCA_EBT_NAT_PRE']);
  assert.deepEqual(f.ipsets, ['EUCA_ALLPRIVATE', 'EUCA_VERSION', 'sg-000000eb']);
  assert.deepEqual(f.publicAddresses, ['198.51.100.11', '198.51.100.99']);
  assert.deepEqual(f.userRules, []);
  assert.equal(f.dhcpd?.pid, 4242);
  // A dhcpd whose argv names another config is not eucanetd's, whatever its name.
  const other = findFootprint({ iptables: new Map(), ebtables: new Map(), ipsets: [], paths: PATHS, dhcpd: { pid: 9, argv: ['/usr/sbin/dhcpd', '-cf', '/etc/dhcp/dhcpd.conf'] } });
  assert.equal(other.dhcpd, undefined);
});

test('the removal text of another table deletes hooks by spec, then the chains', () => {
  const raw = footprint().iptables.get('raw')!;
  assert.equal(removalText('raw', raw), '*raw\n:EUCA_COUNTERS_IN - [0:0]\n:EUCA_RAW_PRE - [0:0]\n-D PREROUTING -j EUCA_RAW_PRE\n-X EUCA_COUNTERS_IN\n-X EUCA_RAW_PRE\nCOMMIT\n');
});

function desiredState(): DesiredState {
  const gni = testGni({
    nodes: [{ name: '10.10.0.5', instances: ['i-000000a1'] }],
    instances: [inst('i-000000a1', 11, ['sg-000000eb'], '198.51.100.11')],
    groups: [group('sg-000000eb')],
  });
  const config = { ...DEFAULT_NETD_CONFIG, publicInterface: 'pub0', bridge: 'br0', privateInterface: '' };
  const r = render(gni, { node: '10.10.0.5' }, config, { bridgeMac: '02:00:00:00:00:01', bridgeAddresses: ['10.10.0.5/24'] });
  assert.ok(r.ok);
  return r.state;
}

function observed(): ObservedState {
  const ip = parseIptablesSave(IPTABLES_SAVE);
  const eb = parseEbtablesSave(EBTABLES_SAVE);
  const table = (t: ReturnType<typeof parseIptablesSave>, name: string): ObservedTable => ({ chains: new Map([...(t.get(name)?.chains ?? new Map())].map(([k, c]) => [k, c.rules])) });
  return {
    iptables: { filter: table(ip, 'filter'), nat: table(ip, 'nat') },
    ip6tables: { filter: { chains: new Map() }, nat: { chains: new Map() } },
    ebtables: { filter: table(eb, 'filter'), nat: table(eb, 'nat') },
    ipsets: new Map(['EUCA_ALLPRIVATE', 'EUCA_VERSION', 'sg-000000eb', 'admin-set'].map((n) => [n, { type: 'hash:net', members: [] }])),
    publicAddresses: [
      { address: '198.51.100.11', prefixlen: 32 },
      // Left the pool, still DNATed by eucanetd: never cleaned by eucanetd (§1.4 g).
      { address: '203.0.113.99', prefixlen: 32 },
      { address: '198.51.100.99', prefixlen: 32 },
    ],
    links: new Map([['br0', { name: 'br0', up: true, isBridge: true, mac: '02:00:00:00:00:01', macPinned: true }]]),
    sysctls: new Map(),
    processes: new Map(),
  };
}

const OPTIONS = { isOurs: netdNames('EDGENET').isOurs, addressLabel: 'pub0:en', discardUserRules: false };

test('adopt plan: per table one write that adds ours and removes eucanetd; then other tables, sets, /32s, its dhcpd, ours', () => {
  const verdict = planAdopt(desiredState(), observed(), footprint(), OPTIONS);
  assert.ok(verdict.ok);
  const steps = verdict.plan.steps;
  const kinds = steps.map((s: AdoptStep) => (s.kind === 'sync' ? s.step.kind : s.kind));
  const filter = steps.find((s) => s.kind === 'sync' && s.step.kind === 'iptables-write' && s.step.write.table === 'filter');
  assert.ok(filter && filter.kind === 'sync' && filter.step.kind === 'iptables-write');
  const w = filter.step.write;
  assert.ok(w.chains.some((c) => c.name === 'EDGENET-FWD'), 'ours written');
  assert.ok(w.addHooks.some((h) => h.target === 'EDGENET-FWD'), 'our hook added');
  assert.deepEqual(w.deleteChains, ['EUCA_FILTER_FWD', 'EUCA_FILTER_FWD_PREUSERHOOK', 'sg-000000eb'], "eucanetd's chains deleted in the same transaction");
  assert.equal(w.removeHooks.length, 2, "eucanetd's FORWARD hooks removed; the admin rule stays");
  const ebNat = steps.find((s) => s.kind === 'sync' && s.step.kind === 'ebtables-write' && s.step.write.table === 'nat');
  assert.ok(ebNat && ebNat.kind === 'sync' && ebNat.step.kind === 'ebtables-write' && ebNat.step.write.deleteChains.includes('EUCA_EBT_NAT_PRE'));

  const lastTable = kinds.lastIndexOf('ebtables-write');
  const raw = kinds.indexOf('iptables-remove');
  const destroy = kinds.indexOf('ipset-destroy');
  const stop = kinds.indexOf('eucanetd-dhcpd-stop');
  const start = kinds.indexOf('process-start');
  assert.ok(lastTable < raw && raw < destroy, kinds.join(' '));
  assert.ok(destroy < stop && stop === start - 1, kinds.join(' '));
  const destroyed = steps[destroy]!;
  assert.ok(destroyed.kind === 'sync' && destroyed.step.kind === 'ipset-destroy');
  assert.deepEqual(destroyed.step.names, ['EUCA_ALLPRIVATE', 'EUCA_VERSION', 'sg-000000eb'], 'admin sets are left alone');
  const dels = steps.flatMap((s) => (s.kind === 'sync' && s.step.kind === 'addr-del' ? [s.step.address] : []));
  // 198.51.100.99: in the pool, unwanted (planner); 203.0.113.99 is kept: eucanetd did not DNAT it.
  assert.deepEqual(dels.sort(), ['198.51.100.99']);
  assert.ok(!steps.some((s) => s.kind === 'sync' && s.step.kind === 'addr-del' && s.step.address === '198.51.100.11'), 'a wanted address is never removed');
});

test('adopt refuses while eucanetd runs, and over admin rules in its user hooks unless discarded', () => {
  const running = planAdopt(desiredState(), observed(), footprint({ eucanetd: true }), OPTIONS);
  assert.ok(!running.ok && running.code === 'ADOPT_EUCANETD_RUNNING');
  const user = planAdopt(desiredState(), observed(), footprint({ userRule: true }), OPTIONS);
  assert.ok(!user.ok && user.code === 'ADOPT_USER_RULES');
  assert.match(user.message, /192\.0\.2\.7/);
  assert.ok(planAdopt(desiredState(), observed(), footprint({ userRule: true }), { ...OPTIONS, discardUserRules: true }).ok);
});
