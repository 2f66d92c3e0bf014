/**
 * Proves the canonical forms (root): the rendered restore text of golden
 * scenarios is loaded into a scratch network namespace with the real
 * `ipset restore`, `iptables-restore --noflush` and `ebtables-restore
 * --noflush`, read back with the save tools, parsed with our parsers, and
 * compared with the rendered model. Any difference means the diff in the
 * applier would see a change that is not there (and rewrite forever).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createExec } from '../../../src/shared/exec.ts';
import { requireRoot } from '../../helpers/root.ts';
import type { DesiredState, NetfilterTable } from '../../../src/netd/render/types.ts';
import {
  ebtablesRestoreText, ebtablesRuleLine, hookRule, jumpTarget, ruleArgs, savedForm, ipsetRestoreText, iptablesRestoreText, iptablesRuleLine,
  parseEbtablesSave, parseIpsetSave, parseIptablesSave,
} from '../../../src/netd/netfilter/index.ts';
import type { SavedTables } from '../../../src/netd/netfilter/index.ts';
import { loadScenario, renderScenario } from '../../golden/netd/scenarios.ts';

const exec = createExec();
const SCENARIOS = ['several-instances-groups', 'elastic-ips', 'group-to-group', 'long-ids-metadata', 'disable-l2-isolation', 'no-instances', 'nc-proxy'];

async function inNs(ns: string, argv: string[], input?: string): Promise<string> {
  const r = await exec.run(['ip', 'netns', 'exec', ns, ...argv], input === undefined ? {} : { input });
  return r.stdout;
}

function hooksText(table: string, t: NetfilterTable, ebtables: boolean): string {
  const lines = t.hooks.map((h) => (ebtables ? ebtablesRuleLine(h.builtin, hookRule(h)) : iptablesRuleLine(h.builtin, hookRule(h))));
  return `*${table}\n${lines.join('\n')}\nCOMMIT\n`;
}

function assertTableEqual(label: string, saved: SavedTables, table: string, t: NetfilterTable, ebtables: boolean): void {
  const got = saved.get(table);
  assert.ok(got, `${label}: table ${table} missing from save output`);
  for (const c of t.chains) {
    const chain = got.chains.get(c.name);
    assert.ok(chain, `${label}: chain ${c.name} missing from the kernel`);
    assert.deepEqual(chain.rules, c.rules.map(savedForm), `${label}: chain ${c.name} differs from its kernel echo`);
  }
  for (const h of t.hooks) {
    const builtin = got.chains.get(h.builtin);
    const expected = savedForm(hookRule(h));
    assert.deepEqual(builtin?.rules.at(-1), expected, `${label}: hook ${h.builtin} → ${h.target}`);
  }
}

async function loadAndCompare(ns: string, label: string, state: DesiredState): Promise<void> {
  await inNs(ns, ['ipset', 'restore'], ipsetRestoreText(state.ipsets));
  await inNs(ns, ['iptables-restore', '--noflush'], iptablesRestoreText('filter', state.iptables.filter) + hooksText('filter', state.iptables.filter, false));
  await inNs(ns, ['iptables-restore', '--noflush'], iptablesRestoreText('nat', state.iptables.nat) + hooksText('nat', state.iptables.nat, false));
  await inNs(ns, ['ebtables-restore', '--noflush'], ebtablesRestoreText('nat', state.ebtables.nat) + hooksText('nat', state.ebtables.nat, true));

  const sets = parseIpsetSave(await inNs(ns, ['ipset', 'save']));
  for (const s of state.ipsets) {
    const got = sets.get(s.name);
    assert.ok(got, `${label}: set ${s.name} missing`);
    assert.equal(got.type, s.type, `${label}: set ${s.name} type`);
    assert.deepEqual(got.members, [...s.members], `${label}: set ${s.name} members`);
  }
  assert.equal([...sets.keys()].filter((n) => n.endsWith('-T')).length, 0, `${label}: temporary sets left behind`);
  assertTableEqual(label, parseIptablesSave(await inNs(ns, ['iptables-save', '-t', 'filter'])), 'filter', state.iptables.filter, false);
  assertTableEqual(label, parseIptablesSave(await inNs(ns, ['iptables-save', '-t', 'nat'])), 'nat', state.iptables.nat, false);
  assertTableEqual(label, parseEbtablesSave(await inNs(ns, ['ebtables-save', '-t', 'nat'])), 'nat', state.ebtables.nat, true);
}

test('rendered restore text loads into the kernel and reads back equal (canonical forms)', async (t) => {
  if (!requireRoot(t, 'the netfilter kernel round trip')) return;
  const ns = `h5-scratch-${randomBytes(3).toString('hex')}`;
  await exec.run(['ip', 'netns', 'add', ns]);
  try {
    for (const name of SCENARIOS) {
      const { result } = renderScenario(loadScenario(name));
      assert.ok(result.ok, `${name}: render failed`);
      // Fresh tables per scenario: remove our hooks, chains and sets from the previous one.
      await inNs(ns, ['iptables', '-t', 'filter', '-F', 'FORWARD']);
      for (const c of ['PREROUTING', 'OUTPUT', 'POSTROUTING']) await inNs(ns, ['iptables', '-t', 'nat', '-F', c]);
      await inNs(ns, ['iptables', '-t', 'filter', '-F']); await inNs(ns, ['iptables', '-t', 'filter', '-X']);
      await inNs(ns, ['iptables', '-t', 'nat', '-F']); await inNs(ns, ['iptables', '-t', 'nat', '-X']);
      await inNs(ns, ['ebtables', '-t', 'nat', '--init-table']);
      await inNs(ns, ['ipset', 'destroy']);
      await loadAndCompare(ns, name, result.state);
      // Loading the same text again must leave the same state (idempotent, no duplicates).
      await inNs(ns, ['ipset', 'restore'], ipsetRestoreText(result.state.ipsets));
      await inNs(ns, ['iptables-restore', '--noflush'], iptablesRestoreText('filter', result.state.iptables.filter));
      await inNs(ns, ['ebtables-restore', '--noflush'], ebtablesRestoreText('nat', result.state.ebtables.nat));
      const again = parseIptablesSave(await inNs(ns, ['iptables-save', '-t', 'filter']));
      for (const c of result.state.iptables.filter.chains) assert.equal(again.get('filter')?.chains.get(c.name)?.rules.length, c.rules.length, `${name}: ${c.name} after re-restore`);
    }
  } finally {
    await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  }
});

test('deleteChains removes a group chain in the same transaction that stops jumping to it', async (t) => {
  if (!requireRoot(t, 'the netfilter kernel round trip')) return;
  const ns = `h5-scratch-${randomBytes(3).toString('hex')}`;
  await exec.run(['ip', 'netns', 'add', ns]);
  try {
    const { result } = renderScenario(loadScenario('several-instances-groups'));
    assert.ok(result.ok);
    const state = result.state;
    await inNs(ns, ['ipset', 'restore'], ipsetRestoreText(state.ipsets));
    await inNs(ns, ['iptables-restore', '--noflush'], iptablesRestoreText('filter', state.iptables.filter));
    await inNs(ns, ['ebtables-restore', '--noflush'], ebtablesRestoreText('nat', state.ebtables.nat));
    // Drop the jump to sg-000000db from FWD and delete its chain in one transaction.
    const gone = 'EDGENET-sg-000000db';
    const fwd = state.iptables.filter.chains[0]!;
    const slimmer: NetfilterTable = { chains: [{ name: fwd.name, rules: fwd.rules.filter((r) => jumpTarget(r) !== gone) }], hooks: [] };
    await inNs(ns, ['iptables-restore', '--noflush'], iptablesRestoreText('filter', slimmer, { deleteChains: [gone] }));
    const saved = parseIptablesSave(await inNs(ns, ['iptables-save', '-t', 'filter']));
    assert.equal(saved.get('filter')?.chains.has(gone), false);
    assert.equal(saved.get('filter')?.chains.get(fwd.name)?.rules.length, slimmer.chains[0]!.rules.length, 'FWD without every jump to the deleted chain (dispatch and broadcast)');
    // Same for an instance's ebtables chains, and the set, after nothing references it.
    const nat = state.ebtables.nat;
    const pre = nat.chains[0]!;
    const post = nat.chains[1]!;
    const strip = (c: typeof pre) => ({ name: c.name, rules: c.rules.filter((r) => !ruleArgs(r).some((a) => a.endsWith('i-a0000001'))) });
    await inNs(ns, ['ebtables-restore', '--noflush'], ebtablesRestoreText('nat', { chains: [strip(pre), strip(post)], hooks: [] }, { deleteChains: ['EDGENET-I-i-a0000001', 'EDGENET-O-i-a0000001'] }));
    const eb = parseEbtablesSave(await inNs(ns, ['ebtables-save', '-t', 'nat']));
    assert.equal(eb.get('nat')?.chains.has('EDGENET-I-i-a0000001'), false);
    assert.equal(eb.get('nat')?.chains.has('EDGENET-I-i-a0000002'), true);
    await inNs(ns, ['ipset', 'restore'], ipsetRestoreText([], { destroy: [gone] }));
    assert.equal(parseIpsetSave(await inNs(ns, ['ipset', 'save'])).has(gone), false);
  } finally {
    await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  }
});
