/**
 * Shared pieces of the pipeline integration tests and the broadcast bench:
 * certificates made by the real `edgenet certs` command, real `edgenet cc` /
 * `edgenet nc` processes on 127.0.0.1 (started through the Exec seam), a CLC-side
 * SOAP client, and a fake netd that writes a NetdStatus whenever the shared file
 * changes (no netd runs in these tests). Everything lives under one temp dir
 * (prefix `edgenet-pl-`) and every process is killed by `cleanup()`.
 */
import { promises as fs, mkdtempSync } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApiClient } from '../../src/shared/admin-client.ts';
import { createExec, type Process } from '../../src/shared/exec.ts';
import { writeFileAtomic } from '../../src/shared/files.ts';
import { waitFor as pollUntil } from '../../src/shared/wait.ts';
import { readGniHeader } from '../../src/shared/gni/header.ts';
import { NETD_HEARTBEAT_INTERVAL_MS, type NetdStatus } from '../../src/shared/netd-status.ts';
import { loadTlsMaterial } from '../../src/shared/tls/material.ts';
import { SoapClient } from '../../src/shared/soap/client.ts';
import { CC_ACTIONS, broadcastInner, parseBroadcastReply, parseStatusReply, type BroadcastReply, type NodeTarget, type StatusReply } from '../../src/shared/soap/messages.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'bin', 'edgenet.mjs');
const exec = createExec();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Positional shorthand for the shared poller (src/shared/wait.ts). */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  return pollUntil(probe, { what, timeoutMs, intervalMs: everyMs });
}

export function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return exec.run(['node', CLI, ...args], { env: { ...process.env, ...env } as Record<string, string>, okExitCodes: [0, 1, 2], timeoutMs: 60_000 });
}

export interface Daemon {
  readonly name: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly url: string;
  readonly logFile: string;
  proc: Process;
  /** SIGKILL, then wait. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export class Lab {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'edgenet-pl-'));
  readonly certs = path.join(this.dir, 'certs');
  private readonly procs = new Set<Process>();
  private readonly stoppers: (() => void)[] = [];

  /** One certificate per role, named after it (clc, cc, nc): what most pipeline tests need. */
  static readonly ONE_PER_ROLE = [
    { name: 'clc', role: 'clc' },
    { name: 'cc', role: 'cc' },
    { name: 'nc', role: 'nc' },
  ] as const;

  /** Node controllers, each with a fake netd answering for it. */
  async startFakeNodes(names: readonly string[]): Promise<(Daemon & { runDir: string; gniFile: string; statusFile: string })[]> {
    const nodes = await Promise.all(names.map((n) => this.startNc(n)));
    for (const n of nodes) this.fakeNetd(n);
    return nodes;
  }

  async makeCerts(names: readonly { name: string; role: 'clc' | 'cc' | 'nc' }[]): Promise<void> {
    const init = await cli(['certs', 'init', '--dir', this.certs]);
    if (init.exitCode !== 0) throw new Error(`certs init: ${init.stderr}`);
    for (const n of names) {
      const r = await cli(['certs', 'issue', n.name, '--role', n.role, '--ip', '127.0.0.1', '--dir', this.certs]);
      if (r.exitCode !== 0) throw new Error(`certs issue ${n.name}: ${r.stderr}`);
    }
  }

  private async spawn(name: string, args: readonly string[], port: number, metricsPort: number, env: Record<string, string> = {}): Promise<Daemon> {
    const logFile = path.join(this.dir, `${name}.log`);
    const start = () => {
      const p = exec.start(['node', CLI, ...args], { logFile, env: { ...process.env, EDGENET_LOG_FORMAT: 'json', ...env } as Record<string, string> });
      this.procs.add(p);
      void p.exited.then(() => this.procs.delete(p));
      return p;
    };
    let exitedEarly = false;
    const daemon: Daemon = {
      name,
      port,
      metricsPort,
      url: `https://127.0.0.1:${port}/`,
      logFile,
      proc: start(),
      async kill(signal = 'SIGKILL') {
        daemon.proc.kill(signal);
        await daemon.proc.exited;
      },
    };
    void daemon.proc.exited.then(() => (exitedEarly = true));
    await waitFor(`${name} healthy`, async () => {
      if (exitedEarly) throw new Error(`${name} exited; see ${logFile}: ${(await fs.readFile(logFile, 'utf8').catch(() => '')).slice(-500)}`);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/healthz`).catch(() => undefined);
      return res?.ok;
    }, 90_000);
    return daemon;
  }

  async startNc(name: string, options: { port?: number; metricsPort?: number; extra?: string[] } = {}): Promise<Daemon & { runDir: string; gniFile: string; statusFile: string }> {
    const port = options.port ?? (await freePort());
    const metricsPort = options.metricsPort ?? (await freePort());
    const runDir = path.join(this.dir, 'nodes', name);
    const d = await this.spawn(
      name,
      ['nc', '--listen', `127.0.0.1:${port}`, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--certs', this.certs, '--cert-name', 'nc', '--run-dir', runDir, '--node-name', name, ...(options.extra ?? [])],
      port,
      metricsPort,
    );
    return Object.assign(d, { runDir, gniFile: path.join(runDir, 'global_network_info.xml'), statusFile: path.join(runDir, 'netd-status.json') });
  }

  /** The real `edgenet clc` with the broadcaster using this lab's `clc` certificate. */
  async startClc(options: { statusIntervalMs?: number } = {}): Promise<Daemon & { api: string; token: string }> {
    const metricsPort = await freePort();
    const portFile = path.join(this.dir, 'clc.port');
    const tokenFile = path.join(this.dir, 'clc.token');
    const d = await this.spawn(
      'clc',
      ['clc', '--db', path.join(this.dir, 'clc.db'), '--listen', '127.0.0.1:0', '--port-file', portFile, '--token-file', tokenFile, '--clc-ip', '127.0.0.1'],
      0,
      metricsPort,
      {
        EDGENET_CLC_CERTS_DIR: this.certs,
        EDGENET_CLC_CERT_NAME: 'clc',
        EDGENET_CLC_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
        // Parallel test runs would fight over the EC2 endpoint's default port 8788.
        EDGENET_CLC_EC2_LISTEN: 'off',
        EDGENET_STATUS_INTERVAL_MS: String(options.statusIntervalMs ?? 300),
        EDGENET_STATE_DIR: path.join(this.dir, 'state'),
        EDGENET_CONF_DIR: path.join(this.dir, 'conf'),
        EDGENET_RUN_DIR: path.join(this.dir, 'run'),
      },
    );
    const port = await waitFor('clc port file', async () => Number((await fs.readFile(portFile, 'utf8')).trim()) || undefined);
    const token = (await fs.readFile(tokenFile, 'utf8')).trim();
    return Object.assign(d, { api: `http://127.0.0.1:${port}`, token });
  }

  /** Restarts a killed daemon on the same ports with the same arguments. */
  async restart(d: Daemon, args: readonly string[]): Promise<void> {
    const fresh = await this.spawn(d.name, args, d.port, d.metricsPort);
    d.proc = fresh.proc;
  }

  async startCc(name: string, options: { port?: number; metricsPort?: number; extra?: string[] } = {}): Promise<Daemon & { args: string[]; stateDir: string }> {
    const port = options.port ?? (await freePort());
    const metricsPort = options.metricsPort ?? (await freePort());
    const stateDir = path.join(this.dir, 'cc', name);
    const args = ['cc', '--listen', `127.0.0.1:${port}`, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--certs', this.certs, '--cert-name', 'cc', '--state-dir', stateDir, ...(options.extra ?? [])];
    const d = await this.spawn(name, args, port, metricsPort);
    return Object.assign(d, { args, stateDir });
  }

  ncArgs(d: Daemon & { runDir: string }): string[] {
    return ['nc', '--listen', `127.0.0.1:${d.port}`, '--metrics-listen', `127.0.0.1:${d.metricsPort}`, '--certs', this.certs, '--cert-name', 'nc', '--run-dir', d.runDir, '--node-name', d.name];
  }

  client(certName: string, expectRole: 'cc' | 'nc'): SoapClient {
    const c = new SoapClient({ tls: loadTlsMaterial(this.certs, certName), expectRole });
    this.stoppers.push(() => c.close());
    return c;
  }

  /** A fake netd: whenever the shared file changes, "applies" it and writes a NetdStatus. */
  fakeNetd(node: { name: string; gniFile: string; statusFile: string }): void {
    let last = '';
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        try {
          const text = await fs.readFile(node.gniFile, 'utf8').catch(() => undefined);
          if (text === undefined) return;
          const h = readGniHeader(text);
          const key = `${h?.version}#${h?.sequence}#${h?.generation}`;
          if (!h || key === last) return;
          last = key;
          const at = new Date().toISOString();
          const gen = h.generation === undefined ? {} : { generation: h.generation, appliedGeneration: h.generation };
          const status: NetdStatus = { node: node.name, version: h.version, sequence: h.sequence, appliedVersion: h.version, appliedSequence: h.sequence, ...gen, result: 'ok', at, appliedAt: at, steps: [] };
          await writeFileAtomic(node.statusFile, JSON.stringify(status));
        } finally {
          busy = false;
        }
      })();
    }, 25);
    // Like netd: a heartbeat the NC reports as liveness (a node without one is not converged).
    const heartbeatFile = path.join(path.dirname(node.statusFile), 'netd-heartbeat.json');
    const startedAt = new Date().toISOString();
    const beat = () =>
      void writeFileAtomic(heartbeatFile, JSON.stringify({ pid: process.pid, startedAt, at: new Date().toISOString(), intervalMs: NETD_HEARTBEAT_INTERVAL_MS })).catch(() => undefined);
    beat();
    const heartbeat = setInterval(beat, 500);
    this.stoppers.push(() => clearInterval(timer), () => clearInterval(heartbeat));
  }

  async cleanup(): Promise<void> {
    for (const s of this.stoppers) s();
    for (const p of this.procs) p.kill('SIGKILL');
    await Promise.all([...this.procs].map((p) => p.exited));
    if (process.env.EDGENET_KEEP_LAB) process.stderr.write(`lab kept: ${this.dir}\n`);
    else await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** A small GNI document; only the root tag matters to the CC and NC. */
export function gniXml(options: { version: string; sequence?: number; generation?: number; filler?: number }): string {
  const seq = (options.sequence === undefined ? '' : ` sequence="${options.sequence}"`) + (options.generation === undefined ? '' : ` generation="${options.generation}"`);
  const filler = '  <instances>\n' + Array.from({ length: options.filler ?? 3 }, (_, i) => `    <instance name="i-${String(i).padStart(8, '0')}"><ownerId>000000000001</ownerId><privateIp>10.1.0.${(i % 250) + 2}</privateIp></instance>\n`).join('') + '  </instances>\n';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<network-data version="${options.version}"${seq}>\n  <configuration><property name="mode"><value>EDGE</value></property></configuration>\n${filler}</network-data>\n`;
}

/** Calls the CLC admin API through the one admin client; a non-2xx answer throws its UserError. */
export async function api<T = unknown>(clc: { api: string; token: string }, method: string, p: string, body?: unknown): Promise<T> {
  return createApiClient({ url: clc.api, token: clc.token, timeoutMs: 60_000 }).request<T>(method, p, body);
}

export async function broadcast(client: SoapClient, ccUrl: string, doc: { xml: string; version?: string; sequence?: number; generation?: number; nodes?: readonly NodeTarget[] }): Promise<BroadcastReply> {
  const inner = broadcastInner({ version: doc.version, sequence: doc.sequence, generation: doc.generation, networkInfo: Buffer.from(doc.xml).toString('base64'), nodes: doc.nodes });
  return parseBroadcastReply(await client.call({ url: ccUrl, operation: 'BroadcastNetworkInfo', action: CC_ACTIONS.broadcast, inner, timeoutMs: 10_000 }));
}

export async function ccStatus(client: SoapClient, ccUrl: string): Promise<StatusReply> {
  return parseStatusReply(await client.call({ url: ccUrl, operation: 'DescribeNetworkStatus', action: CC_ACTIONS.status, inner: '', timeoutMs: 5000 }));
}

/** POSTs raw bytes over TLS with the given (or no) client certificate; returns status and body. */
export async function rawPost(url: string, body: string | Buffer, tls: { key?: Buffer; cert?: Buffer; ca: Buffer }, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ...tls, headers: { 'content-type': 'text/xml', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
