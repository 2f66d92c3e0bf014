/**
 * `edgenet lab down`: removes every namespace, process and file a lab made,
 * from the state file when there is one, from the name alone otherwise
 * (after a crash). Processes in lab namespaces die with `teardownByPrefix`;
 * the only process outside them (the host relay) is killed by its recorded
 * pid after checking that the pid still runs our relay (pids get reused), and
 * exits by itself anyway once the state file is gone (relay.ts `watch`).
 * A ROUTED lab's router BIRD is stopped by its recorded pid (after checking
 * the pid still runs that BIRD, on the lab's bird.conf) before the namespaces
 * go, so it withdraws nothing into a half-removed topology; its files live in
 * the lab directory.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Exec } from '../shared/exec.ts';
import type { Clock } from '../shared/clock.ts';
import { errorMessage } from '../shared/errors.ts';
import { teardownByPrefix, type TeardownReport } from './topology.ts';
import { defaultLabDir, labPlan } from './plan.ts';
import { readLabState } from './state.ts';
import { stopLabPostgres } from './postgres.ts';
import { waitFor } from '../shared/wait.ts';

export interface LabDownOptions {
  readonly name: string;
  readonly dir?: string;
}

export interface LabDownDeps {
  readonly exec: Exec;
  readonly clock?: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

export interface LabDownReport extends TeardownReport {
  readonly dir: string;
  readonly hostProcesses: number;
}

/** True when `pid` is alive and its command line contains every `needle`. */
export async function processMatches(pid: number, needles: readonly string[]): Promise<boolean> {
  try {
    const cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
    return needles.every((n) => cmdline.includes(n));
  } catch {
    return false;
  }
}

export async function labDown(options: LabDownOptions, deps: LabDownDeps): Promise<LabDownReport> {
  const plan = labPlan(options.name, options.dir ?? defaultLabDir(options.name, deps.env));
  const state = await readLabState(plan.stateFile).catch(() => undefined);
  let hostProcesses = 0;
  for (const p of state?.processes ?? []) {
    if (p.ns !== undefined) continue;
    if (await processMatches(p.pid, ['lab', 'relay', plan.stateFile])) {
      try {
        process.kill(p.pid, 'SIGTERM');
        hostProcesses++;
      } catch (err) {
        deps.log(`lab ${plan.name}: could not stop pid ${p.pid}: ${errorMessage(err)}`);
      }
    }
  }
  for (const p of state?.processes ?? []) {
    if (p.role !== 'router') continue;
    const conf = state?.plan.routed?.router.conf;
    if (conf && (await processMatches(p.pid, ['bird', conf]))) {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch (err) {
        deps.log(`lab ${plan.name}: could not stop the router's BIRD (pid ${p.pid}): ${errorMessage(err)}`);
      }
      await waitFor(async () => !(await processMatches(p.pid, ['bird', conf])), { timeoutMs: 5000, intervalMs: 50, what: "the router's BIRD to exit" }).catch(() => undefined);
    }
  }
  // PostgreSQL (`--db postgres`) by pg_ctl on its data directory, before its namespace goes; found by
  // the plan's paths, so a lab whose `up` crashed midway is cleaned up too.
  const pg = state?.plan.postgres ?? labPlan(options.name, plan.dir, { db: 'postgres' }).postgres!;
  const pgStopped = await stopLabPostgres(pg, deps).catch((err: unknown) => {
    deps.log(`lab ${plan.name}: could not stop PostgreSQL: ${errorMessage(err)}`);
    return false;
  });
  // Its directory is outside the lab's (plan.ts haPlan); a server still running keeps it (and says so above).
  if (pgStopped || !(await fs.stat(path.join(pg.dataDir, 'postmaster.pid')).catch(() => undefined))) await fs.rm(pg.dir, { recursive: true, force: true });
  const report = await teardownByPrefix(plan.prefix, deps, { workDir: plan.topology.workDir ?? plan.dir });
  await fs.rm(plan.dir, { recursive: true, force: true });
  // The default parent (<state dir>/lab) goes too once no other lab uses it.
  if (!options.dir) await fs.rmdir(path.dirname(plan.dir)).catch(() => undefined);
  deps.log(`lab ${plan.name}: removed ${report.namespaces.length} namespaces, stopped ${report.killed + hostProcesses} processes${pgStopped ? ' and PostgreSQL' : ''}, deleted ${plan.dir}`);
  return { ...report, dir: plan.dir, hostProcesses };
}
