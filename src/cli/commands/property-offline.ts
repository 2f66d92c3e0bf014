/**
 * `edgenet property validate FILE` and `edgenet property explode FILE`: the
 * commands that work on a network_configuration document without a cloud
 * controller. The `property` command group itself (set/get/list/history
 * against a running CLC) lives in property.ts, which calls this registrar.
 *
 * Exit codes: 0 valid, 1 invalid, 2 usage error (unreadable FILE, bad option).
 * FILE `-` reads standard input. Diagnostics are results: `validate` prints
 * them to stdout, one `path: code: message` line each plus a summary line, or
 * `{"ok", "diagnostics"}` with --json (an invalid document is validate's
 * answer, not an error). `explode` prints the exploded document as pretty JSON
 * on stdout; on invalid input it prints the diagnostics (to stderr, or with
 * --json `{"ok": false, "error": {code: "InvalidConfiguration", message},
 * "diagnostics"}` on stdout) and exits 1. Usage errors under --json are `{"error": {code, message}}` on stdout.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import type { Diagnostic } from '../../shared/diagnostics.ts';
import { formatDiagnostic } from '../../shared/diagnostics.ts';
import { errorMessage } from '../../shared/errors.ts';
import { validateNetworkConfiguration } from '../../cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode, splitList } from '../../cloud-controller/config/explode.ts';
import type { ExplodeInputs } from '../../cloud-controller/config/types.ts';
import { isIp } from '../../shared/ip.ts';
import { jsonError } from '../render-error.ts';

export interface PropertyOfflineDeps {
  /** Reads standard input for FILE `-` (tests pass their own). */
  readonly readStdin?: () => Promise<string>;
}

export function registerPropertyOffline(property: Command, ctx: CliContext, deps: PropertyOfflineDeps = {}): void {
  const readStdin = deps.readStdin ?? (() => readStream(process.stdin));

  property
    .command('validate')
    .description('check a network_configuration document offline (exit 0 valid, 1 invalid, 2 usage error)')
    .argument('<file>', 'JSON document, or - for standard input')
    .option('--json', 'print {"ok": bool, "diagnostics": [...]}')
    .action(async (file: string, opts: { json?: boolean }) => {
      const text = await readDocument(file, readStdin, ctx, opts.json === true);
      if (text === undefined) return;
      const result = validateNetworkConfiguration(text);
      if (opts.json) ctx.out(JSON.stringify({ ok: result.ok, diagnostics: result.diagnostics }, null, 2));
      else {
        for (const d of result.diagnostics) ctx.out(formatLine(d));
        ctx.out(summary(file, result.ok, result.diagnostics));
      }
      ctx.setExitCode(result.ok ? 0 : 1);
    });

  property
    .command('explode')
    .description('show a network_configuration document with every default filled in (offline)')
    .argument('<file>', 'JSON document, or - for standard input')
    .option('--json', 'on invalid input, print {"ok": false, "diagnostics": [...]} on stdout')
    .option('--mac-prefix <prefix>', `cloud.vmstate.mac_prefix (default ${DEFAULT_EXPLODE_INPUTS.macPrefix})`)
    .option('--instance-subdomain <subdomain>', `cloud.vmstate.instance_subdomain (default ${DEFAULT_EXPLODE_INPUTS.instanceSubdomain})`)
    .option('--nameservers <list>', 'system.dns.nameserveraddress, comma-separated')
    .option('--clusters <list>', 'registered clusters, comma-separated (unlisted ones get default entries)')
    .action(async (file: string, opts: ExplodeOptions) => {
      const inputs = explodeInputs(opts, ctx);
      if (inputs === undefined) return;
      const text = await readDocument(file, readStdin, ctx, opts.json === true);
      if (text === undefined) return;
      const result = validateNetworkConfiguration(text);
      if (!result.ok) {
        if (opts.json) ctx.out(JSON.stringify({ ok: false, ...invalidError(file, result.diagnostics), diagnostics: result.diagnostics }, null, 2));
        else {
          for (const d of result.diagnostics) ctx.err(formatLine(d));
          ctx.err(summary(file, false, result.diagnostics));
        }
        ctx.setExitCode(1);
        return;
      }
      for (const d of result.diagnostics) ctx.err(formatLine(d));
      ctx.out(JSON.stringify(explode(result.value, inputs), null, 2));
      ctx.setExitCode(0);
    });
}

interface ExplodeOptions {
  readonly json?: boolean;
  readonly macPrefix?: string;
  readonly instanceSubdomain?: string;
  readonly nameservers?: string;
  readonly clusters?: string;
}

/** Options → ExplodeInputs; a bad option is a usage error (exit 2). */
function explodeInputs(opts: ExplodeOptions, ctx: CliContext): ExplodeInputs | undefined {
  const usage = (message: string) => {
    if (opts.json) ctx.out(JSON.stringify(jsonError('USAGE_ERROR', message)));
    else ctx.err(`error: ${message}`);
    ctx.setExitCode(2);
    return undefined;
  };
  if (opts.macPrefix !== undefined && !/^[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}$/.test(opts.macPrefix)) {
    return usage(`--mac-prefix ${JSON.stringify(opts.macPrefix)}: expected two hexadecimal bytes such as d0:0d`);
  }
  const nameservers = opts.nameservers === undefined ? [...DEFAULT_EXPLODE_INPUTS.nameservers] : splitList(opts.nameservers);
  const bad = nameservers.find((n) => !isIp(n));
  if (bad !== undefined) return usage(`--nameservers: ${JSON.stringify(bad)} is not an IPv4 address`);
  return {
    macPrefix: opts.macPrefix ?? DEFAULT_EXPLODE_INPUTS.macPrefix,
    instanceSubdomain: opts.instanceSubdomain ?? DEFAULT_EXPLODE_INPUTS.instanceSubdomain,
    nameservers,
    ...(opts.clusters === undefined ? {} : { registeredClusters: splitList(opts.clusters) }),
  };
}

/** The document's text, or undefined after reporting a usage error (exit 2). */
async function readDocument(file: string, readStdin: () => Promise<string>, ctx: CliContext, json: boolean): Promise<string | undefined> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    const message = `cannot read ${file === '-' ? 'standard input' : file}: ${errorMessage(err)}`;
    if (json) ctx.out(JSON.stringify(jsonError('FILE_UNREADABLE', message)));
    else ctx.err(`error: ${message}`);
    ctx.setExitCode(2);
    return undefined;
  }
}

function invalidError(file: string, diagnostics: readonly Diagnostic[]): { error: { code: string; message: string } } {
  return { error: { code: 'INVALID_CONFIGURATION', message: summary(file, false, diagnostics) } };
}

function formatLine(d: Diagnostic): string {
  return d.severity === 'warning' ? `${formatDiagnostic(d)} (warning)` : formatDiagnostic(d);
}

function summary(file: string, ok: boolean, diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const counts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return `${file === '-' ? '(stdin)' : file}: ${ok ? 'valid' : 'invalid'} (${counts})`;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
