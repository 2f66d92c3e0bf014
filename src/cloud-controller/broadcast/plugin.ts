/**
 * The broadcaster as a CLC plugin: wires the Broadcaster to the CLC context
 * (snapshot, change feed, properties, sequence, IPAM callbacks), to the GNI
 * builder (cloud-controller/gni/) and codec (shared/gni/), and to the cluster
 * controllers over SOAP with mutual TLS.
 *
 * Leadership (ha/): the metrics server and `GET /v1/status` run on every
 * CLC; the Broadcaster only while this CLC leads — a fresh one (full first
 * snapshot) each time it becomes leader, stopped at once when it no longer
 * is (nothing more is sent). A NOT_LEADER from drawing a sequence stops it
 * quietly (broadcaster.ts). Metrics edgenet_clc_leader, _leader_term,
 * _role_since_timestamp_seconds (metrics.ts leadershipMetrics).
 *
 * Registers `GET /v1/status` (the convergence view, see status-view.ts, with
 * the leadership block `clc`). On a follower the convergence part is the
 * leader's, fetched from its admin API (ctx.leaderGet, ~2 s time-out); when
 * the leader cannot be reached the answer is 503 LEADER_UNREACHABLE with
 * `clc` (who should lead, the members).
 * Environment of the CLC process:
 * - EDGENET_CLC_CERTS_DIR (default <conf dir>/certs) and EDGENET_CLC_CERT_NAME
 *   (default `clc`): the CLC's client certificate; CCs must present role `cc`.
 *   Loaded on first use and retried on failure, so certificates issued after
 *   the CLC started are picked up.
 * - EDGENET_CLC_METRICS_LISTEN (default 127.0.0.1:9770, `off` disables):
 *   /healthz and /metrics of the broadcaster; failing to bind only warns.
 * - EDGENET_STATUS_INTERVAL_MS (default 1000): how often CCs are polled.
 * Properties (re-read when they change): cloud.network.min_broadcast_interval
 * (ms), cloud.network.broadcast_interval (s), cloud.network.broadcast_timeout (s).
 */
import type { ClcContext, ClcPlugin, CloudSnapshot } from '../contracts.ts';
import { GniEncoder } from '../gni/encoder.ts';
import { snapshotReadInfo } from '../snapshot/snapshot-cache.ts';
import { paths, DEFAULT_PORTS } from '../../shared/paths.ts';
import { EdgenetError, UserError, errorCode, errorMessage } from '../../shared/errors.ts';
import { loadTlsMaterial } from '../../shared/tls/material.ts';
import { SoapClient } from '../../shared/soap/client.ts';
import { Timing } from '../../shared/soap/timing.ts';
import { CC_ACTIONS, broadcastEnvelope, parseBroadcastReply, parseStatusReply } from '../../shared/soap/messages.ts';
import { newRegistry, startMetricsServer, type MetricsServer } from '../../shared/metrics.ts';
import { Broadcaster, type BroadcastSettings, type BroadcasterDeps, type BuiltDocument } from './broadcaster.ts';
import { broadcastMetrics, leadershipMetrics } from './metrics.ts';
import { statusView, type StatusView } from './status-view.ts';
import { registerCloudMetrics } from './cloud-metrics.ts';
import { registerDaemonMetrics } from '../../shared/daemon-metrics.ts';

/** How long a follower waits for the leader's /v1/status. */
const LEADER_TIMEOUT_MS = 2000;

const PROPERTY_NAMES = ['cloud.network.min_broadcast_interval', 'cloud.network.broadcast_interval', 'cloud.network.broadcast_timeout'];

export async function readSettings(ctx: Pick<ClcContext, 'getProperty' | 'env'>): Promise<BroadcastSettings> {
  const num = async (name: string, fallback: number) => {
    const v = Number(await ctx.getProperty(name));
    return Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  const statusMs = Number(ctx.env.EDGENET_STATUS_INTERVAL_MS ?? 1000);
  return {
    minIntervalMs: await num('cloud.network.min_broadcast_interval', 200),
    periodMs: (await num('cloud.network.broadcast_interval', 15)) * 1000,
    timeoutMs: (await num('cloud.network.broadcast_timeout', 10)) * 1000,
    retryBaseMs: 500,
    retryMaxMs: 30_000,
    statusIntervalMs: Number.isFinite(statusMs) && statusMs >= 50 ? statusMs : 1000,
  };
}

/**
 * The CLC's client certificate. A failure is the CLC's own problem, not the
 * CC's: it carries the code CLC_CERTIFICATE_MISSING and the path, which
 * the broadcaster records and `edgenet status` shows as the node result
 * `clc-certificate-missing` instead of `cc-unreachable`.
 */
export function clcClientTls(env: NodeJS.ProcessEnv): ReturnType<typeof loadTlsMaterial> {
  try {
    return loadTlsMaterial(env.EDGENET_CLC_CERTS_DIR ?? paths.certsDir(env), env.EDGENET_CLC_CERT_NAME ?? 'clc');
  } catch (err) {
    throw new EdgenetError('CLC_CERTIFICATE_MISSING', `the cloud controller's client certificate is unusable (${errorMessage(err)}); set CERTS_DIR and CERT_NAME in clc.conf, see "edgenet clc --check-config"`, { cause: err, details: { file: (err as EdgenetError).details?.file } });
  }
}

/**
 * SOAP transport to the CCs; the TLS material is loaded lazily and cached.
 * `onTiming` receives each broadcast call's phases (the latency bench).
 */
export function ccTransport(env: NodeJS.ProcessEnv, options: { onTiming?: (cluster: string, timing: Timing) => void } = {}): BroadcasterDeps['transport'] & { close(): void } {
  let client: SoapClient | undefined;
  const get = () => {
    client ??= new SoapClient({
      tls: clcClientTls(env),
      expectRole: 'cc',
      maxSockets: 2,
    });
    return client;
  };
  return {
    async broadcast(cluster, doc, nodes, callOptions) {
      const timing = new Timing();
      // Bytes, not a string: the megabytes of Base64 are copied once and never re-encoded (messages.ts).
      const payload = broadcastEnvelope('BroadcastNetworkInfo', { correlationId: `edgenet-${doc.sequence}-${cluster.name}`, version: doc.version, networkInfo: doc.base64, sequence: doc.sequence, generation: doc.generation, nodes });
      timing.mark('payload');
      const reply = parseBroadcastReply(await get().call({ url: cluster.ccUrl, operation: 'BroadcastNetworkInfo', action: CC_ACTIONS.broadcast, inner: '', payload, timing, ...callOptions }));
      options.onTiming?.(cluster.name, timing);
      return reply;
    },
    async status(ccUrl, options) {
      return parseStatusReply(await get().call({ url: ccUrl, operation: 'DescribeNetworkStatus', action: CC_ACTIONS.status, inner: '', ...options }));
    },
    close() {
      client?.close();
    },
  };
}

/**
 * The broadcaster's build step: an incremental GNI encoder of its own (its
 * fragment caches live as long as the returned function); encoding stamps the
 * sequence on the root and joins the cached UTF-8 sections, so the document
 * text is never built as one string and encoded again.
 */
export function gniBuilder(): (snapshot: CloudSnapshot) => BuiltDocument {
  const encoder = new GniEncoder();
  return (snapshot) => {
    const built = encoder.build(snapshot);
    return { version: built.doc.version, encode: (sequence, generation) => built.encode(sequence, generation) };
  };
}

export function broadcastPlugin(): ClcPlugin {
  let broadcaster: Broadcaster | undefined;
  let unsubscribe: (() => void) | undefined;
  let unsubscribeRole: (() => void) | undefined;
  let metricsServer: MetricsServer | undefined;
  let transport: ReturnType<typeof ccTransport> | undefined;
  return {
    name: 'broadcast',
    async start(ctx: ClcContext): Promise<void> {
      const logger = ctx.logger.child({ component: 'broadcast' });
      const registry = newRegistry('clc');
      const cc = ccTransport(ctx.env);
      transport = cc;
      // A follower has no convergence view of its own (the leader's is proxied at /v1/status).
      const view = (): StatusView => broadcaster?.view() ?? statusView({ now: ctx.clock.now(), history: new Map(), clusters: [] });
      const observe = broadcastMetrics(registry, view);
      registerDaemonMetrics(registry, 'clc', () => [{ dir: ctx.env.EDGENET_CLC_CERTS_DIR ?? paths.certsDir(ctx.env), name: ctx.env.EDGENET_CLC_CERT_NAME ?? 'clc' }]);
      registerCloudMetrics(registry, { ...(ctx.ipamPools ? { pools: () => ctx.ipamPools!() } : {}), view, now: () => ctx.clock.now() });
      leadershipMetrics(registry, ctx.leadership);
      let settings = await readSettings(ctx);

      // One Broadcaster per term of leadership: made fresh (full first snapshot) on `true`, stopped at once on `false`.
      const lead = () => {
        broadcaster?.stop();
        broadcaster = new Broadcaster({
          clock: ctx.clock,
          logger,
          snapshot: (options) => ctx.snapshot(options),
          describeSnapshot: (snapshot) => snapshotReadInfo(snapshot),
          build: gniBuilder(),
          nextSequence: () => ctx.nextSequence(),
          generation: () => ctx.generation(),
          documentBuilt: (sequence, snapshot) => ctx.documentBuilt(sequence, snapshot),
          nodesApplied: (applied) => ctx.nodesApplied(applied),
          notLeader: (reason) => ctx.leadership.resign?.(reason),
          transport: cc,
          settings,
          observe,
          fullFirstRun: true,
        });
        broadcaster.start();
        logger.info('broadcaster started: this CLC leads', { clcId: ctx.leadership.id, term: ctx.leadership.term() });
      };
      const follow = () => {
        if (broadcaster === undefined) return;
        broadcaster.stop();
        broadcaster = undefined;
        logger.info('broadcaster stopped: this CLC no longer leads', { clcId: ctx.leadership.id });
      };
      unsubscribeRole = ctx.leadership.onRoleChange((leading) => (leading ? lead() : follow()));

      unsubscribe = ctx.onChange((change) => {
        // Accounts and access keys are in no document (they only end caches).
        if (change.kind === 'account' || change.kind === 'access-key') return;
        if (change.kind === 'resync' || (change.kind === 'property' && PROPERTY_NAMES.includes(change.name))) {
          readSettings(ctx).then(
            (s) => {
              settings = s;
              broadcaster?.updateSettings(s);
            },
            (err: unknown) => ctx.logger.warn('reading broadcast properties failed', { error: errorMessage(err) }),
          );
        }
        broadcaster?.request();
      });

      ctx.route('GET', '/v1/status', async (req) => {
        const clc = await ctx.leadership.view();
        if (ctx.leadership.role() === 'leader' || ctx.leaderGet === undefined) return { status: 200, body: { ...view(), clc } satisfies StatusView };
        // A follower answers with the leader's convergence view; never proxies a proxied request (no loops while terms change).
        try {
          if (req.query.get('proxied') === '1') throw new UserError('LEADER_UNREACHABLE', `${ctx.leadership.id} does not lead (asked by another CLC as the leader)`, { status: 503 });
          const r = await ctx.leaderGet('/v1/status?proxied=1', { timeoutMs: LEADER_TIMEOUT_MS });
          if (r.status !== 200 || typeof r.body !== 'object' || r.body === null) {
            const inner = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
            throw new UserError('LEADER_UNREACHABLE', `the leading CLC ${clc.leader?.clcId ?? '?'} answered ${r.status}${inner ? ` ${inner.code}: ${inner.message}` : ''}`, { status: 503 });
          }
          return { status: 200, body: { ...(r.body as StatusView), clc } satisfies StatusView };
        } catch (err) {
          return { status: 503, body: { error: { code: errorCode(err), message: errorMessage(err) }, clc } };
        }
      });

      const listen = ctx.env.EDGENET_CLC_METRICS_LISTEN ?? `127.0.0.1:${DEFAULT_PORTS.clcMetrics}`;
      if (listen !== 'off') {
        const m = /^(.+):(\d+)$/.exec(listen);
        try {
          if (!m) throw new Error(`EDGENET_CLC_METRICS_LISTEN=${listen}: expected HOST:PORT or off`);
          metricsServer = await startMetricsServer({
            host: m[1]!,
            port: Number(m[2]),
            registry,
            component: 'clc',
            health: () => {
              const v = view();
              return { ok: true, broadcaster: broadcaster !== undefined, role: ctx.leadership.role(), sequence: v.current?.sequence, documentVersion: v.current?.version, converged: v.converged };
            },
          });
          ctx.logger.info('broadcaster metrics listening', { port: metricsServer.port });
        } catch (err) {
          ctx.logger.warn('broadcaster metrics listener not started', { error: errorMessage(err) });
        }
      }
    },
    async stop(): Promise<void> {
      unsubscribeRole?.();
      unsubscribe?.();
      broadcaster?.stop();
      broadcaster = undefined;
      transport?.close();
      await metricsServer?.close();
    },
  };
}
