/**
 * Loading and rendering the golden scenarios of test/golden/netd/ (shared by
 * the golden test, the kernel round-trip test and the bench).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseGni } from '../../../src/shared/gni/codec.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { parseNetdConfig } from '../../../src/netd/config.ts';
import { render } from '../../../src/netd/render/render.ts';
import { renderUntrusted } from '../../../src/netd/render/sanitize.ts';
import type { DesiredState, HostFacts, NetfilterTable, SupervisedProcess } from '../../../src/netd/render/types.ts';
import { ebtablesRestoreText } from '../../../src/netd/netfilter/ebtables.ts';
import { ipsetRestoreText } from '../../../src/netd/netfilter/ipset.ts';
import { ip6tablesRestoreText, iptablesRestoreText, iptablesRuleLine } from '../../../src/netd/netfilter/iptables.ts';
import { hookRule } from '../../../src/netd/netfilter/rule.ts';

export const ROOT = new URL('.', import.meta.url).pathname;

export interface Scenario {
  readonly name: string;
  readonly dir: string;
  readonly doc: GniDocument;
  readonly node: string;
  readonly configText: string;
  readonly host: HostFacts;
  /** node.json `"untrusted": true`: rendered as a sync does, through sanitize (renderUntrusted), refusals in the warnings. */
  readonly untrusted: boolean;
}

export function loadScenario(name: string): Scenario {
  const dir = join(ROOT, name);
  let doc: GniDocument;
  if (existsSync(join(dir, 'gni.xml'))) {
    const parsed = parseGni(readFileSync(join(dir, 'gni.xml')));
    assert.ok(parsed.ok, `${name}/gni.xml: ${JSON.stringify(parsed.diagnostics)}`);
    doc = parsed.value;
  } else {
    doc = JSON.parse(readFileSync(join(dir, 'gni.json'), 'utf8')) as GniDocument;
  }
  const node = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { node: string; config: Record<string, string>; host?: HostFacts; untrusted?: boolean };
  const configText = Object.entries(node.config).map(([k, v]) => `${k}="${v}"`).join('\n');
  return { name, dir, doc, node: node.node, configText, host: node.host ?? {}, untrusted: node.untrusted === true };
}

export function scenarioNames(): string[] {
  return readdirSync(ROOT).filter((d) => statSync(join(ROOT, d)).isDirectory()).sort();
}

function withHooks(t: NetfilterTable, text: string, ebtables: boolean): string {
  const hooks = t.hooks.map((h) => (ebtables ? `# hook: -A ${h.builtin} -j ${h.target}` : `# hook: ${iptablesRuleLine(h.builtin, hookRule(h))}`));
  return [...hooks, text].join('\n');
}

/** The dhcpd entry of the supervised processes (every EDGE state has one). */
export function dhcpdEntry(state: DesiredState): SupervisedProcess {
  const p = state.processes.find((x) => x.kind === 'dhcpd');
  assert.ok(p, 'the state lists dhcpd');
  return p;
}

export function dhcpdConf(state: DesiredState): string {
  const f = dhcpdEntry(state).files.find((x) => x.name === 'dhcpd.conf');
  assert.ok(f, 'dhcpd has its dhcpd.conf');
  return f.content;
}

/** Host entries of dhcpd.conf: the golden summary's `dhcp.hostCount`. */
export function dhcpdHostCount(state: DesiredState): number {
  return (dhcpdConf(state).match(/^host /gm) ?? []).length;
}

/** Every file a scenario directory may hold (the golden test compares each, and checks the absent ones stay absent). */
export const GOLDEN_FILES = [
  'filter.rules', 'nat.rules', 'filter6.rules', 'nat6.rules', 'ebtables.rules', 'ebtables-filter.rules', 'ipsets.txt', 'dhcpd.conf', 'state.json', 'error.json',
  'routed.json', 'config-drives.txt', 'bird.conf',
] as const;

const isEmpty = (t: NetfilterTable): boolean => t.chains.length === 0 && t.hooks.length === 0;

/**
 * The files a scenario's rendered state is compared through. What an
 * IPv4-only state does not have (ip6tables tables, the ebtables filter table,
 * bridge routes, inet6 sets) adds no file and no summary key, so the goldens
 * of IPv4-only documents stay byte-identical; a dual-stack state adds
 * `filter6.rules`, `nat6.rules`, `ebtables-filter.rules` and the summary's
 * `chains.filter6`/`nat6`/`ebtablesFilter` and `bridgeRoutes`.
 */
export function goldenFiles(state: DesiredState): Record<string, string> {
  if (state.routed !== undefined) return routedGoldenFiles(state);
  const chainList = (t: NetfilterTable) => t.chains.map((c) => `${c.name} (${c.rules.length})`);
  const summary = {
    node: state.node, cluster: state.cluster, version: state.version, sequence: state.sequence,
    bridge: state.bridge, sysctls: state.sysctls, instances: state.instances,
    publicAddresses: state.publicAddresses, gateway: state.gateway,
    dhcp: { hostCount: dhcpdHostCount(state), interface: dhcpdEntry(state).interfaces.join(' ') },
    ...(state.bridgeRoutes.length > 0 ? { bridgeRoutes: state.bridgeRoutes } : {}),
    ipsets: state.ipsets.map((s) => `${s.name} ${s.type}${s.family === 'inet6' ? ' inet6' : ''} (${s.members.length})`),
    chains: {
      filter: chainList(state.iptables.filter),
      nat: chainList(state.iptables.nat),
      ...(isEmpty(state.ip6tables.filter) ? {} : { filter6: chainList(state.ip6tables.filter) }),
      ...(isEmpty(state.ip6tables.nat) ? {} : { nat6: chainList(state.ip6tables.nat) }),
      ...(isEmpty(state.ebtables.filter) ? {} : { ebtablesFilter: chainList(state.ebtables.filter) }),
      ebtablesNat: chainList(state.ebtables.nat),
    },
    warnings: state.warnings,
  };
  return {
    'filter.rules': withHooks(state.iptables.filter, iptablesRestoreText('filter', state.iptables.filter), false),
    'nat.rules': withHooks(state.iptables.nat, iptablesRestoreText('nat', state.iptables.nat), false),
    ...(isEmpty(state.ip6tables.filter) ? {} : { 'filter6.rules': withHooks(state.ip6tables.filter, ip6tablesRestoreText('filter', state.ip6tables.filter), false) }),
    ...(isEmpty(state.ip6tables.nat) ? {} : { 'nat6.rules': withHooks(state.ip6tables.nat, ip6tablesRestoreText('nat', state.ip6tables.nat), false) }),
    'ebtables.rules': withHooks(state.ebtables.nat, ebtablesRestoreText('nat', state.ebtables.nat), true),
    ...(isEmpty(state.ebtables.filter) ? {} : { 'ebtables-filter.rules': withHooks(state.ebtables.filter, ebtablesRestoreText('filter', state.ebtables.filter), true) }),
    'ipsets.txt': ipsetRestoreText(state.ipsets, { atomic: false }),
    'dhcpd.conf': dhcpdConf(state),
    'state.json': `${JSON.stringify(summary, null, 2)}\n`,
  };
}

/**
 * A ROUTED state's files (issue 17): the netfilter tables and sets as EDGE's,
 * no ebtables (nothing bridged) and no dhcpd.conf (no DHCP); `routed.json`
 * (gateways and ports), `config-drives.txt` (each drive's files; user data by
 * size), `bird.conf` when the state runs a BGP speaker; the summary names the
 * supervised daemons with whether they run.
 */
function routedGoldenFiles(state: DesiredState): Record<string, string> {
  const chainList = (t: NetfilterTable) => t.chains.map((c) => `${c.name} (${c.rules.length})`);
  const summary = {
    node: state.node, cluster: state.cluster, version: state.version, sequence: state.sequence,
    sysctls: state.sysctls, instances: state.instances, publicAddresses: state.publicAddresses, gateway: state.gateway,
    processes: state.processes.map((p) => `${p.kind} ${p.run ? 'runs' : 'must not run'}: ${p.summary}`),
    ipsets: state.ipsets.map((s) => `${s.name} ${s.type}${s.family === 'inet6' ? ' inet6' : ''} (${s.members.length})`),
    chains: {
      filter: chainList(state.iptables.filter),
      nat: chainList(state.iptables.nat),
      ...(isEmpty(state.ip6tables.filter) ? {} : { filter6: chainList(state.ip6tables.filter) }),
      ...(isEmpty(state.ip6tables.nat) ? {} : { nat6: chainList(state.ip6tables.nat) }),
    },
    warnings: state.warnings,
  };
  const drives = (state.configDrives ?? []).flatMap((d) => d.files.map((f) => `### ${d.instance}/${f.name}\n${
    f.encoding === 'base64' ? `(${Buffer.from(f.content, 'base64').length} bytes, base64 ${f.content})\n` : f.content}`));
  const bird = state.processes.find((p) => p.kind === 'bird')?.files.find((f) => f.name === 'bird.conf');
  return {
    'filter.rules': withHooks(state.iptables.filter, iptablesRestoreText('filter', state.iptables.filter), false),
    'nat.rules': withHooks(state.iptables.nat, iptablesRestoreText('nat', state.iptables.nat), false),
    ...(isEmpty(state.ip6tables.filter) ? {} : { 'filter6.rules': withHooks(state.ip6tables.filter, ip6tablesRestoreText('filter', state.ip6tables.filter), false) }),
    ...(isEmpty(state.ip6tables.nat) ? {} : { 'nat6.rules': withHooks(state.ip6tables.nat, ip6tablesRestoreText('nat', state.ip6tables.nat), false) }),
    'ipsets.txt': ipsetRestoreText(state.ipsets, { atomic: false }),
    'routed.json': `${JSON.stringify(state.routed, null, 2)}\n`,
    'config-drives.txt': drives.join('\n'),
    ...(bird === undefined ? {} : { 'bird.conf': bird.content }),
    'state.json': `${JSON.stringify(summary, null, 2)}\n`,
  };
}

export function renderScenario(s: Scenario) {
  const config = parseNetdConfig(s.configText);
  assert.ok(config.ok, `${s.name}: config: ${JSON.stringify(config.diagnostics)}`);
  const result = s.untrusted
    ? renderUntrusted(s.doc, { node: s.node }, config.value, s.host, { hostAddresses: s.host.bridgeAddresses ?? [] })
    : render(s.doc, { node: s.node }, config.value, s.host);
  return { config: config.value, result };
}

