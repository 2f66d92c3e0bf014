/**
 * The load generator of bench/ec2-api.bench.ts, run by it as a child process
 * (`fork`), so its signing and response checks do not share the CLC's event
 * loop: it takes one `LoadJob` over IPC, sends SigV4-signed POSTs (the
 * tests' botocore-like signer, test/helpers/sigv4-client.ts; every request
 * signed afresh) over `concurrency` keep-alive connections, warms up, sends
 * `measuring`, runs for `durationMs`, and answers `done` with the latencies,
 * or `failed` on the first answer that is not a 200 holding `marker`
 * exactly `count` times (a bench that measures errors is worthless).
 */
import * as http from 'node:http';
import { pathToFileURL } from 'node:url';
import { signEc2, type SigV4Credentials } from '../test/helpers/sigv4-client.ts';

/** The region the requests are signed for (any name; DescribeAvailabilityZones answers with it). */
export const REGION = 'edge-1';

export interface LoadJob {
  readonly endpoint: string;
  readonly credentials: SigV4Credentials;
  readonly params: readonly (readonly [string, string])[];
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Every answer must be a 200 whose body holds `marker` exactly `count` times. */
  readonly marker: string;
  readonly count: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly elapsedMs: number;
  /** Sorted latencies of the measured requests, ms. */
  readonly latencies: number[];
  readonly bytes: number;
  /** The client process's own CPU over the measured window, ms. */
  readonly clientCpuMs: number;
}

export type ClientMessage = { type: 'measuring' } | { type: 'done'; result: LoadResult } | { type: 'failed'; message: string };

function countOf(text: string, marker: string): number {
  let n = 0;
  for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + marker.length)) n++;
  return n;
}

async function runLoad(job: LoadJob, send: (m: ClientMessage) => void): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const url = new URL(job.endpoint);
  const once = () =>
    new Promise<{ ms: number; bytes: number }>((resolve, reject) => {
      const signed = signEc2({ endpoint: job.endpoint, credentials: job.credentials, params: job.params, region: REGION });
      const t0 = performance.now();
      const req = http.request(
        { method: 'POST', host: url.hostname, port: url.port, path: signed.target, headers: { ...signed.headers, 'Content-Length': String(signed.body.length) }, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - t0;
            const body = Buffer.concat(chunks);
            const text = body.toString('utf8');
            const n = countOf(text, job.marker);
            if (res.statusCode !== 200 || n !== job.count) {
              reject(new Error(`HTTP ${res.statusCode}, ${n} × ${job.marker} (expected 200 and ${job.count}): ${text.slice(0, 300)}`));
              return;
            }
            resolve({ ms, bytes: body.length });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(signed.body);
    });

  const warmEnd = performance.now() + job.warmupMs;
  const warm = async () => {
    while (performance.now() < warmEnd) await once();
  };
  await Promise.all(Array.from({ length: job.concurrency }, warm));

  send({ type: 'measuring' });
  const latencies: number[] = [];
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + job.durationMs;
  let last = start;
  const loop = async () => {
    while (performance.now() < end) {
      const r = await once();
      latencies.push(r.ms);
      bytes = r.bytes;
      last = performance.now();
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, elapsedMs: last - start, latencies, bytes, clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

// Run as a forked child (not when the bench imports this file for its types).
if (process.send && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (job: LoadJob) => {
    const send = (m: ClientMessage) => process.send!(m);
    // The last message is flushed before the channel closes (disconnect in send's callback).
    const last = (m: ClientMessage) => process.send!(m, () => process.disconnect());
    runLoad(job, send).then(
      (result) => last({ type: 'done', result }),
      (err: unknown) => last({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
    );
  });
}
