/**
 * `edgenet gni …`: look at global network info documents.
 *   gni show [--json] [--url U --token T]   the document the CLC would broadcast now
 *   gni validate FILE [--json]              offline check of any GNI file (edgenet's
 *                                           or one Eucalyptus 4.x produced); exit 0
 *                                           valid, 1 invalid, 2 usage; --json
 *                                           prints errors as {"error": {code, message}}
 * `show` asks the CLC for the JSON model (`GET /v1/gni?format=json`) and
 * serializes it locally with the shared codec, so the XML printed is exactly
 * what the broadcaster sends, whatever the HTTP layer does with text bodies.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { usageError } from '../context.ts';
import { addApiOptions, apiClient, type ApiOptions } from '../api-client.ts';
import { formatDiagnostic } from '../../shared/diagnostics.ts';
import { parseGni, serializeGni } from '../../shared/gni/codec.ts';
import type { GniDocument } from '../../shared/gni/model.ts';
import { errorMessage } from '../../shared/errors.ts';

export function registerGni(program: Command, ctx: CliContext): void {
  const gni = program.command('gni').description('global network info (GNI) documents: show the current one, validate a file');

  addApiOptions(
    gni
      .command('show')
      .description('print the GNI document the cloud controller would broadcast now')
      .option('--json', 'print the document model as JSON instead of XML'),
  ).action(async (opts: ApiOptions & { json?: boolean }) => {
    const client = apiClient(ctx, opts);
    const doc = await client.request<GniDocument>('GET', '/v1/gni?format=json');
    ctx.out(opts.json === true ? JSON.stringify(doc, null, 2) : serializeGni(doc));
  });

  gni
    .command('validate')
    .description('check a GNI XML file offline (exit 0 valid, 1 invalid)')
    .argument('<file>', 'path of the XML document')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let input: Buffer;
      try {
        input = await readFile(file);
      } catch (err) {
        throw usageError('FILE_UNREADABLE', `cannot read ${file}: ${errorMessage(err)}`);
      }
      const result = parseGni(input);
      if (opts.json === true) {
        const summary = result.ok
          ? { valid: true, version: result.value.version, sequence: result.value.sequence, instances: result.value.instances.length, securityGroups: result.value.securityGroups.length, diagnostics: result.diagnostics }
          : { valid: false, error: { code: 'INVALID_GNI', message: `${file} is not a valid GNI document` }, diagnostics: result.diagnostics };
        ctx.out(JSON.stringify(summary, null, 2));
      } else {
        for (const d of result.diagnostics) (d.severity === 'error' ? ctx.err : ctx.out)(`${d.severity === 'warning' ? 'warning: ' : ''}${formatDiagnostic(d)}`);
        if (result.ok) {
          const v = result.value;
          ctx.out(`valid: version ${v.version}${v.sequence === undefined ? '' : `, sequence ${v.sequence}`}, ${v.configuration.clusters.length} clusters, ${v.instances.length} instances, ${v.securityGroups.length} security groups`);
        }
      }
      if (!result.ok) ctx.setExitCode(1);
    });
}
