/**
 * Validation speed of `cloud.network.network_configuration` at scale:
 * 100 clusters (distinct /16 subnets) and 10,000 IP list entries (9,500
 * private entries across the clusters, 500 public), singles and ranges mixed.
 * Target (issue 2): under 100 ms per validation.
 *
 * Scenarios: the valid document as JSON text (parse + schema + semantics),
 * the same already parsed, explode of it, and an invalid variant whose every
 * public entry overlaps a private one (the error path, 500 diagnostics plus
 * 9,500 duplicate entries → 10,000 diagnostics).
 *
 * Run: node --import tsx bench/validate.bench.ts [runs]   (default 50 runs, 5 warm-up)
 */
import { performance } from 'node:perf_hooks';
import { validateNetworkConfiguration } from '../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../src/cloud-controller/config/explode.ts';
import type { NetworkConfiguration } from '../src/cloud-controller/config/types.ts';

const CLUSTERS = 100;
const PRIVATE_PER_CLUSTER = 95;
const PUBLIC = 500;

export function benchDocument(): NetworkConfiguration {
  const clusters = Array.from({ length: CLUSTERS }, (_, c) => ({
    Name: `cluster-${String(c).padStart(3, '0')}`,
    Subnet: { Subnet: `10.${c}.0.0`, Netmask: '255.255.0.0', Gateway: `10.${c}.0.1` },
    // Entries listed in descending order so the sweep's sort has work to do.
    PrivateIps: Array.from({ length: PRIVATE_PER_CLUSTER }, (_, k) => {
      const i = PRIVATE_PER_CLUSTER - 1 - k;
      return i % 2 === 0 ? `10.${c}.${1 + i}.10-10.${c}.${1 + i}.200` : `10.${c}.${1 + i}.7`;
    }),
  }));
  const publicIps = Array.from({ length: PUBLIC }, (_, i) => (i % 2 === 0 ? `198.${18 + (i >> 8)}.${i & 255}.1-198.${18 + (i >> 8)}.${i & 255}.100` : `198.${18 + (i >> 8)}.${i & 255}.200`));
  return { Mode: 'EDGE', InstanceDnsDomain: 'eucalyptus.internal', InstanceDnsServers: ['10.1.1.254'], MacPrefix: 'd0:0d', PublicIps: publicIps, Clusters: clusters };
}

function invalidVariant(doc: NetworkConfiguration): NetworkConfiguration {
  const clusters = (doc.Clusters ?? []).map((c) => ({ ...c, PrivateIps: [...(c.PrivateIps ?? []), ...(c.PrivateIps ?? [])] }));
  const publicIps = clusters.slice(0, 5).flatMap((c) => (c.PrivateIps ?? []).slice(0, PUBLIC / 5));
  return { ...doc, PublicIps: publicIps, Clusters: clusters };
}

function measure(name: string, runs: number, fn: () => unknown): { name: string; median: number; p95: number; min: number } {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? NaN;
  return { name, median: at(0.5), p95: at(0.95), min: times[0] ?? NaN };
}

function main(argv: readonly string[]): void {
  const runs = Math.max(20, Number(argv[0] ?? 50) || 50);
  const doc = benchDocument();
  const text = JSON.stringify(doc, null, 2);
  const entries = (doc.PublicIps?.length ?? 0) + (doc.Clusters ?? []).reduce((n, c) => n + (c.PrivateIps?.length ?? 0), 0);
  const check = validateNetworkConfiguration(text);
  if (!check.ok || check.diagnostics.length > 0) throw new Error(`bench document is not clean: ${JSON.stringify(check.diagnostics.slice(0, 3))}`);
  const bad = invalidVariant(doc);
  const badCheck = validateNetworkConfiguration(bad);
  if (badCheck.ok) throw new Error('invalid variant validated');

  const results = [
    measure('validate(JSON text): parse + schema + semantics', runs, () => validateNetworkConfiguration(text)),
    measure('validate(parsed object)', runs, () => validateNetworkConfiguration(doc)),
    measure('explode(valid document)', runs, () => explode(doc, DEFAULT_EXPLODE_INPUTS)),
    measure(`validate(invalid variant: ${badCheck.diagnostics.length} diagnostics)`, runs, () => validateNetworkConfiguration(bad)),
  ];
  console.log(`document: ${CLUSTERS} clusters, ${entries} IP list entries, ${(text.length / 1024).toFixed(0)} KiB of JSON; ${runs} runs after 5 warm-up; node ${process.version}`);
  console.log('| scenario | median ms | p95 ms | min ms |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.name} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.min.toFixed(2)} |`);
  const worst = results[0]?.p95 ?? Infinity;
  console.log(`target: validate under 100 ms → ${worst < 100 ? 'met' : 'MISSED'} (p95 ${worst.toFixed(2)} ms)`);
}

main(process.argv.slice(2));
