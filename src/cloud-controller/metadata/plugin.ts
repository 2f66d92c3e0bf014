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
 * Metadata over IPv6 (issue 14): netd DNATs [fd00:ec2::254]:80 to
 * [CLC_IPV6]:<port> (the document's configuration `clc-address`). When
 * CLC_IPV6 is set (`metadataPlugin({clcIpv6})`, else env
 * `EDGENET_CLC_CLC_IPV6`, which `edgenet clc` fills from clc.conf) and the
 * listen address above is an IPv4 one (the default 0.0.0.0 takes no IPv6
 * on Linux), a second listener binds [CLC_IPV6]:<same port>. A listen
 * address that is IPv6 (`[::]:8773`, a dual-stack socket that also takes
 * IPv4, or one IPv6 address) is used as it is, with no second listener.
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
const CLC_IPV6_ENV = 'EDGENET_CLC_CLC_IPV6';
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
  /** The CLC's IPv6 address (CLC_IPV6); '' for none. Default: env EDGENET_CLC_CLC_IPV6. */
  readonly clcIpv6?: string;
}

export interface MetadataPlugin extends ClcPlugin {
  /** The bound address once listening (port 0 resolves to the real port). */
  address(): { host: string; port: number } | undefined;
  /** Every bound listener: the main one first, then [CLC_IPV6] when it has its own. */
  addresses(): { host: string; port: number }[];
}

/** The listeners for `listen`: itself, plus [clcIpv6]:port when clcIpv6 is set and `listen` is an IPv4 address. */
export function metadataListeners(listen: { host: string; port: number }, clcIpv6: string | undefined): { host: string; port: number }[] {
  const out = [listen];
  if (clcIpv6 !== undefined && clcIpv6 !== '' && !listen.host.includes(':')) out.push({ host: clcIpv6, port: listen.port });
  return out;
}

export function metadataPlugin(options: MetadataPluginOptions = {}): MetadataPlugin {
  /** One slot per listener (index 0: the main one), filled once bound. */
  let servers: (MetadataServer | undefined)[] = [];
  let lookup: MetadataLookup | undefined;
  const retries = new Set<TimerHandle>();
  let stopped = false;
  let context: ClcContext | undefined;

  const bind = async (ctx: ClcContext, listen: { host: string; port: number }, slot: number, attempt: number): Promise<void> => {
    try {
      const server = await startMetadataServer({ host: listen.host, port: listen.port, lookup: lookup!, logger: ctx.logger });
      if (stopped) {
        await server.close();
        return;
      }
      servers[slot] = server;
      ctx.logger.info('metadata service listening', { host: server.host, port: server.port });
    } catch (err) {
      const log = attempt === 0 ? ctx.logger.error.bind(ctx.logger) : ctx.logger.debug.bind(ctx.logger);
      log('metadata service cannot listen; retrying', { host: listen.host, port: listen.port, error: errorMessage(err), retryMs: RETRY_MS });
      if (!stopped) {
        const timer = ctx.clock.setTimeout(() => {
          retries.delete(timer);
          void bind(ctx, listen, slot, attempt + 1);
        }, RETRY_MS);
        retries.add(timer);
      }
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
      const clcIpv6 = options.clcIpv6 ?? ctx.env[CLC_IPV6_ENV];
      const listeners = metadataListeners(listen, clcIpv6);
      servers = listeners.map(() => undefined);
      for (const [slot, l] of listeners.entries()) await bind(ctx, l, slot, 0);
    },
    async stop() {
      stopped = true;
      if (context) for (const timer of retries) context.clock.clearTimeout(timer);
      retries.clear();
      await Promise.all(servers.map((s) => s?.close()));
      servers = [];
      lookup?.close();
      lookup = undefined;
    },
    address() {
      const server = servers[0];
      return server ? { host: server.host, port: server.port } : undefined;
    },
    addresses() {
      return servers.filter((s): s is MetadataServer => s !== undefined).map((s) => ({ host: s.host, port: s.port }));
    },
  };
}
