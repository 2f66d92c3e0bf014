/**
 * netd's entry point: `main(argv, env, signal)` (style.md 15). Reads the
 * KEY="value" configuration, wires the real seams (Exec, Files, system
 * clock, logger), starts the metrics endpoint and the daemon, and runs until
 * `signal` aborts (SIGTERM/SIGINT in the CLI). It never flushes on exit: the
 * host keeps its state and dhcpd keeps serving until the next netd.
 *
 * argv: `--config FILE` (default <conf dir>/netd.conf), `--once` (one full
 * sync, then exit 0 if it applied, 1 otherwise).
 */
import * as path from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createExec } from '../shared/exec.ts';
import { createFiles } from '../shared/files.ts';
import { systemClock } from '../shared/clock.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { formatDiagnostic } from '../shared/diagnostics.ts';
import { errorMessage } from '../shared/errors.ts';
import { paths, runDir as defaultRunDir } from '../shared/paths.ts';
import { parseNetdConfig, type NetdConfig } from './config.ts';
import { createLinuxHost } from './apply/linux-host.ts';
import type { HostOps } from './apply/host.ts';
import { NetdDaemon } from './daemon.ts';
import { NetdMetrics, serveMetrics } from './metrics.ts';

export interface NetdSetup {
  readonly config: NetdConfig;
  readonly runDir: string;
  readonly gniFile: string;
}

/** Reads and validates the config file; throws with every diagnostic on error. */
export async function loadNetdSetup(configFile: string, env: NodeJS.ProcessEnv): Promise<NetdSetup> {
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (err) {
    throw new Error(`cannot read netd config ${configFile}: ${errorMessage(err)}`);
  }
  const parsed = parseNetdConfig(text);
  if (!parsed.ok) throw new Error(`invalid netd config ${configFile}:\n${parsed.diagnostics.map(formatDiagnostic).join('\n')}`);
  const config = parsed.value;
  const runDir = config.runDir || defaultRunDir(env);
  const gniFile = config.gniFile || path.join(runDir, 'global_network_info.xml');
  return { config, runDir, gniFile };
}

export function realHost(): HostOps {
  return createLinuxHost({ exec: createExec(), files: createFiles() });
}

const realWait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal: AbortSignal, log?: Logger): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string' }, once: { type: 'boolean' } }, strict: true });
  const logger = log ?? createLogger({ component: 'netd' }, env);
  let setup: NetdSetup;
  try {
    setup = await loadNetdSetup(values.config ?? paths.netdConf(env), env);
  } catch (err) {
    logger.error(errorMessage(err));
    return 1;
  }
  const host = realHost();
  const metrics = new NetdMetrics();
  let applied = false;
  let firstSync: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => {
    firstSync = resolve;
  });
  const daemon = new NetdDaemon({
    host,
    config: setup.config,
    runDir: setup.runDir,
    gniFile: setup.gniFile,
    clock: systemClock,
    logger,
    metrics,
    wait: realWait,
    dhcpdStartCheckMs: 300,
    onSync: (o) => {
      if (o.result === 'ok') applied = true;
      firstSync();
    },
  });

  if (values.once) {
    await daemon.start();
    await synced;
    await daemon.stop();
    return applied ? 0 : 1;
  }

  let server: { port: number; close: () => Promise<void> } | undefined;
  try {
    server = await serveMetrics(metrics, setup.config.metricsListen, () => daemon.healthy);
    logger.info('metrics endpoint listening', { port: server.port });
  } catch (err) {
    // A busy port must not keep the node from being configured.
    logger.warn('metrics endpoint not started', { error: errorMessage(err) });
  }
  await daemon.start();
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await daemon.stop();
  await server?.close();
  return 0;
}
