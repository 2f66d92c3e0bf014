/**
 * The long fuzz run (issue 11, Build): the suite's fuzz files
 * (test/unit/fuzz/*.fuzz.test.ts) with more cases and any seed.
 *
 *   node --import tsx bench/fuzz.ts --runs 100000 --seed 42 [--only gni|config|soap]
 *
 * Each file runs in its own node:test process with FUZZ_RUNS and FUZZ_SEED
 * set (test/unit/fuzz/mutate.ts reads them); a failure prints fast-check's
 * counterexample with the seed and path that replay it. Exit status: 0 when
 * every file passed, 1 otherwise.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { readdirSync } from 'node:fs';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

const args = process.argv.slice(2);
const runs = option(args, '--runs') ?? '20000';
const seed = option(args, '--seed') ?? String(Date.now() % 2 ** 31);
const only = option(args, '--only');
if (!/^\d+$/.test(runs) || !/^-?\d+$/.test(seed)) {
  console.error('usage: bench/fuzz.ts [--runs N] [--seed S] [--only config|gni|soap]');
  process.exit(2);
}
const dir = path.join(import.meta.dirname, '..', 'test', 'unit', 'fuzz');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.fuzz.test.ts') && (!only || f.startsWith(only)))
  .map((f) => path.join(dir, f));
console.log(`fuzz: ${files.length} files, ${runs} runs per property, seed ${seed}`);
let failed = 0;
for (const file of files) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
    stdio: 'inherit',
    env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed },
  });
  console.log(`${path.basename(file)}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s`);
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
