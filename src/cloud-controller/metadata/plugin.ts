/**
 * The metadata service as a CLC plugin: an EC2-style HTTP listener
 * (`/latest/meta-data/...`, see answer.ts) on port 8773 by default, which
 * netd's DNAT of 169.254.169.254:80 reaches from instances.
 *
 * Where it listens, first match wins:
 *   1. `metadataPlugin({listen})` (embedding, tests),
 *   2. env `EDGENET_METADATA_LISTEN` = `host:port`, `:port` or `off`,
 *   3. `0.0.0.0:8773` (paths.ts DEFAULT_PORTS.metadata): every address, because
 *      instances reach it through the nodes, not over loopback.
 * A port that is taken does not stop the cloud controller (metadata is an
 * auxiliary service): the error is logged and the bind retried every 5 s
 * until it succeeds or the plugin stops.
 */
import type { ClcContext, ClcPlugin } from '../contracts.ts';
import type { TimerHandle } from '../../shared/clock.ts';
import { DEFAULT_PORTS } from '../../shared/paths.ts';
import { EdgenetError, errorMessage } from '../../shared/errors.ts';
import { createMetadataLookup, type MetadataLookup } from './lookup.ts';
import { startMetadataServer, type MetadataServer } from './server.ts';

const METADATA_LISTEN_ENV = 'EDGENET_METADATA_LISTEN';
const RETRY_MS = 5_000;

export type MetadataListen = { readonly kind: 'off' } | { readonly kind: 'listen'; readonly host: string; readonly port: number };

/** Parses `host:port`, `:port` or `off`; throws METADATA_BAD_LISTEN otherwise. */
export function parseMetadataListen(text: string): MetadataListen {
  const t = text.trim();
  if (t === 'off') return { kind: 'off' };
  const m = /^(.*):(\d{1,5})$/.exec(t);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new EdgenetError('METADATA_BAD_LISTEN', `metadata listen address must be host:port, :port or off, not "${text}"`);
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { kind: 'listen', host: host === '' ? '0.0.0.0' : host, port };
}

export interface MetadataPluginOptions {
  readonly listen?: string;
}

export interface MetadataPlugin extends ClcPlugin {
  /** The bound address once listening (port 0 resolves to the real port). */
  address(): { host: string; port: number } | undefined;
}

export function metadataPlugin(options: MetadataPluginOptions = {}): MetadataPlugin {
  let server: MetadataServer | undefined;
  let lookup: MetadataLookup | undefined;
  let retry: TimerHandle | undefined;
  let stopped = false;
  let context: ClcContext | undefined;

  const bind = async (ctx: ClcContext, listen: { host: string; port: number }, attempt: number): Promise<void> => {
    try {
      server = await startMetadataServer({ host: listen.host, port: listen.port, lookup: lookup!, logger: ctx.logger });
      if (stopped) {
        await server.close();
        server = undefined;
        return;
      }
      ctx.logger.info('metadata service listening', { host: server.host, port: server.port });
    } catch (err) {
      const log = attempt === 0 ? ctx.logger.error.bind(ctx.logger) : ctx.logger.debug.bind(ctx.logger);
      log('metadata service cannot listen; retrying', { host: listen.host, port: listen.port, error: errorMessage(err), retryMs: RETRY_MS });
      if (!stopped) retry = ctx.clock.setTimeout(() => void bind(ctx, listen, attempt + 1), RETRY_MS);
    }
  };

  return {
    name: 'metadata',
    async start(ctx) {
      context = ctx;
      stopped = false;
      const listen = parseMetadataListen(options.listen ?? ctx.env[METADATA_LISTEN_ENV] ?? `0.0.0.0:${DEFAULT_PORTS.metadata}`);
      if (listen.kind === 'off') {
        ctx.logger.info('metadata service disabled', { env: METADATA_LISTEN_ENV });
        return;
      }
      lookup = createMetadataLookup(ctx);
      await bind(ctx, listen, 0);
    },
    async stop() {
      stopped = true;
      if (retry && context) context.clock.clearTimeout(retry);
      retry = undefined;
      await server?.close();
      server = undefined;
      lookup?.close();
      lookup = undefined;
    },
    address() {
      return server ? { host: server.host, port: server.port } : undefined;
    },
  };
}
