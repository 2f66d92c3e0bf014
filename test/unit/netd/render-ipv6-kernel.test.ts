/**
 * The dual-stack golden scenarios on a real kernel (root): every table a
 * dual-stack state has — inet and inet6 ipsets, iptables and ip6tables filter
 * and nat, ebtables nat and filter — is loaded into a scratch namespace with
 * the real restore tools, read back with the save tools, parsed with our
 * parsers and compared with the rendered model (as netfilter-kernel.test.ts
 * does for the IPv4 scenarios). A difference would make the applier see a
 * change that is not there and rewrite the table on every sync. Loading the
 * same text twice must leave the same rules (no duplicates).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createExec } from '../../../src/shared/exec.ts';
import { requireRoot } from '../../helpers/root.ts';
import type { NetfilterTable } from '../../../src/netd/render/types.ts';
import {
  ebtablesRestoreText, ebtablesRuleLine, hookRule, ipsetRestoreText, iptablesRestoreText, iptablesRuleLine, parseEbtablesSave, parseIpsetSave,
  parseIptablesSave, savedForm,
} from '../../../src/netd/netfilter/index.ts';
import type { SavedTables } from '../../../src/netd/netfilter/index.ts';
import { ip6tablesRestoreText } from '../../../src/netd/netfilter/iptables.ts';
import { loadScenario, renderScenario } from '../../golden/netd/scenarios.ts';

const exec = createExec();
const SCENARIOS = ['dual-stack', 'dual-stack-groups', 'dual-stack-refused'];

function hooksText(table: string, t: NetfilterTable, ebtables: boolean): string {
  const lines = t.hooks.map((h) => (ebtables ? ebtablesRuleLine(h.builtin, hookRule(h)) : iptablesRuleLine(h.builtin, hookRule(h))));
  return `*${table}\n${lines.join('\n')}\nCOMMIT\n`;
}

function assertTableEqual(label: string, saved: SavedTables, table: string, t: NetfilterTable): void {
  const got = saved.get(table);
  assert.ok(got, `${label}: table ${table} missing from save output`);
  for (const c of t.chains) {
    assert.deepEqual(got.chains.get(c.name)?.rules, c.rules.map(savedForm), `${label}: ${table} chain ${c.name} differs from its kernel echo`);
  }
  for (const h of t.hooks) assert.deepEqual(got.chains.get(h.builtin)?.rules.at(-1), savedForm(hookRule(h)), `${label}: hook ${h.builtin} → ${h.target}`);
}

test('dual-stack restore text loads into the kernel and reads back equal, ip6tables and ebtables filter included', async (t) => {
  if (!requireRoot(t, 'the netfilter kernel round trip')) return;
  const ns = `h4k-${randomBytes(3).toString('hex')}`;
  const inNs = async (argv: string[], input?: string): Promise<string> => (await exec.run(['ip', 'netns', 'exec', ns, ...argv], input === undefined ? {} : { input })).stdout;
  await exec.run(['ip', 'netns', 'add', ns]);
  try {
    for (const name of SCENARIOS) {
      const { result } = renderScenario(loadScenario(name));
      assert.ok(result.ok, `${name}: render failed`);
      const st = result.state;
      assert.ok(st.ip6tables.filter.chains.length > 0, `${name} is dual-stack`);
      for (const tool of ['iptables', 'ip6tables']) {
        for (const table of ['filter', 'nat']) { await inNs([tool, '-t', table, '-F']); await inNs([tool, '-t', table, '-X']); }
      }
      await inNs(['ebtables', '-t', 'nat', '--init-table']);
      await inNs(['ebtables', '-t', 'filter', '--init-table']);
      await inNs(['ipset', 'destroy']);
      for (let round = 0; round < 2; round++) {
        await inNs(['ipset', 'restore'], ipsetRestoreText(st.ipsets));
        await inNs(['iptables-restore', '--noflush'], iptablesRestoreText('filter', st.iptables.filter) + (round === 0 ? hooksText('filter', st.iptables.filter, false) : ''));
        await inNs(['ip6tables-restore', '--noflush'], ip6tablesRestoreText('filter', st.ip6tables.filter) + (round === 0 ? hooksText('filter', st.ip6tables.filter, false) : ''));
        if (st.ip6tables.nat.chains.length > 0) {
          await inNs(['ip6tables-restore', '--noflush'], ip6tablesRestoreText('nat', st.ip6tables.nat) + (round === 0 ? hooksText('nat', st.ip6tables.nat, false) : ''));
        }
        await inNs(['ebtables-restore', '--noflush'], ebtablesRestoreText('nat', st.ebtables.nat) + (round === 0 ? hooksText('nat', st.ebtables.nat, true) : ''));
        await inNs(['ebtables-restore', '--noflush'], ebtablesRestoreText('filter', st.ebtables.filter) + (round === 0 ? hooksText('filter', st.ebtables.filter, true) : ''));
        const label = `${name} (load ${round + 1})`;
        const sets = parseIpsetSave(await inNs(['ipset', 'save']));
        for (const s of st.ipsets) {
          const got = sets.get(s.name);
          assert.ok(got, `${label}: set ${s.name} missing`);
          assert.deepEqual(got.members, [...s.members], `${label}: set ${s.name} members`);
          assert.equal(got.options.includes('inet6'), s.family === 'inet6', `${label}: set ${s.name} family`);
        }
        assertTableEqual(label, parseIptablesSave(await inNs(['iptables-save', '-t', 'filter'])), 'filter', st.iptables.filter);
        assertTableEqual(label, parseIptablesSave(await inNs(['ip6tables-save', '-t', 'filter']), 'ipv6'), 'filter', st.ip6tables.filter);
        assertTableEqual(label, parseIptablesSave(await inNs(['ip6tables-save', '-t', 'nat']), 'ipv6'), 'nat', st.ip6tables.nat);
        assertTableEqual(label, parseEbtablesSave(await inNs(['ebtables-save', '-t', 'nat'])), 'nat', st.ebtables.nat);
        assertTableEqual(label, parseEbtablesSave(await inNs(['ebtables-save', '-t', 'filter'])), 'filter', st.ebtables.filter);
      }
    }
  } finally {
    await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  }
});
