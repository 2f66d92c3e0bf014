/**
 * The cloud controller process: opens the store, starts the admin API, then
 * starts every plugin of `defaultPlugins()` (GNI routes, broadcaster,
 * metadata service) with a ClcContext; stops them in reverse order, then the
 * API, then the store.
 *
 * `startCloudController` returns a handle (tests and embedding);
 * `runCloudController(options, signal)` runs until the signal aborts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureToken } from './admin-token.ts';
import type { ClcContext, ClcPlugin } from './contracts.ts';
import type { Logger } from '../shared/logger.ts';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { writeFileAtomic } from '../shared/files.ts';
import { Store } from './db/store.ts';
import { PropertyService } from './properties/service.ts';
import { CloudState } from './services/cloud-state.ts';
import { Router } from './api/router.ts';
import { startApiServer } from './api/server.ts';
import { registerCoreRoutes } from './api/routes.ts';
import { createClcContext } from './context.ts';
import { defaultPlugins } from './plugins.ts';

export interface CloudControllerOptions {
  /** SQLite file (`:memory:` for tests). */
  readonly dbPath: string;
  readonly host: string;
  /** 0 picks a free port (see `portFile`). */
  readonly port: number;
  /** Address of the CLC as nodes reach it (GNI enabledCLCIp). */
  readonly clcIp: string;
  /** Admin token file: read if present, created (random, mode 0600) if missing. */
  readonly tokenFile: string;
  /** Written (atomically) with the bound port once the API listens. */
  readonly portFile?: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to defaultPlugins(). */
  readonly plugins?: readonly ClcPlugin[];
  readonly random?: () => number;
  readonly randomHex?: (bytes: number) => string;
}

export interface RunningCloudController {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly context: ClcContext;
  readonly state: CloudState;
  readonly properties: PropertyService;
  readonly store: Store;
  stop(): Promise<void>;
}

/** Interval of the sweep that frees holds past `address_hold_timeout` (also swept before every allocation). */
const HOLD_SWEEP_MS = 30_000;

/** The admin token file's rules (mode, length) live in admin-token.ts. */
export { ensureToken };

export async function startCloudController(options: CloudControllerOptions): Promise<RunningCloudController> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  const token = ensureToken(options.tokenFile, logger);
  const store = Store.open(options.dbPath);
  const properties = new PropertyService(store, clock);
  const state = new CloudState({ store, clock, clcIp: options.clcIp, ...(options.random ? { random: options.random } : {}), ...(options.randomHex ? { randomHex: options.randomHex } : {}) });
  const router = new Router();
  const startedAt = clock.now();
  registerCoreRoutes(router, { properties, state, startedAt, now: () => clock.now() });

  let server;
  try {
    server = await startApiServer({ host: options.host, port: options.port, token, router, logger });
  } catch (err) {
    await store.close();
    throw new EdgenetError('LISTEN_FAILED', `cannot listen on ${options.host}:${options.port}: ${errorMessage(err)}`, { cause: err });
  }
  const hostForUrl = server.host.includes(':') ? `[${server.host}]` : server.host;
  const url = `http://${hostForUrl}:${server.port}`;
  const dataDir = options.dbPath === ':memory:' ? path.dirname(path.resolve(options.tokenFile)) : path.dirname(path.resolve(options.dbPath));
  const context = createClcContext({ logger, clock, env, dataDir, store, properties, state, router });

  const started: ClcPlugin[] = [];
  let sweep: TimerHandle | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (sweep) clock.clearTimeout(sweep);
    for (const plugin of [...started].reverse()) {
      try {
        await plugin.stop();
      } catch (err) {
        logger.error('plugin stop failed', { plugin: plugin.name, error: errorMessage(err) });
      }
    }
    await server.close();
    await store.close();
    logger.info('cloud controller stopped');
  };

  try {
    for (const plugin of options.plugins ?? defaultPlugins()) {
      await plugin.start(context);
      started.push(plugin);
      logger.debug('plugin started', { plugin: plugin.name });
    }
  } catch (err) {
    logger.error('plugin start failed', { error: errorMessage(err) });
    await stop();
    throw err;
  }

  const scheduleSweep = () => {
    sweep = clock.setTimeout(() => {
      state
        .expireHolds()
        .catch((err: unknown) => logger.warn('hold sweep failed', { error: errorMessage(err) }))
        .finally(() => {
          if (!stopped) scheduleSweep();
        });
    }, HOLD_SWEEP_MS);
  };
  scheduleSweep();

  if (options.portFile) await writeFileAtomic(options.portFile, `${server.port}\n`, { mode: 0o644 });
  logger.info('cloud controller listening', { url, db: options.dbPath, clcIp: options.clcIp, tokenFile: options.tokenFile, plugins: started.map((p) => p.name), generation: store.generation(), ...(store.generationTaken ? { generationTaken: store.generationTaken } : {}) });
  return { url, port: server.port, token, context, state, properties, store, stop };
}

/** Runs the cloud controller until `signal` aborts, then stops gracefully. */
export async function runCloudController(options: CloudControllerOptions, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const running = await startCloudController(options);
  // The signal may have fired while starting: then stop right away.
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  options.logger.info('stopping cloud controller');
  await running.stop();
}
