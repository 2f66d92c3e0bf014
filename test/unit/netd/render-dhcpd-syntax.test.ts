/**
 * Every rendered dhcpd.conf of the golden scenarios passes ISC dhcpd's own
 * syntax check (`dhcpd -4 -t -cf FILE`), so the applier never starts a dhcpd
 * that refuses its configuration.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createExec } from '../../../src/shared/exec.ts';
import { dhcpdConf, loadScenario, renderScenario, scenarioNames } from '../../golden/netd/scenarios.ts';

const DHCPD = '/usr/sbin/dhcpd';

test('rendered dhcpd.conf passes dhcpd -t', async (t) => {
  if (!existsSync(DHCPD)) {
    process.stderr.write(`\n!!! SKIPPED: ${DHCPD} is not installed\n`);
    t.skip(`${DHCPD} not installed`);
    return;
  }
  const exec = createExec();
  const dir = mkdtempSync(join(tmpdir(), 'h5-dhcpd-'));
  try {
    let checked = 0;
    for (const name of scenarioNames()) {
      const { result } = renderScenario(loadScenario(name));
      // ROUTED states have no DHCP (dhcpd listed as must-not-run, no file).
      if (!result.ok || result.state.routed !== undefined) continue;
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, dhcpdConf(result.state));
      const r = await exec.run([DHCPD, '-4', '-t', '-cf', file], { okExitCodes: [0, 1] });
      assert.equal(r.exitCode, 0, `${name}: dhcpd -t rejected the configuration:\n${r.stderr}`);
      checked++;
    }
    assert.ok(checked >= 8);
    // The check is real: a broken file is rejected.
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'subnet 10.0.0.0 netmask 255.0.0.0 { option routers ; }\n');
    const r = await exec.run([DHCPD, '-4', '-t', '-cf', bad], { okExitCodes: [0, 1] });
    assert.notEqual(r.exitCode, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
