/**
 * `edgenet netd plan` through commander with a captured context (no root, no
 * host facts: --no-host), on golden scenario inputs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { CliExit } from '../../../src/cli/context.ts';
import type { CliContext } from '../../../src/cli/context.ts';
import { registerNetdPlan } from '../../../src/cli/commands/netd-plan.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { loadScenario } from '../../golden/netd/scenarios.ts';

async function runPlan(argv: string[], diff?: () => Promise<string>): Promise<{ out: string; err: string; exit: number }> {
  let out = '';
  let err = '';
  let exit = 0;
  const ctx: CliContext = {
    env: {}, out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; }, signal: new AbortController().signal,
    setExitCode: (c) => { exit = c; },
  };
  const program = new Command('edgenet').exitOverride();
  const netd = program.command('netd');
  registerNetdPlan(netd, ctx, diff === undefined ? {} : { diff });
  try {
    await program.parseAsync(['node', 'edgenet', 'netd', 'plan', ...argv]);
  } catch (e) {
    if (e instanceof CliExit) { exit = e.exitCode; if (e.message) err += e.message; } else throw e;
  }
  return { out, err, exit };
}

function fixture(): { dir: string; gni: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), 'h5-plan-'));
  const s = loadScenario('several-instances-groups');
  const gni = join(dir, 'gni.xml');
  writeFileSync(gni, serializeGni(s.doc));
  const conf = join(dir, 'netd.conf');
  writeFileSync(conf, `${s.configText}\nEDGENET_BRIDGE_MAC=02:00:0a:0a:00:01\n`);
  return { dir, gni, conf };
}

test('plan prints every section of the desired state', async () => {
  const f = fixture();
  try {
    const r = await runPlan(['--gni', f.gni, '--node', '10.0.0.21', '--config', f.conf, '--no-host']);
    assert.equal(r.exit, 0, r.err);
    for (const section of ['## bridge', '## sysctls', '## instances (3)', '## ipsets', '## iptables filter', '## iptables nat', '## ebtables nat', '## dhcpd.conf on br0 (3 hosts)']) {
      assert.ok(r.out.includes(section), `missing ${section}`);
    }
    assert.ok(r.out.includes('-A EDGENET-FWD -m set --match-set EDGENET-LOCAL dst -m comment'));
    assert.ok(r.out.includes('host i-a0000001 {'));
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('plan --json prints the DesiredState; the diff hook is called when the host is readable', async () => {
  const f = fixture();
  try {
    const json = await runPlan(['--gni', f.gni, '--node', '10.0.0.21', '--config', f.conf, '--no-host', '--json']);
    assert.equal(json.exit, 0, json.err);
    const state = JSON.parse(json.out) as { node: string; instances: unknown[] };
    assert.equal(state.node, '10.0.0.21');
    assert.equal(state.instances.length, 3);
    let called = 0;
    const withDiff = await runPlan(['--gni', f.gni, '--node', '10.0.0.21', '--config', f.conf], async () => { called++; return 'no changes'; });
    assert.equal(withDiff.exit, 0, withDiff.err);
    assert.equal(called, 1);
    assert.ok(withDiff.out.includes('## difference to this host\nno changes'));
    const failingDiff = await runPlan(['--gni', f.gni, '--node', '10.0.0.21', '--config', f.conf], async () => { throw new Error('cannot read'); });
    assert.equal(failingDiff.exit, 0);
    assert.match(failingDiff.err, /difference unavailable: cannot read/);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('plan fails cleanly: unknown node, invalid document, bad config, missing node', async () => {
  const f = fixture();
  try {
    const unknown = await runPlan(['--gni', f.gni, '--node', '10.9.9.9', '--no-host']);
    assert.equal(unknown.exit, 1);
    assert.match(unknown.err, /NOT_IN_DOCUMENT/);
    writeFileSync(join(f.dir, 'bad.xml'), '<network-data version="x"><configuration>');
    const bad = await runPlan(['--gni', join(f.dir, 'bad.xml'), '--node', '10.0.0.21', '--no-host']);
    assert.equal(bad.exit, 1);
    writeFileSync(join(f.dir, 'bad.conf'), 'EDGENET_PREFIX="no-dashes"');
    const badConf = await runPlan(['--gni', f.gni, '--node', '10.0.0.21', '--config', join(f.dir, 'bad.conf'), '--no-host']);
    assert.equal(badConf.exit, 1);
    assert.match(badConf.err, /EDGENET_PREFIX/);
    const noNode = await runPlan(['--gni', f.gni, '--no-host']);
    assert.equal(noNode.exit, 2);
    const missing = await runPlan(['--gni', join(f.dir, 'nope.xml'), '--node', 'x', '--no-host']);
    assert.equal(missing.exit, 2);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});
