/**
 * A byte relay between a TCP port and a unix socket, so the host reaches the
 * CLC admin API that listens inside the lab's control namespace without any
 * link between the namespaces: unix sockets live in the filesystem, which the
 * namespaces share.
 *
 *   host: edgenet CLI ──tcp 127.0.0.1:P──► relay (host netns) ──unix <lab>/clc-api.sock──►
 *         relay (P-ctl netns) ──tcp 127.0.0.1:8770──► CLC admin API (P-ctl)
 *
 * Both relays exit when the `watch` path disappears (the lab directory is
 * removed by `lab down`), so a crashed lab never leaves a relay behind for long.
 * Started as `edgenet lab relay --listen ... --target ...` (hidden command).
 */
import * as net from 'node:net';
import { existsSync, promises as fs } from 'node:fs';
import { EdgenetError } from '../shared/errors.ts';
import { writeFileAtomic } from '../shared/files.ts';

export type RelayEndpoint = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/** `tcp:HOST:PORT` or `unix:/path`. */
export function parseEndpoint(text: string): RelayEndpoint {
  if (text.startsWith('unix:') && text.length > 5) return { kind: 'unix', path: text.slice(5) };
  const m = /^tcp:(.+):(\d{1,5})$/.exec(text);
  if (m && Number(m[2]) <= 65535) return { kind: 'tcp', host: m[1]!, port: Number(m[2]) };
  throw new EdgenetError('LAB_BAD_ENDPOINT', `relay endpoint must be tcp:HOST:PORT or unix:/path, not "${text}"`);
}

export interface RelayOptions {
  readonly listen: RelayEndpoint;
  readonly target: RelayEndpoint;
  /** Written with the bound TCP port once listening. */
  readonly portFile?: string;
  /** Exit once this path no longer exists (checked every second). */
  readonly watch?: string;
  /**
   * The target speaks HTTP (the admin API): when it cannot be reached, answer
   * 503 UPSTREAM_UNAVAILABLE instead of closing, so a client holding several
   * CLC URLs knows the request was never delivered and asks the next CLC
   * (shared/admin-client-failover.ts) — a killed lab CLC behind a live relay.
   */
  readonly httpUnavailable?: boolean;
}

/** What the relay answers (httpUnavailable) when its target cannot be reached: nothing went through. */
export function unavailableResponse(target: string, reason: string): string {
  const body = JSON.stringify({ error: { code: 'UPSTREAM_UNAVAILABLE', message: `the lab relay could not reach ${target} (${reason}); the request was not delivered` } });
  return `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

export interface RunningRelay {
  readonly port: number | undefined;
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = options.target.kind === 'tcp' ? net.connect(options.target.port, options.target.host) : net.connect(options.target.path);
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    let connected = false;
    upstream.once('connect', () => (connected = true));
    client.on('error', end).on('close', end);
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && options.httpUnavailable && client.writable) {
        // Nothing reached the target: say so in HTTP, then close.
        client.end(unavailableResponse(options.target.kind === 'tcp' ? `${options.target.host}:${options.target.port}` : options.target.path, err.code ?? err.message));
        sockets.delete(upstream);
        return;
      }
      end();
    });
    upstream.on('close', () => {
      if (connected || !options.httpUnavailable) end();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  if (options.listen.kind === 'unix') await fs.rm(options.listen.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (options.listen.kind === 'unix') server.listen(options.listen.path, () => resolve());
    else server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  if (options.listen.kind === 'unix') await fs.chmod(options.listen.path, 0o600);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : undefined;
  if (options.portFile && port !== undefined) await writeFileAtomic(options.portFile, `${port}\n`, { mode: 0o644 });

  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let timer: NodeJS.Timeout | undefined;
  const close = async () => {
    if (timer) clearInterval(timer);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    resolveClosed();
  };
  if (options.watch) {
    const watched = options.watch;
    timer = setInterval(() => {
      if (!existsSync(watched)) void close();
    }, 1000);
  }
  return { port, closed, close };
}
