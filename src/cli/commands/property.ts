/**
 * `edgenet property`: cloud properties on a running cloud controller
 * (`set NAME=VALUE | NAME=@FILE` as euctl, `get`, `list`, `history`, `reset`),
 * plus the offline `validate`/`explode` commands of property-offline.ts.
 *
 * A rejected `set` prints one `path: code: message` line per diagnostic on
 * stderr and exits 1; nothing was changed on the server.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliExit, type CliContext } from '../context.ts';
import { addApiOptions, apiClient, type ApiOptions } from '../api-client.ts';
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

type JsonOpts = ApiOptions & { json?: boolean };

const enc = encodeURIComponent;

function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}

function shown(value: string | undefined): string {
  return value === undefined ? '(unset)' : value;
}

/** Splits NAME=VALUE; VALUE `@FILE` reads the file (euctl convention). */
export async function parseAssignment(text: string): Promise<{ name: string; value: string }> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliExit(2, `error: expected NAME=VALUE or NAME=@FILE, got ${JSON.stringify(text)}`);
  const name = text.slice(0, eq);
  let value = text.slice(eq + 1);
  if (value.startsWith('@')) {
    const file = value.slice(1);
    try {
      value = await readFile(file, 'utf8');
    } catch (err) {
      throw new CliExit(2, `error: cannot read ${file}: ${errorMessage(err)}`);
    }
  }
  return { name, value };
}

function printRejection(ctx: CliContext, err: UserError): never {
  const diagnostics = (err.details?.diagnostics ?? []) as Diagnostic[];
  if (diagnostics.length === 0) ctx.err(`error: ${err.code}: ${err.message}`);
  for (const d of diagnostics) ctx.err(formatDiagnostic(d));
  throw new CliExit(1, diagnostics.length > 0 ? `error: ${err.code}: ${diagnostics.length} problem(s), nothing changed` : '');
}

export function registerProperty(program: Command, ctx: CliContext): void {
  const property = program.command('property').description('cloud properties: set/get/list/history on a running cloud controller; validate/explode offline');

  addApiOptions(
    property
      .command('set')
      .description('set properties: NAME=VALUE, or NAME=@FILE to read the value from a file (as euctl)')
      .argument('<assignments...>', 'NAME=VALUE or NAME=@FILE')
      .option('--json', 'print the results as JSON'),
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
        if (err instanceof UserError && err.code === 'InvalidProperty') {
          if (opts.json) {
            printJson(ctx, { ok: false, name, error: { code: err.code, message: err.message }, diagnostics: err.details?.diagnostics ?? [] });
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

  addApiOptions(property.command('get').description('show a property value').argument('<name>').option('--json', 'print as JSON')).action(async (name: string, opts: JsonOpts) => {
    const view = await apiClient(ctx, opts).request<PropertyView>('GET', `/v1/properties/${enc(name)}`);
    if (opts.json) printJson(ctx, view);
    else ctx.out(shown(view.value));
  });

  addApiOptions(property.command('list').description('list every property with its value').option('--json', 'print as JSON')).action(async (opts: JsonOpts) => {
    const { properties } = await apiClient(ctx, opts).request<{ properties: PropertyView[] }>('GET', '/v1/properties');
    if (opts.json) return printJson(ctx, properties);
    for (const p of properties) {
      let v = shown(p.value).replace(/\s*\n\s*/g, ' ');
      if (v.length > 100) v = `${v.slice(0, 97)}...`;
      ctx.out(`${p.name} = ${v}${p.isDefault ? '  (default)' : ''}`);
    }
  });

  addApiOptions(property.command('history').description('show when a property changed, from what, to what').argument('<name>').option('--json', 'print as JSON')).action(
    async (name: string, opts: JsonOpts) => {
      const { history } = await apiClient(ctx, opts).request<{ history: HistoryEntry[] }>('GET', `/v1/properties/${enc(name)}/history`);
      if (opts.json) return printJson(ctx, history);
      if (history.length === 0) ctx.out(`${name}: never changed`);
      const short = (v: string | undefined) => {
        const s = shown(v).replace(/\s*\n\s*/g, ' ');
        return s.length > 60 ? `${s.slice(0, 57)}...` : s;
      };
      for (const h of history) ctx.out(`${h.at}  ${short(h.oldValue)} -> ${short(h.newValue)}`);
    },
  );

  addApiOptions(property.command('reset').description('reset a property to its default (recorded in its history)').argument('<name>').option('--json', 'print as JSON')).action(
    async (name: string, opts: JsonOpts) => {
      try {
        const result = await apiClient(ctx, opts).request<{ property: PropertyView; changed: boolean }>('DELETE', `/v1/properties/${enc(name)}`);
        if (opts.json) printJson(ctx, result);
        else ctx.out(`${name} = ${shown(result.property.value)} (default)`);
      } catch (err) {
        if (err instanceof UserError && err.code === 'InvalidProperty') printRejection(ctx, err);
        throw err;
      }
    },
  );

  registerPropertyOffline(property, ctx);
}
