/**
 * Health and Prometheus metrics for every daemon: a plain-HTTP listener (bind
 * it to loopback; it carries no secrets but is unauthenticated) serving
 * `GET /healthz` (JSON from the daemon's `health()` plus {status, version,
 * component}; 503 when it says `ok: false`) and `GET /metrics` (prom-client text format). Each daemon owns
 * its own Registry (no global singleton) with the default process metrics
 * (CPU seconds, RSS, event-loop lag) plus its own.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { announcesBody, applyServerTimeouts, httpTimeouts, refuseAndClose, serverTimeoutOptions, type HttpTimeouts } from './http-guard.ts';
import { healthFields } from './daemon-metrics.ts';

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly health: () => object;
  /** Adds {status, version, commit, component} to every /healthz body (daemon-metrics.ts). */
  readonly component?: string;
  /** Slow-client bounds (defaults: shared/http-guard.ts). */
  readonly timeouts?: Partial<HttpTimeouts>;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A registry with the default process metrics, prefixed `edgenet_<component>_`. */
export function newRegistry(component: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: `edgenet_${component}_` });
  return registry;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const timeouts = httpTimeouts(options.timeouts);
  const server = createServer(serverTimeoutOptions(timeouts), (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    // Unauthenticated: a body is never read nor drained; refuse and close.
    if (req.method !== 'GET') {
      refuseAndClose(req, res, { status: 405, headers: { allow: 'GET' }, body: '' });
      return;
    }
    if (announcesBody(req)) {
      refuseAndClose(req, res, { status: 400, headers: {}, body: 'GET takes no body\n' });
      return;
    }
    if (path === '/healthz') {
      let body: object;
      try {
        body = options.health();
      } catch (err) {
        body = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      const ok = (body as { ok?: unknown }).ok !== false;
      if (options.component) body = { ...body, ...healthFields(options.component, ok) };
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err.message}\n`);
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /healthz or /metrics\n');
  });
  applyServerTimeouts(server, timeouts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
