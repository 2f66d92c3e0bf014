/**
 * The layering of src/ (issue 12): which folders may import which, no import
 * cycles, no I/O or ambient state in the pure folders (render, plan, modes,
 * netfilter, the GNI model). The rules are data in test/helpers/architecture.ts;
 * the checker is a pure function, so the same test also feeds it bad graphs
 * and shows that each kind of leak is reported, naming the file, the import
 * and the rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readImportGraph, sourceFacts, type ImportGraph } from '../helpers/import-graph.ts';
import { checkArchitecture, formatViolations, LAYERS, type RuleName, type Violation } from '../helpers/architecture.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** A graph from file texts (paths relative to src/), read by the same reader as the real tree. */
function graphOf(files: Record<string, string>): ImportGraph {
  return Object.entries(files).map(([p, text]) => sourceFacts(p, text));
}

function only(violations: readonly Violation[], rule: RuleName): Violation[] {
  return violations.filter((v) => v.rule === rule);
}

test('src/ keeps its layering: allowed folders, no cycles, pure render/plan/modes/netfilter/gni', () => {
  const graph = readImportGraph(SRC);
  assert.ok(graph.length > 150, `read ${graph.length} files under ${SRC}`);
  const violations = checkArchitecture(graph);
  // Not deepEqual: the message alone, one line per violation, says everything.
  assert.ok(violations.length === 0, `the import graph breaks the layering (rules: test/helpers/architecture.ts):\n${formatViolations(violations)}`);
});

test('adding a forbidden import to the real tree fails the check', () => {
  const real = readImportGraph(SRC);
  const before = new Set(checkArchitecture(real).map((v) => v.message));
  const plan = real.find((f) => f.path === 'netd/plan/plan.ts');
  assert.ok(plan, 'netd/plan/plan.ts exists');
  const extra = sourceFacts('netd/plan/plan.ts', "import { readFileSync } from 'node:fs';\nimport type { CloudSnapshot } from '../../cloud-controller/contracts.ts';\n");
  const mutated = real.map((f) => (f === plan ? { ...f, imports: [...f.imports, ...extra.imports] } : f));
  const added = checkArchitecture(mutated).filter((v) => !before.has(v.message));
  assert.deepEqual(added.map((v) => [v.rule, v.file, v.specifier]).sort(), [
    ['forbidden', 'netd/plan/plan.ts', '../../cloud-controller/contracts.ts'],
    ['layers', 'netd/plan/plan.ts', '../../cloud-controller/contracts.ts'],
    ['purity', 'netd/plan/plan.ts', 'node:fs'],
  ]);
});

test('a forbidden folder edge is reported with the file, the import and the rule', () => {
  const v = checkArchitecture(graphOf({
    'netd/render/render.ts': "import type { Store } from '../../cloud-controller/db/store.ts';\n",
    'cloud-controller/db/store.ts': 'export interface Store {}\n',
  }));
  const forbidden = only(v, 'forbidden');
  assert.equal(forbidden.length, 1, formatViolations(v));
  assert.equal(forbidden[0]!.file, 'netd/render/render.ts');
  assert.equal(forbidden[0]!.specifier, '../../cloud-controller/db/store.ts');
  assert.match(forbidden[0]!.message, /^netd\/render\/render\.ts:1 imports '\.\.\/\.\.\/cloud-controller\/db\/store\.ts' \(cloud-controller\/db\/store\.ts\): netd hears from the NC only through the shared file$/);
  const layers = only(v, 'layers');
  assert.equal(layers.length, 1);
  assert.match(layers[0]!.message, /src\/netd\/render may import shared, shared\/gni, netd\/netfilter/);
  assert.match(layers[0]!.message, /type only/);
});

test('the known leaks are each reported: lab → cli, netfilter → render, apply → the sync, controller → controller, shared → a program', () => {
  const v = checkArchitecture(graphOf({
    'lab/demo.ts': "const { main } = await import('../cli/main.ts');\n",
    'cli/main.ts': 'export const main = 1;\n',
    'netd/netfilter/model.ts': "import type { DesiredState } from '../render/types.ts';\n",
    'netd/render/types.ts': 'export interface DesiredState {}\n',
    'netd/apply/apply.ts': "import { sync } from '../sync.ts';\n",
    'netd/sync.ts': 'export const sync = 1;\n',
    'cluster-controller/main.ts': "import { wsdlPath } from '../node-controller/main.ts';\n",
    'node-controller/main.ts': 'export const wsdlPath = 1;\n',
    'shared/config/load.ts': "import { x } from '../../netd/config.ts';\n",
    'netd/config.ts': 'export const x = 1;\n',
  }));
  assert.deepEqual(only(v, 'forbidden').map((x) => `${x.file} → ${x.specifier}`), [
    'cluster-controller/main.ts → ../node-controller/main.ts',
    'lab/demo.ts → ../cli/main.ts',
    'netd/apply/apply.ts → ../sync.ts',
    'netd/netfilter/model.ts → ../render/types.ts',
    'shared/config/load.ts → ../../netd/config.ts',
  ]);
  // Each of them is outside its folder's entry in LAYERS too.
  assert.equal(only(v, 'layers').length, 5, formatViolations(v));
});

test('an import cycle between files is reported once, with every hop', () => {
  const v = checkArchitecture(graphOf({
    'shared/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
    'shared/b.ts': "import type { C } from './c.ts';\nexport const b = 1;\n",
    'shared/c.ts': "export type C = number;\nexport { a } from './a.ts';\n",
    'shared/d.ts': "import { a } from './a.ts';\n",
  }));
  const cycles = only(v, 'cycle');
  assert.equal(cycles.length, 1, formatViolations(v));
  assert.equal(cycles[0]!.file, 'shared/a.ts');
  assert.equal(cycles[0]!.message, 'import cycle: shared/a.ts:1 → shared/b.ts, shared/b.ts:1 → shared/c.ts, shared/c.ts:2 → shared/a.ts');
});

test('an fs import in render and process.env in plan break purity', () => {
  const v = checkArchitecture(graphOf({
    'netd/render/dhcpd.ts': "import { writeFileSync } from 'node:fs';\n",
    'netd/plan/plan.ts': 'export const verbose = process.env.DEBUG === "1";\n',
    'netd/modes/edge.ts': 'export const at = () => Date.now();\nexport const jitter = () => Math.random();\nexport const today = () => new Date();\n',
    'shared/gni/codec.ts': "import { createHash } from 'node:crypto';\nexport const when = new Date(0);\n",
  }));
  assert.deepEqual(only(v, 'purity').map((x) => x.message), [
    "netd/modes/edge.ts:1 uses Date.now: src/netd/modes is pure (no environment, clock or randomness; take it as an argument)",
    "netd/modes/edge.ts:2 uses Math.random: src/netd/modes is pure (no environment, clock or randomness; take it as an argument)",
    "netd/modes/edge.ts:3 uses new Date(): src/netd/modes is pure (no environment, clock or randomness; take it as an argument)",
    "netd/plan/plan.ts:1 uses process.env: src/netd/plan is pure (no environment, clock or randomness; take it as an argument)",
    "netd/render/dhcpd.ts:1 imports 'node:fs': src/netd/render is pure (no I/O)",
  ]);
});

test('purity follows runtime imports out of the pure folder, not type-only ones', () => {
  const v = checkArchitecture(graphOf({
    'netd/render/render.ts': "import { netdNames } from '../names.ts';\nimport type { NetdConfig } from '../config.ts';\n",
    'netd/names.ts': "import { log } from '../shared/logger.ts';\nexport const netdNames = 1;\n",
    'netd/config.ts': "import { readFileSync } from 'node:fs';\nexport interface NetdConfig {}\n",
    'shared/logger.ts': "import winston from 'winston';\nexport const log = winston;\n",
  }));
  const purity = only(v, 'purity');
  assert.equal(purity.length, 1, formatViolations(v));
  assert.equal(purity[0]!.specifier, '../names.ts');
  assert.match(purity[0]!.message, /netd\/render\/render\.ts → netd\/names\.ts → shared\/logger\.ts imports winston \(line 1\)/);
});

test('a folder missing from the table, a package outside its owner, a computed import', () => {
  const v = checkArchitecture(graphOf({
    'netd/bgp/speaker.ts': "import { execa } from 'execa';\nconst m = await import(`./${name}.ts`);\n",
    'shared/exec.ts': "import { execa } from 'execa';\n",
  }));
  assert.deepEqual(v.map((x) => x.rule).sort(), ['computed-import', 'owner', 'unknown-folder']);
  assert.match(only(v, 'unknown-folder')[0]!.message, /folder src\/netd\/bgp is not in LAYERS/);
  assert.match(only(v, 'owner')[0]!.message, /^netd\/bgp\/speaker\.ts:1 imports 'execa': only shared\/exec\.ts may import execa$/);
});

test('a clean graph has no violations', () => {
  assert.deepEqual(checkArchitecture(graphOf({
    'netd/render/render.ts': "import { createHash } from 'node:crypto';\nimport { ip } from '../../shared/ip.ts';\nimport type { NetdConfig } from '../config.ts';\nimport { rule } from '../netfilter/rule.ts';\n",
    'netd/netfilter/rule.ts': "import { ip } from '../../shared/ip.ts';\nexport const rule = ip;\n",
    'shared/ip.ts': 'export const ip = 1;\n',
    'netd/config.ts': "import { readFileSync } from 'node:fs';\nexport interface NetdConfig {}\n",
    'cli/main.ts': "import { registerLab } from './commands/lab.ts';\n",
    'cli/commands/lab.ts': "import { runDemo } from '../../lab/demo.ts';\nexport const registerLab = runDemo;\n",
    'lab/demo.ts': "import type { CloudSnapshot } from '../cloud-controller/contracts.ts';\nexport const runDemo = 1;\n",
    'cloud-controller/contracts.ts': 'export interface CloudSnapshot {}\n',
  })), []);
});

test('the reader sees every kind of module reference and nothing in strings, comments or templates', () => {
  const f = sourceFacts('netd/x.ts', [
    "import a from './a.ts';",
    "import type { B } from './b.ts';",
    "import { type C } from './c.ts';",
    "export * from './d.ts';",
    "export type { E } from './e.ts';",
    "import './f.ts';",
    'const g = await import("./g.ts");',
    "type H = import('./h.ts').H;",
    "// import x from './comment.ts';",
    "const s = 'import y from \"./string.ts\"';",
    'const t = `import z from "./template.ts" ${`nested ${"import(\'./deep.ts\')"}`}`;',
    "const r = /import q from '.\\/regex.ts'/.test(s) ? 1 / 2 : 3;",
    "import fs from 'fs';",
    'const env = { ...process.env };',
    'const meta = import.meta.url; obj.import(1);',
    "export { default as i } from './i.ts';",
  ].join('\n'));
  assert.deepEqual(f.imports.map((e) => `${e.line} ${e.kind} ${e.target}${e.typeOnly ? ' type' : ''}`), [
    '1 import netd/a.ts',
    '2 import netd/b.ts type',
    // Under verbatimModuleSyntax `import { type C }` still loads the module.
    '3 import netd/c.ts',
    '4 export from netd/d.ts',
    '5 export from netd/e.ts type',
    '6 import netd/f.ts',
    '7 dynamic import netd/g.ts',
    '8 type import netd/h.ts type',
    '13 import node:fs',
    '16 export from netd/i.ts',
  ]);
  assert.deepEqual(f.ambient, [{ name: 'process.env', line: 14 }]);
});

test('LAYERS is well formed: no entry lists its own folder, every pattern names a folder of the table or outside src/', () => {
  const keys = new Set(Object.keys(LAYERS));
  for (const [folder, allowed] of Object.entries(LAYERS)) {
    assert.ok(!allowed.includes(folder), `${folder} lists itself (a folder may always import itself)`);
    for (const pattern of allowed) {
      const base = pattern.replace(/^type:/, '').replace(/\/\*\*$/, '').replace(/\/[^/]+\.ts$/, '');
      assert.ok(keys.has(base) || base.startsWith('../'), `${folder}: ${pattern} names no folder of LAYERS`);
    }
  }
});
