/**
 * Golden scenarios for netd's render: each directory holds the input
 * (`gni.xml` or `gni.json`, and `node.json` = {node, config: {KEY: value},
 * host}) and the expected outputs (`filter.rules`, `nat.rules`,
 * `ebtables.rules`, `ipsets.txt`, `dhcpd.conf`, `state.json`; a dual-stack
 * state also `filter6.rules`, `nat6.rules`, `ebtables-filter.rules`; or `error.json`
 * for a scenario that must fail). `UPDATE_GOLDEN=1` rewrites the outputs.
 * Every scenario also passes the structural invariants (invariants.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { render } from '../../../src/netd/render/render.ts';
import { checkInvariants } from './invariants.ts';
import { GOLDEN_FILES, goldenFiles, loadScenario, renderScenario, scenarioNames } from './scenarios.ts';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

for (const name of scenarioNames()) {
  test(`golden netd render: ${name}`, () => {
    const s = loadScenario(name);
    const { config, result } = renderScenario(s);
    // Render is pure: the same input renders the same state twice.
    assert.deepEqual(renderScenario(s).result, result);
    if (!s.untrusted) assert.deepEqual(render(s.doc, { node: s.node }, config, s.host), result);
    const files: Record<string, string> = result.ok ? goldenFiles(result.state) : { 'error.json': `${JSON.stringify({ code: result.code }, null, 2)}\n` };
    if (result.ok) assert.deepEqual(checkInvariants(result.state, config.prefix), [], `${name}: invariants`);
    const all = GOLDEN_FILES;
    if (UPDATE) {
      for (const f of all) if (!(f in files) && existsSync(join(s.dir, f))) rmSync(join(s.dir, f));
      for (const [f, text] of Object.entries(files)) writeFileSync(join(s.dir, f), text);
      return;
    }
    for (const f of all) {
      const path = join(s.dir, f);
      if (!(f in files)) { assert.ok(!existsSync(path), `${name}: ${f} is expected but render produced none (result ${JSON.stringify(result.ok ? 'ok' : result)})`); continue; }
      assert.ok(existsSync(path), `${name}: missing golden ${f} (run with UPDATE_GOLDEN=1)`);
      assert.equal(files[f], readFileSync(path, 'utf8'), `${name}/${f} differs (UPDATE_GOLDEN=1 rewrites)`);
    }
  });
}
