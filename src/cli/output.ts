/**
 * How commands print results, the same way in every command group:
 *   - `--json`: one JSON value on stdout (pretty-printed);
 *   - list commands also take `--output table|tsv|json` (`--json` = `--output json`):
 *     `table` (default) is aligned columns with a header line, `tsv` the same
 *     columns tab-separated without a header, one row per line, with `\`, tab
 *     and newline inside a cell written as `\\`, `\t` and `\n`.
 * Errors under `--json` are rendered by main.ts (see context.ts).
 */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import { usageError } from './context.ts';

export type OutputFormat = 'table' | 'tsv' | 'json';
const FORMATS: readonly OutputFormat[] = ['table', 'tsv', 'json'];

export interface OutputOptions {
  json?: boolean;
  output?: string;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}

/** `--json` for a command that prints one result. */
export function addJsonOption(cmd: Command, what = 'print the result as JSON (errors too)'): Command {
  return cmd.option('--json', what);
}

/** `--output` and `--json` for a list command. */
export function addListOptions(cmd: Command): Command {
  return cmd.option('--output <FORMAT>', 'table (default), tsv (no header) or json').option('--json', 'same as --output json (errors too)');
}

export function outputFormat(opts: OutputOptions): OutputFormat {
  if (opts.output !== undefined && !FORMATS.includes(opts.output as OutputFormat)) {
    throw usageError('INVALID_OUTPUT_FORMAT', `--output must be table, tsv or json, not ${JSON.stringify(opts.output)}`);
  }
  if (opts.json && opts.output !== undefined && opts.output !== 'json') {
    throw usageError('INVALID_OUTPUT_FORMAT', `--json contradicts --output ${opts.output}`);
  }
  return opts.json ? 'json' : ((opts.output as OutputFormat | undefined) ?? 'table');
}

/** Left-aligned columns; header first. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

function tsvCell(cell: string): string {
  return cell.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\r?\n/g, '\\n');
}

export function tsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(tsvCell).join('\t')).join('\n');
}

export interface ListOutput {
  /** What `--output json` prints (the API's list, as it answered). */
  readonly json: unknown;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Printed instead of an empty table (tsv prints nothing, json an empty list). */
  readonly empty: string;
}

export function printList(ctx: CliContext, format: OutputFormat, list: ListOutput): void {
  switch (format) {
    case 'json':
      return printJson(ctx, list.json);
    case 'tsv':
      if (list.rows.length > 0) ctx.out(tsv(list.rows));
      return;
    case 'table':
      ctx.out(list.rows.length === 0 ? list.empty : table([list.header, ...list.rows]));
      return;
  }
}

/** Names the JSON mode from the raw arguments, before commander parsed them (usage errors need it). */
export function jsonRequested(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return false;
    if (a === '--json' || a === '--output=json') return true;
    if (a === '--output' && argv[i + 1] === 'json') return true;
  }
  return false;
}
