/**
 * `edgenet import gni FILE [--property JSON_FILE] [--dry-run] [--json]`:
 * seeds an empty CLC database from a Eucalyptus network-info document
 * (src/cloud-controller/import/). Works on the database file, like
 * `edgenet clc restore`, with the CLC stopped (every CLC, on PostgreSQL): a running CLC would already
 * have broadcast the empty cloud and keeps its state cached. The database is
 * `--db`, else DB from `--config` (clc.conf) or EDGENET_CLC_DB, else the
 * default path — the resolution of `edgenet clc`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliExit, usageError, type CliContext } from '../context.ts';
import { errorMessage } from '../../shared/errors.ts';
import { parseIp } from '../../shared/ip.ts';
import { formatDiagnostic } from '../../shared/diagnostics.ts';
import { parseGni, serializeGni } from '../../shared/gni/codec.ts';
import { resolveClcConfig } from '../../cloud-controller/main.ts';
import { Store } from '../../cloud-controller/db/store.ts';
import { CLI_APPLICATION, requireDatabaseUnused } from '../../cloud-controller/db/in-use.ts';
import { redactLocation } from '../../cloud-controller/db/location.ts';
import { planGniImport } from '../../cloud-controller/import/gni-import-plan.ts';
import { importGni, type ImportResult, type ImportSummary } from '../../cloud-controller/import/import-gni.ts';

interface Flags {
  property?: string;
  dryRun?: boolean;
  json?: boolean;
  db?: string;
  config?: string;
  ccPort?: string;
  ncPort?: string;
  gniOut?: string;
  clcIp?: string;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw usageError('FILE_UNREADABLE', `cannot read ${what} ${file}: ${errorMessage(err)}`);
  }
}

function port(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError('USAGE_ERROR', `${flag} must be a port number (1-65535), got ${JSON.stringify(text)}`);
  return n;
}

function describe(s: ImportSummary, db: string): string {
  const lines = [
    `${s.dryRun ? 'would import' : 'imported'} into ${db}: ${s.clusters} cluster(s), ${s.nodes} node(s), ${s.instances} instance(s), ${s.groups} security group(s) with ${s.rules} rule(s), ${s.addresses} associated public address(es)`,
    `network property: ${s.propertySource === 'file' ? 'from --property' : 'rebuilt from the document'}`,
  ];
  if (s.accounts.length > 0) {
    const shown = s.accounts.slice(0, 10).map((a) => `${a.name} (${a.id})`).join(', ');
    lines.push(`accounts ${s.dryRun ? 'to create' : 'created'} for the document's owners: ${s.accounts.length} (${shown}${s.accounts.length > 10 ? ', ...' : ''})`);
  }
  if (s.notReconstructed.length > 0) lines.push('not reconstructable from a document (check the property):', ...s.notReconstructed.map((x) => `  - ${x}`));
  if (s.clcIp !== undefined) lines.push(`the document's CLC address is ${s.clcIp}: set CLC_IP=${s.clcIp} in clc.conf so the documents the CLC builds name it`);
  if (s.clcIpv6 !== undefined) lines.push(`the document's CLC IPv6 address is ${s.clcIpv6}: set CLC_IPV6=${s.clcIpv6} in clc.conf so the documents the CLC builds name it (metadata over IPv6)`);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  if (s.dryRun) lines.push('dry run: nothing was written');
  return lines.join('\n');
}

export function registerImport(program: Command, ctx: CliContext): void {
  const imp = program.command('import').description("seed the CLC's state from another cloud");
  imp
    .command('gni <FILE>')
    .description('seed an EMPTY CLC database from a Eucalyptus network-info document (clusters, nodes, instances, groups, rules, public addresses, the network property); the CLC must be stopped')
    .option('--property <JSON_FILE>', 'cloud.network.network_configuration as Eucalyptus had it (default: rebuilt from the document)')
    .option('--dry-run', 'check everything and roll back: nothing is written')
    .option('--json', 'print the summary as JSON (errors too)')
    .option('--db <PATH|URL>', 'SQLite file or postgres:// URL (default: DB of --config / EDGENET_CLC_DB / the default path)')
    .option('--config <FILE>', 'clc.conf to read DB from')
    .option('--cc-port <PORT>', 'port of the CC URLs registered for the clusters (default 8774)')
    .option('--nc-port <PORT>', 'port of the NC URLs registered for the nodes (default 8775)')
    .option('--gni-out <FILE>', 'write the document the CLC will build from the imported state (also with --dry-run), to compare with `edgenet netd plan` per node')
    .option('--clc-ip <IP>', "enabledCLCIp of the --gni-out document (default: the imported document's)")
    .addHelpText(
      'after',
      `
The whole import is one database transaction: it is written completely or not
at all (an error or a crash leaves the database empty). Ids (i-xxxxxxxx,
sg-xxxxxxxx), owners, MACs and addresses are kept; each owner id becomes an
account named account-<id> (see \`edgenet account list\`). The document carries no
group names: groups are named imported-<id>. Unassociated public addresses are
not in a document and are not imported. See docs/migration.md.

Example:
  systemctl stop edgenet-clc
  edgenet import gni /var/lib/eucalyptus/global_network_info.xml --property network.json --dry-run --gni-out /tmp/edgenet-gni.xml
  edgenet netd plan --gni /tmp/edgenet-gni.xml --node 10.0.0.21 --no-host   # compare with the same on the Eucalyptus document
  edgenet import gni /var/lib/eucalyptus/global_network_info.xml --property network.json`,
    )
    .action(async (file: string, flags: Flags) => {
      const text = await readText(file, 'GNI document');
      const doc = parseGni(text);
      if (!doc.ok) {
        if (flags.json !== true) for (const d of doc.diagnostics) ctx.err(formatDiagnostic(d));
        throw new CliExit(1, `error: ${file} is not a valid GNI document`, { code: 'INVALID_GNI', details: { diagnostics: doc.diagnostics } });
      }
      const propertyText = flags.property === undefined ? undefined : await readText(flags.property, 'property file');
      if (flags.clcIp !== undefined && parseIp(flags.clcIp) === undefined) throw usageError('USAGE_ERROR', `--clc-ip must be an IPv4 address, got ${JSON.stringify(flags.clcIp)}`);
      const ccPort = port(flags.ccPort, '--cc-port');
      const ncPort = port(flags.ncPort, '--nc-port');
      const plan = planGniImport(doc.value, {
        ...(propertyText !== undefined ? { propertyText } : {}),
        ...(ccPort !== undefined ? { ccPort } : {}),
        ...(ncPort !== undefined ? { ncPort } : {}),
      });
      const db = resolveClcConfig({ db: flags.db, config: flags.config }, ctx.env).config.db;
      await requireDatabaseUnused(db, 'import');
      const store = await Store.open(db, { application: CLI_APPLICATION, listen: false });
      const previewClcIp = flags.gniOut === undefined ? undefined : (flags.clcIp ?? plan.clcIp ?? '127.0.0.1');
      let result: ImportResult;
      try {
        result = await importGni(store, plan, { now: Date.now(), dryRun: flags.dryRun === true, ...(previewClcIp !== undefined ? { previewClcIp } : {}) });
      } finally {
        await store.close();
      }
      const summary = result.summary;
      if (flags.gniOut !== undefined && result.document !== undefined) await writeFile(flags.gniOut, serializeGni(result.document));
      ctx.out(flags.json === true ? JSON.stringify({ database: redactLocation(db), ...summary }, null, 2) : describe(summary, redactLocation(db)));
    });
}
