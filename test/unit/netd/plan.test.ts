/**
 * The pure planner: desired vs observed → steps. Asserts step kinds and the
 * content of table writes, not wording.
 */
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planSync, planTable, IPTABLES_BUILTINS, EBTABLES_BUILTINS } from '../../../src/netd/plan/plan.ts';
import { tagChain, tagHook, observedHash, ruleHash } from '../../../src/netd/plan/fingerprint.ts';
import type { ObservedProcess, ObservedRule, ObservedState, ObservedTable } from '../../../src/netd/plan/observed.ts';
import type { DesiredState, IpRule, NetfilterTable, SupervisedProcess } from '../../../src/netd/render/types.ts';
import { describeStep } from '../../../src/netd/plan/steps.ts';
import { tableTransaction, offendingLines } from '../../../src/netd/apply/transactions.ts';
import { ACCEPT, bridgeRule, DROP, hookRule, ipRule, jump } from '../../../src/netd/netfilter/rule.ts';
import { ruleArgs, savedForm } from '../../../src/netd/netfilter/rule-args.ts';

const isOurs = (n: string) => n.startsWith('EN-');
const RULE = ipRule('ipv4', { matches: [{ kind: 'addr', dir: 'src', cidr: '10.0.0.0/8' }], target: ACCEPT, comment: 'why' });
const TABLE: NetfilterTable<IpRule> = {
  chains: [{ name: 'EN-FWD', rules: [ipRule('ipv4', { target: jump('EN-sg-a'), comment: 'dispatch' })] }, { name: 'EN-sg-a', rules: [RULE] }],
  hooks: [{ family: 'ipv4', builtin: 'FORWARD', matches: [], target: 'EN-FWD', comment: 'hook' }],
};

/** The kernel echo of a desired table as the save parser returns it. */
function echo(t: NetfilterTable, extra: Record<string, ObservedRule[]> = {}): ObservedTable {
  const chains = new Map<string, ObservedRule[]>([['INPUT', []], ['FORWARD', []], ['OUTPUT', []]]);
  for (const c of t.chains.map(tagChain)) chains.set(c.name, c.rules.map((r) => ({ args: ruleArgs(r), comment: r.comment })));
  for (const h of t.hooks.map(tagHook)) chains.get(h.builtin)!.push({ args: ruleArgs(hookRule(h)), comment: h.comment });
  for (const [k, v] of Object.entries(extra)) chains.set(k, [...(chains.get(k) ?? []), ...v]);
  return { chains };
}

test('an identical kernel table gives no write at all', () => {
  assert.equal(planTable('iptables', 'filter', TABLE, echo(TABLE), { full: false, isOurs, builtins: IPTABLES_BUILTINS.filter }), undefined);
});

test('a full resync of a converged table writes nothing; of a drifted one, only the drifted chain', () => {
  for (const flavor of ['iptables', 'ebtables'] as const) {
    const builtins = flavor === 'iptables' ? IPTABLES_BUILTINS.filter : EBTABLES_BUILTINS.filter;
    assert.equal(planTable(flavor, 'filter', TABLE, echo(TABLE), { full: true, isOurs, builtins }), undefined, flavor);
  }
  const drifted = echo(TABLE);
  (drifted.chains as Map<string, ObservedRule[]>).set('EN-sg-a', []);
  const w = planTable('iptables', 'filter', TABLE, drifted, { full: true, isOurs, builtins: IPTABLES_BUILTINS.filter })!;
  assert.deepEqual(w.chains.map((c) => c.name), ['EN-sg-a']);
  assert.deepEqual(w.addHooks, []);
  assert.deepEqual(w.removeHooks, []);
});

test('a changed rule rewrites only its chain; a rule without our hash counts as changed', () => {
  const changed: NetfilterTable = { ...TABLE, chains: [TABLE.chains[0]!, { name: 'EN-sg-a', rules: [{ ...RULE, matches: [{ kind: 'addr', dir: 'src', cidr: '10.1.0.0/16' }] }] }] };
  const w = planTable('iptables', 'filter', changed, echo(TABLE), { full: false, isOurs, builtins: IPTABLES_BUILTINS.filter })!;
  assert.deepEqual(w.chains.map((c) => c.name), ['EN-sg-a']);
  const tampered = echo(TABLE);
  (tampered.chains as Map<string, ObservedRule[]>).set('EN-sg-a', [savedForm(RULE)]);
  const w2 = planTable('iptables', 'filter', TABLE, tampered, { full: false, isOurs, builtins: IPTABLES_BUILTINS.filter })!;
  assert.deepEqual(w2.chains.map((c) => c.name), ['EN-sg-a']);
});

test('stale chains and hooks with our prefix are removed; foreign ones are not', () => {
  const observed = echo(TABLE, {
    'EN-sg-old': [{ args: ['-j', 'ACCEPT'], comment: '' }],
    FORWARD: [{ args: ['-j', 'EN-sg-old'], comment: '' }, { args: ['-j', 'OTHER'], comment: '' }],
    OTHER: [{ args: ['-j', 'DROP'], comment: '' }],
  });
  const w = planTable('iptables', 'filter', TABLE, observed, { full: false, isOurs, builtins: IPTABLES_BUILTINS.filter })!;
  assert.deepEqual(w.deleteChains, ['EN-sg-old']);
  assert.deepEqual(w.removeHooks.map((h) => h.rule.args), [['-j', 'EN-sg-old']]);
  assert.deepEqual(w.chains, []);
});

test('a missing hook is added; a duplicated hook is removed', () => {
  const noHook = echo({ ...TABLE, hooks: [] });
  const w = planTable('iptables', 'filter', TABLE, noHook, { full: false, isOurs, builtins: IPTABLES_BUILTINS.filter })!;
  assert.deepEqual(w.addHooks.map((h) => h.target), ['EN-FWD']);
  const twice = echo(TABLE);
  const fwd = twice.chains.get('FORWARD')!;
  (twice.chains as Map<string, ObservedRule[]>).set('FORWARD', [...fwd, ...fwd.map((r) => ({ ...r }))]);
  const w2 = planTable('iptables', 'filter', TABLE, twice, { full: false, isOurs, builtins: IPTABLES_BUILTINS.filter })!;
  assert.equal(w2.removeHooks.length, 1);
  assert.deepEqual(w2.addHooks, []);
});

test('ebtables chains compare by arguments (MACs normalised), since the kernel keeps no comments', () => {
  const eb: NetfilterTable = {
    chains: [{ name: 'EN-I-x', rules: [bridgeRule([{ kind: 'mac', dir: 'src', mac: 'd0:0d:01:02:0a:0b', negate: true }], DROP, 'c')] }],
    hooks: [{ family: 'bridge', builtin: 'PREROUTING', matches: [], target: 'EN-EB', comment: '' }],
  };
  const observed: ObservedTable = {
    chains: new Map([
      ['PREROUTING', [{ args: ['-j', 'EN-EB'], comment: '' }]],
      ['OUTPUT', []],
      ['POSTROUTING', []],
      ['EN-I-x', [{ args: ['-s', '!', 'D0:D:1:2:A:B', '-j', 'DROP'], comment: '' }]],
    ]),
  };
  assert.equal(planTable('ebtables', 'nat', eb, observed, { full: false, isOurs, builtins: EBTABLES_BUILTINS.nat }), undefined);
});

test('the transaction declares, unhooks, writes, hooks at position 1, then deletes', () => {
  const w = planTable('iptables', 'filter', TABLE, echo({ chains: [], hooks: [] }, { 'EN-sg-old': [], FORWARD: [{ args: ['-j', 'EN-sg-old'], comment: 'x' }] }), {
    full: false,
    isOurs,
    builtins: IPTABLES_BUILTINS.filter,
  })!;
  const lines = tableTransaction('iptables', w).split('\n').filter((l) => l !== '');
  const idx = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert.equal(lines[0], '*filter');
  assert.ok(idx(/^:EN-FWD /) < idx(/^-A EN-FWD /));
  assert.ok(idx(/^:EN-sg-old /) > 0, 'stale chain declared (flushed) first');
  assert.ok(idx(/^-D FORWARD .*EN-sg-old/) < idx(/^-X EN-sg-old/));
  assert.ok(idx(/^-I FORWARD 1 .*EN-FWD/) > idx(/^-A EN-sg-a /));
  assert.equal(lines.at(-1), 'COMMIT');
});

test('rule hashes ride in the comment and survive a round trip', () => {
  const tagged = tagChain({ name: 'EN-sg-a', rules: [RULE] });
  assert.equal(observedHash({ args: ruleArgs(RULE), comment: tagged.rules[0]!.comment }), ruleHash(RULE));
  assert.equal(observedHash({ args: ruleArgs(RULE), comment: 'why' }), undefined);
});

test('a typed rule hashes exactly the argv words it is written as (the hashes in running kernels stay valid)', () => {
  // The fingerprint formula over the words netd wrote before rules were typed.
  const wordsHash = (words: readonly string[], comment: string) =>
    createHash('sha256').update(['rule', ...words, '\u0002', comment].join('\u0001')).digest('hex').slice(0, 10);
  assert.equal(ruleHash(RULE), wordsHash(['-s', '10.0.0.0/8', '-j', 'ACCEPT'], 'why'));
  const metadata = ipRule('ipv4', {
    matches: [{ kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: 80, hi: 80 } }, { kind: 'addr', dir: 'dst', cidr: '169.254.169.254/32' }],
    target: { kind: 'dnat', address: '10.0.0.1', port: 8773 }, comment: 'instance metadata service',
  });
  assert.equal(ruleHash(metadata), wordsHash(['-d', '169.254.169.254/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '10.0.0.1:8773'], 'instance metadata service'));
  const hookWords = createHash('sha256').update(['hook', 'FORWARD', '\u0002', 'EN-FWD', 'hook'].join('\u0001')).digest('hex').slice(0, 10);
  assert.equal(tagHook(TABLE.hooks[0]!).comment, `hook #${hookWords}`);
});

test('offending input lines are quoted around the line the tool names', () => {
  const out = offendingLines('*filter\n:A - [0:0]\n-A A -j NOPE\nCOMMIT\n', 'iptables-restore: line 3 failed');
  assert.deepEqual(out, [' 2: :A - [0:0]', '>3: -A A -j NOPE', ' 4: COMMIT']);
});

function dhcpd(conf: string, run = true): SupervisedProcess {
  return { kind: 'dhcpd', run, interfaces: ['br0'], files: [{ name: 'dhcpd.conf', content: conf }], reload: { kind: 'restart' }, summary: '' };
}

function seen(conf: string, pid?: number): ObservedProcess {
  return { files: new Map([['dhcpd.conf', conf]]), ...(pid !== undefined ? { pid } : {}) };
}

function desired(over: Partial<DesiredState> = {}): DesiredState {
  return {
    node: 'n',
    cluster: 'c',
    version: 'v',
    bridge: { name: 'br0', members: ['eth1'] },
    sysctls: [{ key: 'net.ipv4.ip_forward', value: '1' }],
    instances: [],
    ipsets: [{ name: 'EN-sg-a', type: 'hash:ip', members: ['10.0.0.1', '10.0.0.2'], comment: '' }],
    iptables: { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } },
    ip6tables: { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } },
    ebtables: { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } },
    bridgeRoutes: [],
    processes: [dhcpd('conf')],
    publicAddresses: { interface: 'pub0', addresses: ['198.51.100.5/32'], pool: ['198.51.100.1-198.51.100.9'] },
    gateway: '',
    warnings: [],
    ...over,
  };
}

function observed(over: Partial<ObservedState> = {}): ObservedState {
  const empty = (): ObservedTable => ({ chains: new Map() });
  return {
    iptables: { filter: empty(), nat: empty() },
    ip6tables: { filter: empty(), nat: empty() },
    ebtables: { filter: empty(), nat: empty() },
    ipsets: new Map([['EN-sg-a', { type: 'hash:ip', members: ['10.0.0.1', '10.0.0.2'] }]]),
    publicAddresses: [{ address: '198.51.100.5', prefixlen: 32 }],
    links: new Map([
      ['br0', { name: 'br0', up: true, isBridge: true }],
      ['eth1', { name: 'eth1', up: true, master: 'br0', isBridge: false }],
    ]),
    sysctls: new Map([['net.ipv4.ip_forward', '1']]),
    processes: new Map([['dhcpd', seen('conf', 42)]]),
    ...over,
  };
}

test('planSync: a converged host needs no step', () => {
  assert.deepEqual(planSync(desired(), observed(), { full: false, isOurs }).steps, []);
});

test('planSync: sets are created/refilled before table writes and destroyed after them', () => {
  const p = planSync(
    desired({ ipsets: [{ name: 'EN-sg-a', type: 'hash:ip', members: ['10.0.0.1', '10.0.0.3'], comment: '' }, { name: 'EN-sg-b', type: 'hash:ip', members: [], comment: '' }], iptables: { filter: TABLE, nat: { chains: [], hooks: [] } } }),
    observed({ ipsets: new Map([['EN-sg-a', { type: 'hash:ip', members: ['10.0.0.1'] }], ['EN-sg-old', { type: 'hash:ip', members: [] }], ['other', { type: 'hash:ip', members: [] }]]) }),
    { full: false, isOurs },
  );
  assert.deepEqual(p.steps.map((s) => s.kind), ['ipset-write', 'iptables-write', 'ipset-destroy']);
  const write = p.steps[0];
  assert.ok(write?.kind === 'ipset-write');
  assert.deepEqual(write.create.map((s) => s.name), ['EN-sg-b'], 'the missing set is created');
  assert.deepEqual(write.refill.map((r) => [r.set.name, r.added, r.removed]), [['EN-sg-a', 1, 0]], 'the changed one refilled, in the same step');
  assert.equal(describeStep(write), 'ipset create EN-sg-b; refill EN-sg-a(+1/-0)');
  const destroy = p.steps.find((s) => s.kind === 'ipset-destroy');
  assert.deepEqual(destroy && destroy.kind === 'ipset-destroy' ? destroy.names : [], ['EN-sg-old']);
});

test('planSync: bridge, sysctl, hairpin, addresses and dhcpd steps', () => {
  const p = planSync(
    desired({
      instances: [{ id: 'i-1', interface: 'vn_i-1', mac: 'm', privateIp: '10.0.0.1', securityGroups: [] }],
      processes: [dhcpd('new')],
      publicAddresses: { interface: 'pub0', addresses: ['198.51.100.6/32'], pool: ['198.51.100.1-198.51.100.9'] },
    }),
    observed({
      links: new Map([
        ['eth1', { name: 'eth1', up: false, isBridge: false }],
        ['vn_i-1', { name: 'vn_i-1', up: true, master: 'br0', isBridge: false, hairpin: false }],
      ]),
      sysctls: new Map([['net.ipv4.ip_forward', '0']]),
      publicAddresses: [{ address: '198.51.100.5', prefixlen: 32 }, { address: '203.0.113.7', prefixlen: 32 }, { address: '203.0.113.8', prefixlen: 32, label: 'pub0:en' }],
    }),
    { full: false, isOurs, addressLabel: 'pub0:en' },
  );
  assert.deepEqual(
    p.steps.map((s) => s.kind),
    ['sysctl-set', 'bridge-create', 'link-up', 'link-attach', 'link-up', 'link-hairpin', 'addr-del', 'addr-del', 'addr-add', 'process-write-config', 'process-restart'],
  );
  const dels = p.steps.filter((s) => s.kind === 'addr-del').map((s) => (s.kind === 'addr-del' ? s.address : ''));
  assert.deepEqual(dels, ['198.51.100.5', '203.0.113.8'], 'pool or labelled addresses only; 203.0.113.7 is not ours');
});

test('planSync: dhcpd stops when no instance is left and starts when it is not running', () => {
  const stop = planSync(desired({ processes: [dhcpd('x', false)] }), observed(), { full: false, isOurs });
  assert.deepEqual(stop.steps, [{ kind: 'process-stop', process: 'dhcpd', pid: 42 }]);
  assert.equal(describeStep(stop.steps[0]!), 'dhcpd stop (pid 42)');
  const idle = planSync(desired({ processes: [dhcpd('x', false)] }), observed({ processes: new Map([['dhcpd', seen('conf')]]) }), { full: false, isOurs });
  assert.deepEqual(idle.steps, [], 'must not run and does not: nothing to do');
  const start = planSync(desired(), observed({ processes: new Map([['dhcpd', seen('conf')]]) }), { full: false, isOurs });
  assert.deepEqual(start.steps, [{ kind: 'process-start', process: 'dhcpd', interfaces: ['br0'] }]);
  assert.equal(describeStep(start.steps[0]!), 'dhcpd start on br0');
  const fresh = planSync(desired(), observed({ processes: new Map() }), { full: false, isOurs });
  assert.deepEqual(fresh.steps.map(describeStep), ['dhcpd config write', 'dhcpd start on br0']);
});

test('planSync: a changed file reloads by signal when the policy says so; a kind no longer listed is stopped', () => {
  const hup = { ...dhcpd('new'), kind: 'radvd', reload: { kind: 'signal', signal: 'SIGHUP' } } as const;
  const p = planSync(desired({ processes: [dhcpd('conf'), hup] }), observed({ processes: new Map([['dhcpd', seen('conf', 42)], ['radvd', seen('old', 7)]]) }), { full: false, isOurs });
  assert.deepEqual(p.steps.map(describeStep), ['radvd config write', 'radvd reload (pid 7, SIGHUP)']);
  const gone = planSync(desired(), observed({ processes: new Map([['dhcpd', seen('conf', 42)], ['radvd', seen('old', 7)]]) }), { full: false, isOurs });
  assert.deepEqual(gone.steps, [{ kind: 'process-stop', process: 'radvd', pid: 7 }]);
});
