/**
 * An instance port (`vn_<id>`) the hypervisor removes between a sync's
 * observe and its apply (apply/vanished-ports.ts): each step kind that
 * concerns one port — its sysctls, its link operations, the routed ports'
 * `ip -batch` — is skipped when it failed and a fresh links read shows the
 * port gone; the rest of the plan is applied and the sync succeeds with a
 * note. A failure on a port that is still there, and any failure of a step on
 * no instance port, fails as before. Against the in-memory kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost } from '../../helpers/fake-host.ts';
import { ROUTED_NODE, routedDoc } from '../../helpers/routed-doc.ts';
import { ApplyError, applySteps, vanishedPortNotes, type StepResult } from '../../../src/netd/apply/apply.ts';
import { EDGENET_ROUTE_PROTOCOL, type Step } from '../../../src/netd/plan/steps.ts';
import { interfaceSysctl } from '../../../src/netd/plan/routed.ts';
import { syncOnce } from '../../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { ExecError } from '../../../src/shared/errors.ts';

const RUN = '/run/en';
const P = EDGENET_ROUTE_PROTOCOL;
const HERE = 'vn_i-here';
const GONE = 'vn_i-gone';

/** A host that counts its links reads (the check after a failure) and records every attempt of a port operation, failed or not. */
class WatchedHost extends FakeHost {
  linkReads = 0;
  readonly attempts: string[] = [];
  override async links() {
    this.linkReads++;
    return super.links();
  }
  override async writeSysctl(key: string, value: string) {
    this.attempts.push(`sysctl ${key}`);
    return super.writeSysctl(key, value);
  }
  override async setUp(name: string) {
    this.attempts.push(`up ${name}`);
    return super.setUp(name);
  }
  override async changePorts(...args: Parameters<FakeHost['changePorts']>) {
    this.attempts.push(`ports ${args[0].length}`);
    return super.changePorts(...args);
  }
}

/** Both ports created by the VM starter (up, on no bridge), then GONE removed: its VM stopped after the plan was made. */
function newHost(): WatchedHost {
  const host = new WatchedHost({ links: [{ name: 'eth0' }, { name: 'br0', isBridge: true }] });
  host.addPort(HERE, { up: true, mac: '02:00:00:00:aa:01' });
  host.addPort(GONE, { up: true, mac: '02:00:00:00:aa:02' });
  host.removeLink(GONE);
  return host;
}

async function apply(host: FakeHost, steps: readonly Step[]): Promise<StepResult[]> {
  let t = 0;
  return applySteps(steps, { host, runDir: RUN, now: () => (t += 1), wait: async () => undefined });
}

async function applyError(host: FakeHost, steps: readonly Step[]): Promise<ApplyError> {
  try {
    await apply(host, steps);
  } catch (err) {
    assert.ok(err instanceof ApplyError, String(err));
    return err;
  }
  assert.fail('the apply succeeded');
}

const skipped = (results: readonly StepResult[]) => results.filter((r) => r.vanishedPort !== undefined);
const routesOf = (host: FakeHost) => [...host.routes4List, ...host.routes6List].map((r) => `${r.dst} ${r.dev} ${r.proto}`).sort();
const neighOf = (host: FakeHost) => host.neighbours.map((n) => `${n.dst} ${n.dev} ${n.lladdr} ${n.proto}`).sort();

test('per-port sysctls of a vanished port are skipped (one links read for all of them), the present port\'s are written', async () => {
  const host = newHost();
  const keys = (port: string) => [interfaceSysctl('ipv6', port, 'addr_gen_mode'), interfaceSysctl('ipv6', port, 'accept_ra'), interfaceSysctl('ipv4', port, 'proxy_arp')];
  const steps: Step[] = [...keys(GONE), ...keys(HERE)].map((key) => ({ kind: 'sysctl-set', key, value: '1' }));
  const results = await apply(host, steps);
  assert.equal(results.length, 6);
  assert.deepEqual(skipped(results).map((r) => [r.name, r.vanishedPort, r.writes]), [
    ['sysctl-set', GONE, 0], ['sysctl-set', GONE, 0], ['sysctl-set', GONE, 0],
  ]);
  assert.match(skipped(results)[0]!.description, /^port vn_i-gone vanished during the sync; skipped: sysctl net\.ipv6\.conf\.vn_i-gone\.addr_gen_mode=1$/);
  for (const key of keys(HERE)) assert.equal(host.sysctls.get(key), '1', key);
  for (const key of keys(GONE)) assert.equal(host.sysctls.get(key), undefined, key);
  assert.equal(host.linkReads, 1, 'the kernel is asked once; the port stays gone for the rest of the apply');
  assert.deepEqual(host.attempts.filter((a) => a.includes(GONE)), [`sysctl ${keys(GONE)[0]}`], 'later steps of a port known gone are not even tried');
  assert.deepEqual(vanishedPortNotes(results), ['port vn_i-gone vanished during the sync; skipped 3 steps on it (the next sync sees it gone)']);
});

const LINK_STEPS: readonly { kind: string; step: (name: string) => Step; done: (host: FakeHost) => boolean }[] = [
  { kind: 'link-mac', step: (name) => ({ kind: 'link-mac', name, mac: 'fe:ff:ff:ff:ff:ff' }), done: (h) => h.linkMap.get(HERE)?.mac === 'fe:ff:ff:ff:ff:ff' },
  { kind: 'link-up', step: (name) => ({ kind: 'link-up', name }), done: (h) => h.writes.some((w) => w.op === 'link-up' && w.input === HERE) },
  { kind: 'link-attach', step: (name) => ({ kind: 'link-attach', name, bridge: 'br0' }), done: (h) => h.linkMap.get(HERE)?.master === 'br0' },
  { kind: 'link-hairpin', step: (name) => ({ kind: 'link-hairpin', name }), done: (h) => h.linkMap.get(HERE)?.hairpin === true },
  { kind: 'link-nomaster', step: (name) => ({ kind: 'link-nomaster', name }), done: (h) => h.writes.some((w) => w.op === 'link-nomaster' && w.input === HERE) },
];

for (const c of LINK_STEPS) {
  test(`${c.kind} on a vanished port is skipped, the same step on the present port applied`, async () => {
    const host = newHost();
    const results = await apply(host, [c.step(GONE), c.step(HERE)]);
    assert.deepEqual(results.map((r) => [r.name, r.vanishedPort ?? '', r.writes]), [[c.kind, GONE, 0], [c.kind, '', 1]]);
    assert.ok(results[0]!.description.startsWith('port vn_i-gone vanished during the sync; skipped: '), results[0]!.description);
    assert.ok(c.done(host), `${c.kind} applied on ${HERE}`);
    assert.equal(host.linkReads, 1);
  });
}

/** The routed batch of both ports: gateways, a route and a neighbour each (what planRouted emits, as one run). */
function portRun(): Step[] {
  const of = (dev: string, n: number): Step[] => [
    { kind: 'port-addr-add', interface: dev, address: '169.254.0.1', prefixlen: 32 },
    { kind: 'port-route-replace', address: `10.50.0.1${n}`, dev },
    { kind: 'neigh-replace', address: `10.50.0.1${n}`, dev, lladdr: `d0:0d:00:00:01:0${n}` },
  ];
  const [g, h] = [of(GONE, 1), of(HERE, 2)];
  // Interleaved like the planner's order (addresses, then routes, then neighbours of every port).
  return [g[0]!, h[0]!, g[1]!, h[1]!, g[2]!, h[2]!];
}

test('routed batch with one vanished and one present port: the vanished port\'s ops are dropped, the rest runs once more and is in the kernel', async () => {
  const host = newHost();
  const results = await apply(host, portRun());
  assert.deepEqual(results.map((r) => [r.name, r.vanishedPort ?? '', r.writes]), [['routed-ports', GONE, 0], ['routed-ports', '', 1]]);
  assert.match(results[0]!.description, /^port vn_i-gone vanished during the sync; skipped: addr add 169\.254\.0\.1\/32 dev vn_i-gone \(gateway\); route replace 10\.50\.0\.11 dev vn_i-gone \(routed\); neigh replace 10\.50\.0\.11 /);
  assert.ok(!results[1]!.description.includes(GONE), results[1]!.description);
  assert.deepEqual(host.attempts, ['ports 6', 'ports 3'], 'the batch, then the present port\'s three ops once more');
  assert.deepEqual(routesOf(host), [`10.50.0.12 ${HERE} ${P}`]);
  assert.deepEqual(neighOf(host), [`10.50.0.12 ${HERE} d0:0d:00:00:01:02 ${P}`]);
  assert.deepEqual(host.addrs.get(HERE), [{ address: '169.254.0.1', prefixlen: 32 }]);
  assert.equal(host.linkReads, 1);
});

test('a port found gone earlier in the apply: its batch ops are dropped up front, the batch runs once', async () => {
  const host = newHost();
  const results = await apply(host, [{ kind: 'link-up', name: GONE }, ...portRun()]);
  assert.deepEqual(results.map((r) => [r.name, r.vanishedPort ?? '', r.writes]), [['link-up', GONE, 0], ['routed-ports', GONE, 0], ['routed-ports', '', 1]]);
  assert.deepEqual(host.attempts, [`up ${GONE}`, 'ports 3']);
  assert.deepEqual(routesOf(host), [`10.50.0.12 ${HERE} ${P}`]);
});

test('a single port step (no batch) on a vanished port is skipped too', async () => {
  const host = newHost();
  const results = await apply(host, [{ kind: 'port-route-replace', address: '10.50.0.11', dev: GONE }, { kind: 'link-up', name: HERE }]);
  assert.deepEqual(results.map((r) => [r.name, r.vanishedPort ?? '', r.writes]), [['port-route-replace', GONE, 0], ['link-up', '', 1]]);
});

test('a present port whose step fails still fails the apply, whatever the kind', async () => {
  // sysctl: the port is there, the write is refused.
  const sysctlHost = newHost();
  sysctlHost.writeSysctl = async (key) => {
    throw Object.assign(new Error(`EACCES: permission denied, open '/proc/sys/${key}'`), { code: 'EACCES' });
  };
  const key = interfaceSysctl('ipv4', HERE, 'proxy_arp');
  const e1 = await applyError(sysctlHost, [{ kind: 'sysctl-set', key, value: '1' }, { kind: 'link-up', name: HERE }]);
  assert.match(e1.message, /EACCES/);
  assert.deepEqual(e1.results.map((r) => [r.name, r.writes, r.vanishedPort]), [['sysctl-set', 0, undefined]], 'stopped at the failed step');
  assert.equal(sysctlHost.linkReads, 1, 'the kernel was asked, and the port is there');

  // A link op: the port is there, `ip link set` fails.
  const linkHost = newHost();
  linkHost.setUp = async (name) => {
    throw new ExecError(['ip', 'link', 'set', 'dev', name, 'up'], 2, 'RTNETLINK answers: Operation not permitted');
  };
  const e2 = await applyError(linkHost, [{ kind: 'link-up', name: HERE }, { kind: 'link-mac', name: HERE, mac: 'fe:ff:ff:ff:ff:ff' }]);
  assert.match(e2.message, /Operation not permitted/);
  assert.equal(linkHost.linkMap.get(HERE)?.mac, '02:00:00:00:aa:01', 'later steps not applied');

  // The batch, both ports present: no second run.
  const batchHost = new WatchedHost({ links: [{ name: 'eth0' }] });
  batchHost.addPort(HERE, { up: true });
  batchHost.addPort(GONE, { up: true });
  batchHost.failNext('changePorts', 'RTNETLINK answers: No buffer space available\nCommand failed -:2');
  const e3 = await applyError(batchHost, portRun());
  assert.match(e3.message, /^routed ports: .*No buffer space/s);
  assert.deepEqual(e3.results.map((r) => [r.name, r.writes, r.vanishedPort]), [['routed-ports', 0, undefined]]);
  assert.deepEqual(batchHost.attempts, ['ports 6']);
});

test('the batch after dropping a vanished port still fails (the present port is down): it fails as before', async () => {
  const host = newHost();
  host.linkMap.set(HERE, { ...host.linkMap.get(HERE)!, up: false });
  const err = await applyError(host, portRun());
  assert.match(err.message, /Nexthop device is not up/);
  assert.deepEqual(err.results.map((r) => [r.name, r.vanishedPort ?? '', r.writes]), [['routed-ports', GONE, 0], ['routed-ports', '', 0]]);
  assert.deepEqual(host.attempts, ['ports 6', 'ports 3']);
});

test('steps on no instance port are unchanged: a missing non-vn_ link fails without a links read; so does a vn_ step when the links read itself fails', async () => {
  const host = newHost();
  const err = await applyError(host, [{ kind: 'link-up', name: 'eth9' }, { kind: 'link-up', name: HERE }]);
  assert.match(err.message, /Cannot find device "eth9"/);
  assert.equal(host.linkReads, 0);

  const blind = newHost();
  blind.links = async () => {
    throw new ExecError(['ip', '-j', '-d', 'link', 'show'], 1, 'out of memory');
  };
  const e2 = await applyError(blind, [{ kind: 'link-up', name: GONE }]);
  assert.match(e2.message, /Cannot find device "vn_i-gone"/);
});

test('a sync whose port vanishes during its apply succeeds: the other instance routed, BIRD configured, a note and the skipped steps in status and events', async () => {
  const doc = routedDoc({
    instances: [
      { id: 'i-a0000001', mac: 'd0:0d:a0:00:00:01', ipv4: '10.50.0.11', ipv6: true },
      { id: 'i-b0000002', mac: 'd0:0d:b0:00:00:02', ipv4: '10.50.0.12', ipv6: true },
    ],
  });
  const host = new FakeHost({ links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth0' }], addresses: { br0: [{ address: ROUTED_NODE, prefixlen: 24 }] } });
  host.addPort('vn_i-a0000001', { up: true });
  host.addPort('vn_i-b0000002', { up: true });
  // The VM of i-b0000002 stops right when netd starts applying: its port goes before netd's first write on it.
  const write = host.writeSysctl.bind(host);
  host.writeSysctl = async (key, value) => {
    if (key.includes('vn_i-b0000002')) host.removeLink('vn_i-b0000002');
    return write(key, value);
  };
  const GNI = `${RUN}/global_network_info.xml`;
  host.files.set(GNI, serializeGni(doc));
  const config: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE };
  let clock = 1_700_000_000_000;
  const out = await syncOnce({ host, config, runDir: RUN, gniFile: GNI, now: () => (clock += 1), wait: async () => undefined, startCheckMs: 0 }, { trigger: 'file', full: false });
  assert.equal(out.result, 'ok', out.error);
  assert.ok(out.notes.some((n) => n.startsWith('port vn_i-b0000002 vanished during the sync; skipped')), out.notes.join('\n'));
  assert.ok(out.status.steps?.some((s) => s.name.startsWith('port vn_i-b0000002 vanished') && !s.wrote), 'the status lists the skipped step');
  assert.ok(routesOf(host).includes(`10.50.0.11 vn_i-a0000001 ${P}`), routesOf(host).join(', '));
  assert.ok(!routesOf(host).some((r) => r.includes('vn_i-b0000002')));
  assert.ok(out.steps.some((s) => s.name === 'process-start' && s.description.startsWith('bird')), out.steps.map((s) => s.description).join('\n'));
  assert.ok(host.files.get(`${RUN}/netd/bird.conf`)?.includes('10.50.0.11/32'), 'BIRD announces the other instance');
  assert.match(host.files.get(`${RUN}/netd-events.jsonl`) ?? '', /port vn_i-b0000002 vanished during the sync; skipped/);
});
