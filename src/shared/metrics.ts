/**
 * Health and Prometheus metrics for every daemon: a plain-HTTP listener (bind
 * it to loopback; it carries no secrets but is unauthenticated) serving
 * `GET /healthz` (JSON from the daemon's `health()`; 503 when it says
 * `ok: false`) and `GET /metrics` (prom-client text format). Each daemon owns
 * its own Registry (no global singleton) with the default process metrics
 * (CPU seconds, RSS, event-loop lag) plus its own.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly health: () => object;
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
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
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
