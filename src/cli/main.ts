/**
 * The `edgenet` command line. Thin: it parses arguments with commander and calls
 * the programs' libraries. Each command group lives in src/cli/commands/ and
 * registers itself here.
 *
 * Exit codes: 0 success, 1 failure (invalid input, failed request), 2 usage error.
 * Errors: `error: CODE: message` on stderr; with `--json` (or `--output json`)
 * anywhere on the command line, one object `{"error": {"code", "message",
 * "details"?}}` on stdout instead, same exit code (render-error.ts).
 * A closed stdout (`edgenet … | head`) ends the command quietly (epipe.ts).
 */
import { Command, CommanderError } from 'commander';
import type { CliContext, Registrar, RunCli } from './context.ts';
import { registerProperty } from './commands/property.ts';
import { registerClc } from './commands/clc.ts';
import { registerClcBackup } from './commands/clc-backup.ts';
import { registerCloudState } from './commands/cloud-state.ts';
import { registerAccount } from './commands/account.ts';
import { registerGni } from './commands/gni.ts';
import { registerPipeline } from './commands/pipeline.ts';
import { registerNetd } from './commands/netd.ts';
import { registerLab } from './commands/lab.ts';
import { registerImport } from './commands/import.ts';
import { jsonRequested } from './output.ts';
import { renderError, usageFromCommander } from './render-error.ts';
import { guardClosedStream } from './epipe.ts';

/** Where output goes; tests pass their own streams. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal, io: CliIo = process): Promise<number> {
  let exitCode = 0;
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener('abort', abort, { once: true });
  if (signal?.aborted) controller.abort();
  // A reader that went away (head, a closed terminal): stop writing and let the command wind down.
  const stdout = guardClosedStream(io.stdout, abort);
  const stderr = guardClosedStream(io.stderr, () => {});
  const json = jsonRequested(argv);
  const ctx: CliContext = {
    env,
    out: (text) => stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    signal: controller.signal,
    setExitCode: (code) => {
      exitCode = code;
    },
  };

  let usageText = '';
  const program = new Command('edgenet')
    .description('EDGE-mode networking control plane: cloud controller, cluster and node controllers, node daemon')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      // Under --json commander's own usage text is kept for the JSON error instead of printed.
      writeErr: (s) => (json ? (usageText += s) : stderr.write(s)),
    });

  // `lab exec` and the demo run edgenet commands; they get main from here (main imports them).
  const runCli: RunCli = (args, runEnv) => main(args, runEnv, controller.signal, io);
  const registerLabCommands: Registrar = (p, c) => registerLab(p, c, runCli);
  for (const register of [registerProperty, registerClc, registerClcBackup, registerCloudState, registerAccount, registerGni, registerPipeline, registerNetd, registerImport, registerLabCommands]) {
    register(program, ctx);
  }
  // Every subcommand inherits exit-override so usage errors come back as exceptions.
  const propagate = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(propagate);
  };
  propagate(program);

  try {
    await program.parseAsync(['node', 'edgenet', ...argv]);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit with code 0; everything else commander reports is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (json) ctx.out(JSON.stringify(usageFromCommander(err, usageText)));
      return 2;
    }
    const r = renderError(err, json);
    for (const line of r.stderr) ctx.err(line);
    if (r.stdout !== undefined) ctx.out(r.stdout);
    return r.exitCode;
  } finally {
    signal?.removeEventListener('abort', abort);
    stdout.dispose();
    stderr.dispose();
  }
}
