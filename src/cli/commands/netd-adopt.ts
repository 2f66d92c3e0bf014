/**
 * `edgenet netd adopt [--config FILE] [--eucalyptus-conf FILE] [--dry-run]
 * [--discard-user-rules] [--json]`: takes this node over from eucanetd (root).
 * Thin: src/netd/adopt.ts does the work; this reads the two configuration
 * files and prints the report. Exit 0 when the node is netd's and a sync
 * afterwards found nothing left to do (or, with --dry-run, adopt would go
 * ahead), 1 when it refused or failed (nothing changed on a refusal), 2 for
 * bad configuration.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { CliContext } from '../context.ts';
import { CliExit } from '../context.ts';
import { EdgenetError, errorMessage } from '../../shared/errors.ts';
import { paths } from '../../shared/paths.ts';
import { parseConfText } from '../../shared/config/conf-file.ts';
import { loadNetdSetup, realHost } from '../../netd/main.ts';
import { adoptNode, type AdoptReport } from '../../netd/adopt.ts';

/** eucalyptus.conf's default place (EUCALYPTUS=/ installs). */
const DEFAULT_EUCALYPTUS_CONF = '/etc/eucalyptus/eucalyptus.conf';

interface AdoptFlags {
  config?: string;
  eucalyptusConf: string;
  dryRun?: boolean;
  discardUserRules?: boolean;
  json?: boolean;
}

/** EUCALYPTUS from eucalyptus.conf; a missing file means the default install root `/`. */
async function eucalyptusRoot(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return '/';
  return parseConfText(text, file).entries.get('EUCALYPTUS')?.value || '/';
}

function toJson(r: AdoptReport): unknown {
  const tables = (m: AdoptReport['footprint']['iptables']) => Object.fromEntries([...m].map(([t, v]) => [t, { chains: v.chains, hooks: v.hooks.length }]));
  const f = r.footprint;
  return {
    eucanetd: {
      iptables: tables(f.iptables),
      ebtables: tables(f.ebtables),
      ipsets: f.ipsets,
      publicAddresses: f.publicAddresses,
      userRules: f.userRules,
      dhcpd: f.dhcpd ?? null,
      running: f.eucanetd ?? null,
    },
    steps: r.steps,
    notes: r.notes,
    ...(r.refusal ? { refusal: r.refusal } : {}),
    ...(r.applied ? { applied: r.applied } : {}),
    ...(r.sync ? { sync: r.sync } : {}),
  };
}

function text(r: AdoptReport, dryRun: boolean): string[] {
  const f = r.footprint;
  const out = ['eucanetd on this node:'];
  for (const [tool, m] of [['iptables', f.iptables], ['ebtables', f.ebtables]] as const) {
    for (const [t, v] of m) out.push(`  ${tool} ${t}: ${v.chains.join(' ') || '(no chains)'}${v.hooks.length ? ` (${v.hooks.length} hook(s))` : ''}`);
  }
  out.push(`  ipsets: ${f.ipsets.join(' ') || 'none'}`);
  out.push(`  public addresses: ${f.publicAddresses.join(' ') || 'none'}`);
  out.push(`  dhcpd: ${f.dhcpd ? `pid ${f.dhcpd.pid} (${f.dhcpd.argv.join(' ')})` : 'not running'}`);
  if (f.eucanetd) out.push(`  eucanetd: RUNNING (pid ${f.eucanetd.pid})`);
  for (const u of f.userRules) out.push(`  admin rule: ${u}`);
  out.push(dryRun ? `adopt would run ${r.steps.length} step(s):` : `ran ${r.applied?.length ?? 0} step(s):`);
  if (r.applied) for (const s of r.applied) out.push(`  ${s.description} (${s.ms} ms)`);
  else for (const s of r.steps) out.push(`  ${s}`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  if (r.refusal) out.push(`adopt would refuse: ${r.refusal.code}: ${r.refusal.message}`);
  if (r.sync) out.push(`sync afterwards: ${r.sync.result}, ${r.sync.writes} write(s)${r.sync.error ? `: ${r.sync.error}` : ''}`);
  return out;
}

export function registerNetdAdopt(netd: Command, ctx: CliContext): void {
  netd
    .command('adopt')
    .description("take this node over from eucanetd: lay down netd's state and remove eucanetd's chains, ipsets, NAT and ebtables rules, public /32s and dhcpd, one transaction per table (stop eucanetd first)")
    .option('--config <file>', 'netd configuration (KEY="value"; default the usual netd.conf)')
    .option('--eucalyptus-conf <file>', "eucalyptus.conf, for EUCALYPTUS (where eucanetd's pid files are)", DEFAULT_EUCALYPTUS_CONF)
    .option('--dry-run', 'print what eucanetd left and every step adopt would run; change nothing')
    .option('--discard-user-rules', "also delete admin rules found in eucanetd's *_PREUSERHOOK/*_POSTUSERHOOK chains")
    .option('--json', 'JSON output')
    .action(async (flags: AdoptFlags) => {
      const configFile = flags.config ?? paths.netdConf(ctx.env);
      let setup;
      try {
        setup = await loadNetdSetup(configFile, ctx.env);
      } catch (err) {
        throw new CliExit(2, `error: ${errorMessage(err)}`);
      }
      let report: AdoptReport;
      try {
        report = await adoptNode(
          {
            host: realHost(),
            config: setup.config,
            runDir: setup.runDir,
            gniFile: setup.gniFile,
            eucalyptusRoot: await eucalyptusRoot(path.resolve(flags.eucalyptusConf)),
            now: () => Date.now(),
            wait: (ms) => new Promise((r) => setTimeout(r, ms)),
            startCheckMs: 300,
          },
          { dryRun: flags.dryRun === true, discardUserRules: flags.discardUserRules === true },
        );
      } catch (err) {
        if (err instanceof EdgenetError) throw new CliExit(1, `error: ${err.code}: ${err.message}`, { code: err.code });
        throw err;
      }
      if (flags.json) ctx.out(JSON.stringify(toJson(report), null, 2));
      else for (const l of text(report, flags.dryRun === true)) ctx.out(l);
      // Exit 1: a dry run that would be refused, or a switch after which the sync still had work.
      if (report.refusal !== undefined || (report.sync !== undefined && (report.sync.result !== 'ok' || report.sync.writes > 0))) ctx.setExitCode(1);
    });
}
