/**
 * `edgenet property`: cloud properties on a running cloud controller
 * (`set NAME=VALUE | NAME=@FILE` as euctl, `get`, `list`, `history`, `reset`),
 * plus the offline `validate`/`explode` commands of property-offline.ts.
 *
 * A rejected `set` prints one `path: code: message` line per diagnostic on
 * stderr and exits 1; nothing was changed on the server. With `--json` it
 * prints `{"ok": false, "name", "error": {code, message, details:
 * {diagnostics}}, "diagnostics"}` on stdout instead (the common error object
 * plus the diagnostics at the top level). `history` in text form prints each
 * change as `old -> new` when both fit on one short line, else as a unified
 * diff of the values (JSON pretty-printed first).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliExit, usageError, type CliContext } from '../context.ts';
import { addApiOptions, apiClient, type ApiOptions } from '../api-client.ts';
import { addJsonOption, addListOptions, outputFormat, printJson, printList, tsv, type OutputOptions } from '../output.ts';
import { prettyForDiff, unifiedDiff } from '../text-diff.ts';
import { registerPropertyOffline } from './property-offline.ts';
import { UserError, errorMessage } from '../../shared/errors.ts';
import { formatDiagnostic, type Diagnostic } from '../../shared/diagnostics.ts';

interface PropertyView {
  name: string;
  type: string;
  description: string;
  value?: string;
  defaultValue?: string;
  isDefault: boolean;
  updatedAt?: string;
}

interface HistoryEntry {
  at: string;
  oldValue?: string;
  newValue?: string;
}

type JsonOpts = ApiOptions & OutputOptions;

const enc = encodeURIComponent;

function shown(value: string | undefined): string {
  return value === undefined ? '(unset)' : value;
}

/** Splits NAME=VALUE; VALUE `@FILE` reads the file (euctl convention). */
export async function parseAssignment(text: string): Promise<{ name: string; value: string }> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw usageError('INVALID_ASSIGNMENT', `expected NAME=VALUE or NAME=@FILE, got ${JSON.stringify(text)}`);
  const name = text.slice(0, eq);
  let value = text.slice(eq + 1);
  if (value.startsWith('@')) {
    const file = value.slice(1);
    try {
      value = await readFile(file, 'utf8');
    } catch (err) {
      throw usageError('FILE_UNREADABLE', `cannot read ${file}: ${errorMessage(err)}`);
    }
  }
  return { name, value };
}

function printRejection(ctx: CliContext, err: UserError): never {
  const diagnostics = (err.details?.diagnostics ?? []) as Diagnostic[];
  if (diagnostics.length === 0) throw err;
  for (const d of diagnostics) ctx.err(formatDiagnostic(d));
  throw new CliExit(1, `error: ${err.code}: ${diagnostics.length} problem(s), nothing changed`, { code: err.code, details: err.details ?? {} });
}

/** One history entry as text: `at  old -> new`, or a unified diff when either side is long or multi-line. */
export function formatHistoryEntry(h: HistoryEntry): string[] {
  const oneLine = (v: string | undefined) => v === undefined || (!v.includes('\n') && v.length <= 60);
  if (oneLine(h.oldValue) && oneLine(h.newValue)) return [`${h.at}  ${shown(h.oldValue)} -> ${shown(h.newValue)}`];
  const diff = unifiedDiff(prettyForDiff(h.oldValue), prettyForDiff(h.newValue), {
    oldLabel: h.oldValue === undefined ? '(unset)' : 'old',
    newLabel: h.newValue === undefined ? '(unset)' : 'new',
  });
  // Equal once pretty-printed: only the formatting changed.
  if (diff.length === 0) return [`${h.at}  (reformatted, same value)`];
  return [`${h.at}`, ...diff.map((l) => `  ${l}`)];
}

export function registerProperty(program: Command, ctx: CliContext): void {
  const property = program.command('property').description('cloud properties: set/get/list/history on a running cloud controller; validate/explode offline');

  addJsonOption(
    addApiOptions(
      property
        .command('set')
        .description('set properties: NAME=VALUE, or NAME=@FILE to read the value from a file (as euctl)')
        .argument('<assignments...>', 'NAME=VALUE or NAME=@FILE'),
    ),
  ).action(async (assignments: string[], opts: JsonOpts) => {
    const api = apiClient(ctx, opts);
    const parsed = [];
    for (const a of assignments) parsed.push(await parseAssignment(a));
    const results: unknown[] = [];
    for (const { name, value } of parsed) {
      let result: { property: PropertyView; changed: boolean; outsidePools?: { ip: string; pool: string; state: string; holder?: string }[] };
      try {
        result = await api.request('PUT', `/v1/properties/${enc(name)}`, { value });
      } catch (err) {
        if (err instanceof UserError && err.code === 'INVALID_PROPERTY') {
          if (opts.json) {
            const diagnostics = err.details?.diagnostics ?? [];
            printJson(ctx, { ok: false, name, error: { code: err.code, message: err.message, details: { property: name, diagnostics } }, diagnostics });
            throw new CliExit(1);
          }
          printRejection(ctx, err);
        }
        throw err;
      }
      results.push(result);
      if (!opts.json) {
        const v = shown(result.property.value);
        ctx.out(v.includes('\n') ? `${name} =\n${v}` : `${name} = ${v}${result.changed ? '' : ' (unchanged)'}`);
        for (const o of result.outsidePools ?? []) {
          ctx.err(`warning: ${o.ip} (${o.state}${o.holder ? ` by ${o.holder}` : ''}) is no longer inside pool ${o.pool}; it stays allocated`);
        }
      }
    }
    if (opts.json) printJson(ctx, results.length === 1 ? results[0] : results);
  });

  addJsonOption(addApiOptions(property.command('get').description('show a property value').argument('<name>'))).action(async (name: string, opts: JsonOpts) => {
    const view = await apiClient(ctx, opts).request<PropertyView>('GET', `/v1/properties/${enc(name)}`);
    if (opts.json) printJson(ctx, view);
    else ctx.out(shown(view.value));
  });

  addListOptions(addApiOptions(property.command('list').description('list every property with its value'))).action(async (opts: JsonOpts) => {
    const format = outputFormat(opts);
    const { properties } = await apiClient(ctx, opts).request<{ properties: PropertyView[] }>('GET', '/v1/properties');
    printList(ctx, format, {
      json: properties,
      header: ['PROPERTY', 'VALUE', 'DEFAULT'],
      rows: properties.map((p) => {
        // The table shortens long values to one line; tsv keeps them whole (escaped).
        let v = shown(p.value);
        if (format === 'table') {
          v = v.replace(/\s*\n\s*/g, ' ');
          if (v.length > 100) v = `${v.slice(0, 97)}...`;
        }
        return [p.name, v, p.isDefault ? 'default' : '-'];
      }),
      empty: 'no properties',
    });
  });

  addListOptions(addApiOptions(property.command('history').description('show when a property changed, from what, to what (long values as a unified diff)').argument('<name>'))).action(
    async (name: string, opts: JsonOpts) => {
      const format = outputFormat(opts);
      const { history } = await apiClient(ctx, opts).request<{ history: HistoryEntry[] }>('GET', `/v1/properties/${enc(name)}/history`);
      if (format === 'json') return printJson(ctx, history);
      if (format === 'tsv') {
        if (history.length > 0) ctx.out(tsv(history.map((h) => [h.at, shown(h.oldValue), shown(h.newValue)])));
        return;
      }
      if (history.length === 0) ctx.out(`${name}: never changed`);
      for (const h of history) for (const line of formatHistoryEntry(h)) ctx.out(line);
    },
  );

  addJsonOption(addApiOptions(property.command('reset').description('reset a property to its default (recorded in its history)').argument('<name>'))).action(
    async (name: string, opts: JsonOpts) => {
      try {
        const result = await apiClient(ctx, opts).request<{ property: PropertyView; changed: boolean }>('DELETE', `/v1/properties/${enc(name)}`);
        if (opts.json) printJson(ctx, result);
        else ctx.out(`${name} = ${shown(result.property.value)} (default)`);
      } catch (err) {
        if (!opts.json && err instanceof UserError && err.code === 'INVALID_PROPERTY') printRejection(ctx, err);
        throw err;
      }
    },
  );

  registerPropertyOffline(property, ctx);
}
