/**
 * `edgenet netd …`: the node daemon and its operator tools.
 *   edgenet netd [run] --config FILE [--once] [--check-config]   run the daemon (root; shared/daemon lifecycle)
 *   edgenet netd flush [--config FILE] [--config-drives]   remove every edgenet artifact from this host
 *   edgenet netd events [--config FILE] [--json] [--limit N]   recent syncs
 *   edgenet netd status [--config FILE]         the status file the node controller reads
 *   edgenet netd plan --gni FILE …              desired state (+ difference to this host)
 *   edgenet netd adopt [--dry-run] …            take the node over from eucanetd (netd-adopt.ts)
 * Thin: everything lives in src/netd/.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliExit } from '../context.ts';
import { errorMessage } from '../../shared/errors.ts';
import { paths } from '../../shared/paths.ts';
import { parseGni } from '../../shared/gni/codec.ts';
import { registerNetdPlan } from './netd-plan.ts';
import { registerNetdAdopt } from './netd-adopt.ts';
import { loadNetdSetup, main as netdMain, realHost, type NetdSetup } from '../../netd/main.ts';
import { planFor, addressLabel } from '../../netd/sync.ts';
import { describeStep } from '../../netd/plan/steps.ts';
import { netdNames } from '../../netd/names.ts';
import { flushHost } from '../../netd/flush.ts';
import { findSelf } from '../../netd/render/render.ts';
import { formatEvent, readEvents } from '../../netd/events.ts';
import { flushedStatus, readStatus, statusFiles, writeStatus } from '../../netd/status.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../netd/config.ts';
import { runDir as defaultRunDir } from '../../shared/paths.ts';
import type { DesiredState } from '../../netd/render/types.ts';
import * as path from 'node:path';
import { createFiles } from '../../shared/files.ts';

/** Read access to the run dir for the status and event files. */
function fileIo() {
  const f = createFiles();
  return { readFile: (p: string) => f.read(p), writeFile: (p: string, c: string) => f.writeAtomic(p, c) };
}

async function setupOrDefault(file: string | undefined, env: NodeJS.ProcessEnv): Promise<NetdSetup> {
  const configFile = file ?? paths.netdConf(env);
  try {
    return await loadNetdSetup(configFile, env);
  } catch (err) {
    if (file !== undefined) throw new CliExit(1, `error: ${errorMessage(err)}`);
    // No config at the default place: defaults (run dir from the environment).
    const runDir = defaultRunDir(env);
    return { config: DEFAULT_NETD_CONFIG, runDir, gniFile: path.join(runDir, 'global_network_info.xml') };
  }
}

/** The plan's difference to this host, for `netd plan` (needs root to read netfilter). */
async function diff(state: DesiredState, config: NetdConfig): Promise<string> {
  const runDir = config.runDir || defaultRunDir(process.env);
  const plan = await planFor({ host: realHost(), config, runDir, desired: state, full: false });
  if (plan.steps.length === 0) return 'host is up to date: a sync would write nothing';
  return [`a sync would run ${plan.steps.length} step(s):`, ...plan.steps.map((s) => `  ${describeStep(s)}`), ...plan.notes.map((n) => `  note: ${n}`)].join('\n');
}

export function registerNetd(program: Command, ctx: CliContext): void {
  const netd = program.command('netd').description('node daemon: lays down bridges, dhcpd, ipsets, iptables and ebtables from the shared file');

  netd
    .command('run', { isDefault: true })
    .description('run the daemon (root); SIGTERM stops it without flushing (dhcpd keeps serving), SIGHUP re-reads the configuration and resyncs')
    .option('--config <file>', 'netd configuration (KEY="value"; EDGENET_NETD_<KEY> in the environment wins over it)')
    .option('--once', 'one full sync, then exit (0 applied, 1 not)')
    .option('--check-config', 'print the effective configuration (each value with its source) and its problems, then exit 0 (fine) or 2')
    .option('--json', 'with --check-config: JSON output')
    .action(async (flags: { config?: string; once?: boolean; checkConfig?: boolean; json?: boolean }) => {
      const argv = [...(flags.config ? ['--config', flags.config] : []), ...(flags.once ? ['--once'] : []), ...(flags.checkConfig ? ['--check-config'] : []), ...(flags.json ? ['--json'] : [])];
      ctx.setExitCode(await netdMain(argv, ctx.env, ctx.signal));
    });

  netd
    .command('flush')
    .description('remove every edgenet chain, hook, ipset, public /32, route and our daemons from this host, and the config drives of instances no longer on it; nothing else')
    .option('--config <file>', 'netd configuration (KEY="value")')
    .option('--config-drives', "also remove the ROUTED config drives of instances still on this node (uninstall: a VM that has one attached loses it at its next boot)")
    .action(async (flags: { config?: string; configDrives?: boolean }) => {
      const setup = await setupOrDefault(flags.config, ctx.env);
      const host = realHost();
      const text = await host.readFile(setup.gniFile).catch(() => undefined);
      const doc = text === undefined ? undefined : parseGni(text);
      const pool = doc?.ok ? doc.value.configuration.publicIps : [];
      // Config drives stay for the instances the document places here (flush.ts says why); unknown: all stay.
      const self = doc?.ok
        ? findSelf(doc.value, { configuredName: setup.config.nodeName, localAddresses: setup.config.nodeName === '' ? await host.allAddresses() : [] })
        : undefined;
      const here = self === undefined || !doc?.ok ? undefined : doc.value.configuration.clusters.flatMap((c) => c.nodes).find((n) => n.name === self)?.instanceIds;
      const keepConfigDrives = flags.configDrives ? new Set<string>() : here === undefined ? ('all' as const) : new Set(here);
      const label = addressLabel(setup.config.publicInterface);
      const results = await flushHost(host, {
        isOurs: netdNames(setup.config.prefix).isOurs,
        runDir: setup.runDir,
        publicInterface: setup.config.publicInterface,
        ...(label ? { addressLabel: label } : {}),
        pool,
        configDriveDir: setup.configDriveDir ?? paths.configDrives(ctx.env),
        keepConfigDrives,
        now: () => Date.now(),
        wait: (ms) => new Promise((r) => setTimeout(r, ms)),
      });
      if (results.length === 0) ctx.out('nothing to flush');
      for (const r of results) ctx.out(`${r.description} (${r.ms} ms)`);
      // The node must show as flushed, not converged, until netd applies again.
      const files = statusFiles(setup.runDir);
      const previous = await readStatus(fileIo(), files);
      if (previous) await writeStatus(fileIo(), files, flushedStatus(previous, { node: setup.config.nodeName, now: Date.now() }));
    });

  netd
    .command('events')
    .description('recent syncs: trigger, version, each step and its duration, result')
    .option('--config <file>', 'netd configuration (KEY="value")')
    .option('--json', 'one JSON object per line')
    .option('--limit <n>', 'show the last N syncs', '20')
    .action(async (flags: { config?: string; json?: boolean; limit: string }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliExit(2, 'error: --limit must be a positive integer');
      const setup = await setupOrDefault(flags.config, ctx.env);
      const events = (await readEvents(fileIo(), statusFiles(setup.runDir).events)).slice(-limit);
      if (events.length === 0) ctx.out('no syncs recorded');
      for (const e of events) ctx.out(flags.json ? JSON.stringify(e) : formatEvent(e));
    });

  netd
    .command('status')
    .description('the status netd last wrote (what the node controller reports)')
    .option('--config <file>', 'netd configuration (KEY="value")')
    .action(async (flags: { config?: string }) => {
      const setup = await setupOrDefault(flags.config, ctx.env);
      const status = await readStatus(fileIo(), statusFiles(setup.runDir));
      if (!status) throw new CliExit(1, `error: no status in ${setup.runDir}`);
      ctx.out(JSON.stringify(status, null, 2));
      if (status.result !== 'ok') ctx.setExitCode(1);
    });

  registerNetdPlan(netd, ctx, { diff });
  registerNetdAdopt(netd, ctx);
}
