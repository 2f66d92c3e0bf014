/**
 * ROUTED's rendered rules on a real kernel (issue 17; root): the ipsets and
 * the iptables and ip6tables filter and nat tables of ROUTED states (the
 * golden routed-dual-stack scenario, an ipv4-only and an ipv6-only cluster)
 * load into a scratch namespace with the real restore tools and read back,
 * through our parsers, equal to the rendered model — so the applier sees no
 * change that is not there (the `-i`/`-o` port matches, `::/128`, the
 * anti-spoofing chain). Loading twice leaves the same rules. Nothing is
 * bridged, so there is no ebtables text to load.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createExec } from '../../src/shared/exec.ts';
import { DEFAULT_NETD_CONFIG } from '../../src/netd/config.ts';
import { render } from '../../src/netd/render/render.ts';
import type { DesiredState, NetfilterTable } from '../../src/netd/render/types.ts';
import { hookRule, ipsetRestoreText, iptablesRestoreText, iptablesRuleLine, parseIpsetSave, parseIptablesSave, savedForm } from '../../src/netd/netfilter/index.ts';
import type { SavedTables } from '../../src/netd/netfilter/index.ts';
import { ip6tablesRestoreText } from '../../src/netd/netfilter/iptables.ts';
import { loadScenario, renderScenario } from '../golden/netd/scenarios.ts';
import { requireRoot } from '../helpers/root.ts';
import { ROUTED_NODE, routedDoc } from '../helpers/routed-doc.ts';

const exec = createExec();

function states(): [string, DesiredState][] {
  const golden = renderScenario(loadScenario('routed-dual-stack')).result;
  assert.ok(golden.ok, 'routed-dual-stack renders');
  const config = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE };
  const one = (addressing: 'ipv4' | 'ipv6'): DesiredState => {
    const r = render(routedDoc({
      addressing,
      instances: [
        { id: 'i-a0000001', mac: 'd0:0d:a0:00:00:01', ...(addressing === 'ipv4' ? { ipv4: '10.50.0.11' } : { ipv6: true }) },
        { id: 'i-a0000002', mac: 'd0:0d:a0:00:00:02', elastic: '10.60.0.4', ...(addressing === 'ipv4' ? { ipv4: '10.50.0.12' } : { ipv6: true }) },
      ],
    }), { node: ROUTED_NODE }, config, {});
    assert.ok(r.ok, JSON.stringify(r));
    return r.state;
  };
  return [['routed-dual-stack', golden.state], ['ipv4-only', one('ipv4')], ['ipv6-only', one('ipv6')]];
}

function hooksText(table: string, t: NetfilterTable): string {
  return `*${table}\n${t.hooks.map((h) => iptablesRuleLine(h.builtin, hookRule(h))).join('\n')}\nCOMMIT\n`;
}

function assertTableEqual(label: string, saved: SavedTables, table: string, t: NetfilterTable): void {
  const got = saved.get(table);
  assert.ok(got, `${label}: table ${table} missing from save output`);
  for (const c of t.chains) assert.deepEqual(got.chains.get(c.name)?.rules, c.rules.map(savedForm), `${label}: ${table} chain ${c.name} differs from its kernel echo`);
  for (const h of t.hooks) assert.deepEqual(got.chains.get(h.builtin)?.rules.at(-1), savedForm(hookRule(h)), `${label}: hook ${h.builtin} → ${h.target}`);
}

test('ROUTED rules and sets load into the kernel and read back equal (ipv4-only, ipv6-only, dual stack)', async (t) => {
  if (!requireRoot(t, 'the netfilter kernel round trip')) return;
  const ns = `enrt-c1-${randomBytes(3).toString('hex')}`;
  const inNs = async (argv: string[], input?: string): Promise<string> => (await exec.run(['ip', 'netns', 'exec', ns, ...argv], input === undefined ? {} : { input })).stdout;
  await exec.run(['ip', 'netns', 'add', ns]);
  try {
    for (const [name, st] of states()) {
      for (const tool of ['iptables', 'ip6tables']) {
        for (const table of ['filter', 'nat']) { await inNs([tool, '-t', table, '-F']); await inNs([tool, '-t', table, '-X']); }
      }
      await inNs(['ipset', 'destroy']);
      const tables = [
        ['iptables', 'filter', st.iptables.filter], ['iptables', 'nat', st.iptables.nat],
        ['ip6tables', 'filter', st.ip6tables.filter], ['ip6tables', 'nat', st.ip6tables.nat],
      ] as const;
      for (let round = 0; round < 2; round++) {
        const label = `${name} (load ${round + 1})`;
        await inNs(['ipset', 'restore'], ipsetRestoreText(st.ipsets));
        for (const [tool, table, rules] of tables) {
          if (rules.chains.length === 0) continue;
          const text = (tool === 'iptables' ? iptablesRestoreText(table, rules) : ip6tablesRestoreText(table, rules)) + (round === 0 ? hooksText(table, rules) : '');
          await inNs([`${tool}-restore`, '--noflush'], text);
        }
        const sets = parseIpsetSave(await inNs(['ipset', 'save']));
        for (const s of st.ipsets) assert.deepEqual(sets.get(s.name)?.members, [...s.members], `${label}: set ${s.name}`);
        for (const [tool, table, rules] of tables) {
          if (rules.chains.length === 0) continue;
          assertTableEqual(`${label} ${tool}`, parseIptablesSave(await inNs([`${tool}-save`, '-t', table]), tool === 'iptables' ? 'ipv4' : 'ipv6'), table, rules);
        }
      }
      // The anti-spoofing chain is there, first in FORWARD's chain, in each family the state has.
      assert.match(await inNs(['iptables-save', '-t', 'filter']), /-A EDGENET-FWD -i vn_\+ .*-j EDGENET-SPOOF\n/);
      // Per port: its own link-local and :: for DAD, never fe80::/10 from every port.
      if (st.ip6tables.filter.chains.length > 0) {
        const save6 = await inNs(['ip6tables-save', '-t', 'filter']);
        assert.match(save6, /-A EDGENET-SPOOF -s ::\/128 -i vn_i-[0-9a-f]+ -p ipv6-icmp/);
        assert.match(save6, /-A EDGENET-SPOOF -s fe80::[0-9a-f:]+\/128 -i vn_i-[0-9a-f]+ .*-j RETURN/);
        assert.doesNotMatch(save6, /-s fe80::\/10/);
      }
    }
  } finally {
    await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  }
});
