/**
 * netd render bench: parse + render of a 10,000-instance document for one
 * node, and render (plus restore-text writing) for a node with 250 local
 * instances and 200 groups.
 *
 *   node --import tsx bench/netd-render.bench.ts [--runs N]
 *
 * Documents come from the synthetic generator (test/fixtures/gni/synthetic.ts)
 * through the CLC's GNI builder and the shared codec, so the XML is exactly
 * what a node would receive. Prints a markdown table (median / best of N runs
 * after warm-up); results are kept in bench/results/netd-render.md.
 *
 * When the lab's real document and node config are present (`--file`,
 * `--config`; default bench/out/gni-10k.xml and bench/out/netd-n1.conf, see
 * bench/lab-document.ts for keeping them), a last
 * row renders it for that config's node, the document read as a string as
 * netd reads it.
 */
import { buildGni } from '../src/cloud-controller/gni/builder.ts';
import { parseGni, serializeGni } from '../src/shared/gni/codec.ts';
import type { GniDocument } from '../src/shared/gni/model.ts';
import { existsSync, readFileSync } from 'node:fs';
import type { NetdConfig } from '../src/netd/config.ts';
import { DEFAULT_NETD_CONFIG, parseNetdConfig } from '../src/netd/config.ts';
import { findSelf, render } from '../src/netd/render/render.ts';
import type { DesiredState } from '../src/netd/render/types.ts';
import { ebtablesRestoreText, ipsetRestoreText, iptablesRestoreText } from '../src/netd/netfilter/index.ts';
import { syntheticSnapshot } from '../test/fixtures/gni/synthetic.ts';
import { DEFAULT_LAB_DOCUMENT } from './lab-document.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;
const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const LAB_FILE = argOf('--file') ?? DEFAULT_LAB_DOCUMENT;
const LAB_CONFIG = argOf('--config') ?? new URL('./out/netd-n1.conf', import.meta.url).pathname;
const WARMUP = 3;
const HOST = { bridgeMac: '02:00:00:00:00:01' };

type Stat = { median: number; best: number };
function sample(fn: () => unknown, runs = RUNS): Stat {
  const xs: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= WARMUP) xs.push(ms);
  }
  xs.sort((a, b) => a - b);
  return { median: xs[Math.floor(xs.length / 2)] ?? NaN, best: xs[0] ?? NaN };
}
const fmt = (s: Stat) => `${s.median.toFixed(1)} / ${s.best.toFixed(1)}`;

function renderOk(doc: GniDocument, node: string, config: NetdConfig = DEFAULT_NETD_CONFIG): DesiredState {
  const r = render(doc, { node }, config, HOST);
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.state;
}

function writeAll(s: DesiredState): number {
  return ipsetRestoreText(s.ipsets).length + iptablesRestoreText('filter', s.iptables.filter).length
    + iptablesRestoreText('nat', s.iptables.nat).length + ebtablesRestoreText('nat', s.ebtables.nat).length;
}

interface Case { label: string; instances: number; groups: number; clusters: number; nodesPerCluster: number }

const CASES: Case[] = [
  // 10 clusters × 10 nodes: 100 local instances per node (the GNI bench's cloud).
  { label: '10,000 instances, 1,000 groups, 100 nodes', instances: 10000, groups: 1000, clusters: 10, nodesPerCluster: 10 },
  // 4 clusters × 10 nodes: 250 local instances per node in a 10,000-instance cloud.
  { label: '10,000 instances, 1,000 groups, 40 nodes', instances: 10000, groups: 1000, clusters: 4, nodesPerCluster: 10 },
  // One node holding 250 instances in 200 groups.
  { label: '250 instances, 200 groups, 1 node', instances: 250, groups: 200, clusters: 1, nodesPerCluster: 1 },
];

console.log(`node ${process.version}, ${process.platform}/${process.arch}, runs=${RUNS} (median / best, ms)\n`);
console.log('| document | bytes | local instances | local groups (chains) | sets | iptables rules | ebtables rules | parseGni | render | render + write restore text | parse + render |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const c of CASES) {
  const doc0 = buildGni(syntheticSnapshot({ instances: c.instances, groups: c.groups, rulesPerGroup: 10, clusters: c.clusters, nodesPerCluster: c.nodesPerCluster }), { sequence: 1 });
  const xml = Buffer.from(serializeGni(doc0));
  const parsed = parseGni(xml);
  if (!parsed.ok) throw new Error(`bench document invalid: ${JSON.stringify(parsed.diagnostics.slice(0, 3))}`);
  const doc = parsed.value;
  const node = doc.configuration.clusters[0]?.nodes[0]?.name as string;
  const state = renderOk(doc, node);
  const iptRules = [...state.iptables.filter.chains, ...state.iptables.nat.chains].reduce((n, ch) => n + ch.rules.length, 0);
  const ebRules = state.ebtables.nat.chains.reduce((n, ch) => n + ch.rules.length, 0);
  const parse = sample(() => parseGni(xml), Math.max(3, Math.floor(RUNS / 2)));
  const rend = sample(() => renderOk(doc, node));
  const rendWrite = sample(() => writeAll(renderOk(doc, node)));
  const both = sample(() => {
    const p = parseGni(xml);
    if (p.ok) renderOk(p.value, node);
  }, Math.max(3, Math.floor(RUNS / 2)));
  console.log(`| ${c.label} | ${xml.length.toLocaleString('en')} | ${state.instances.length} | ${state.iptables.filter.chains.length - 1} | ${state.ipsets.length} | ${iptRules} | ${ebRules} | ${fmt(parse)} | ${fmt(rend)} | ${fmt(rendWrite)} | ${fmt(both)} |`);
}

if (existsSync(LAB_FILE) && existsSync(LAB_CONFIG)) {
  const cfg = parseNetdConfig(readFileSync(LAB_CONFIG, 'utf8'));
  if (!cfg.ok) throw new Error(`${LAB_CONFIG}: ${JSON.stringify(cfg.diagnostics.slice(0, 3))}`);
  const config = cfg.value;
  const text = readFileSync(LAB_FILE, 'utf8');
  const parsed = parseGni(text);
  if (!parsed.ok) throw new Error(`${LAB_FILE} invalid: ${JSON.stringify(parsed.diagnostics.slice(0, 3))}`);
  const doc = parsed.value;
  const node = findSelf(doc, { configuredName: config.nodeName, localAddresses: [] });
  if (node === undefined) throw new Error(`${LAB_CONFIG}: node ${config.nodeName} is not in ${LAB_FILE}`);
  const state = renderOk(doc, node, config);
  const iptRules = [...state.iptables.filter.chains, ...state.iptables.nat.chains].reduce((n, ch) => n + ch.rules.length, 0);
  const ebRules = state.ebtables.nat.chains.reduce((n, ch) => n + ch.rules.length, 0);
  const parse = sample(() => parseGni(text), RUNS);
  const rend = sample(() => renderOk(doc, node, config));
  const rendWrite = sample(() => writeAll(renderOk(doc, node, config)));
  const both = sample(() => {
    const p = parseGni(text);
    if (p.ok) renderOk(p.value, node, config);
  }, RUNS);
  console.log(`| lab ${LAB_FILE.split('/').pop()} for ${node} (${LAB_CONFIG.split('/').pop()}), string input | ${Buffer.byteLength(text).toLocaleString('en')} | ${state.instances.length} | ${state.iptables.filter.chains.length - 1} | ${state.ipsets.length} | ${iptRules} | ${ebRules} | ${fmt(parse)} | ${fmt(rend)} | ${fmt(rendWrite)} | ${fmt(both)} |`);
}
