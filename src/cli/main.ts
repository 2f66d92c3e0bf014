/**
 * The `edgenet` command line. Thin: it parses arguments with commander and calls
 * the programs' libraries. Each command group lives in src/cli/commands/ and
 * registers itself here.
 *
 * Exit codes: 0 success, 1 failure (invalid input, failed request), 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.ts';
import { CliExit } from './context.ts';
import { EdgenetError, UserError, errorMessage } from '../shared/errors.ts';
import { registerProperty } from './commands/property.ts';
import { registerClc } from './commands/clc.ts';
import { registerCloudState } from './commands/cloud-state.ts';
import { registerGni } from './commands/gni.ts';
import { registerPipeline } from './commands/pipeline.ts';
import { registerNetd } from './commands/netd.ts';
import { registerLab } from './commands/lab.ts';

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<number> {
  let exitCode = 0;
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener('abort', abort, { once: true });
  const ctx: CliContext = {
    env,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    signal: signal ?? controller.signal,
    setExitCode: (code) => {
      exitCode = code;
    },
  };

  const program = new Command('edgenet')
    .description('EDGE-mode networking control plane: cloud controller, cluster and node controllers, node daemon')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  for (const register of [registerProperty, registerClc, registerCloudState, registerGni, registerPipeline, registerNetd, registerLab]) {
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
      return 2;
    }
    if (err instanceof CliExit) {
      if (err.message) ctx.err(err.message);
      return err.exitCode;
    }
    if (err instanceof UserError) {
      ctx.err(`error: ${err.code}: ${err.message}`);
      return 1;
    }
    if (err instanceof EdgenetError) {
      ctx.err(`error: ${err.code}: ${err.message}`);
      return 1;
    }
    ctx.err(`error: ${errorMessage(err)}`);
    return 1;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
