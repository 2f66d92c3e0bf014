/**
 * A readable dump of a DesiredState, section by section, with every table in
 * the exact restore text the applier would write. Used by `edgenet netd plan`
 * and by humans reading golden files. Pure.
 */
import { ebtablesRestoreText, ebtablesRuleLine } from '../netfilter/ebtables.ts';
import { ipsetRestoreText } from '../netfilter/ipset.ts';
import { ip6tablesRestoreText, iptablesRestoreText, iptablesRuleLine } from '../netfilter/iptables.ts';
import { hookRule } from '../netfilter/rule.ts';
import type { DesiredState, NetfilterTable } from './types.ts';

function hooks(t: NetfilterTable, ebtables: boolean): string[] {
  return t.hooks.map((h) => (ebtables
    ? `# hook: ${ebtablesRuleLine(h.builtin, hookRule(h))}   (${h.comment})`
    : `# hook: ${iptablesRuleLine(h.builtin, hookRule(h))}`));
}

export function describeState(state: DesiredState): string {
  const out: string[] = [];
  const section = (title: string) => out.push('', `## ${title}`);
  out.push(`# edgenet netd plan: node ${state.node} (cluster ${state.cluster}), document version ${state.version}${state.sequence === undefined ? '' : `, sequence ${state.sequence}`}`);
  section('bridge');
  const bridge = state.bridge;
  if (bridge === undefined) out.push('(none: routed ports, no shared L2)');
  else out.push(`${bridge.name}${bridge.members.length > 0 ? ` with ${bridge.members.join(', ')}` : ' (no private interface configured)'}`);
  section('sysctls');
  for (const s of state.sysctls) out.push(`${s.key} = ${s.value}`);
  section(`instances (${state.instances.length})`);
  for (const i of state.instances) {
    out.push(`${i.id}  ${i.interface}  ${i.mac}  ${i.privateIp || '(no IPv4)'}${i.ipv6 ? `  ${i.ipv6}` : ''}${i.publicIp ? ` → ${i.publicIp}` : ''}  [${i.securityGroups.join(' ')}]`);
  }
  const routed = state.routed;
  if (routed !== undefined) {
    section(`routed ports (${routed.ports.length})`);
    const gateways = [routed.gatewayIpv4 === undefined ? [] : [`${routed.gatewayIpv4}/32`], routed.gatewayIpv6 === undefined ? [] : [`${routed.gatewayIpv6}/64`]].flat();
    out.push(`gateways on every port: ${gateways.join(', ') || '(none)'}`);
    for (const p of routed.ports) {
      out.push(`${p.interface}  ${p.instance}  host ${p.hostMac} → instance ${p.instanceMac}  routes ${p.addresses.join(' ') || '(none)'}`);
    }
  }
  section(`public addresses on ${state.publicAddresses.interface || '(VNET_PUBINTERFACE unset)'}`);
  out.push(...(state.publicAddresses.addresses.length > 0 ? state.publicAddresses.addresses : ['(none)']));
  out.push(`gateway for instances: ${state.gateway || '(none)'}`);
  section('ipsets (ipset restore)');
  out.push(ipsetRestoreText(state.ipsets, { atomic: false }).trimEnd());
  section('iptables filter (iptables-restore --noflush)');
  out.push(...hooks(state.iptables.filter, false), iptablesRestoreText('filter', state.iptables.filter).trimEnd());
  section('iptables nat (iptables-restore --noflush)');
  out.push(...hooks(state.iptables.nat, false), iptablesRestoreText('nat', state.iptables.nat).trimEnd());
  // IPv6 (dual-stack clusters only: an IPv4-only state prints exactly what it printed before).
  for (const table of ['filter', 'nat'] as const) {
    const t = state.ip6tables[table];
    if (t.chains.length === 0 && t.hooks.length === 0) continue;
    section(`ip6tables ${table} (ip6tables-restore --noflush)`);
    out.push(...hooks(t, false), ip6tablesRestoreText(table, t).trimEnd());
  }
  if (state.bridgeRoutes.length > 0) {
    const name = state.bridge?.name ?? '(no bridge)';
    section(`IPv6 routes on ${name} (ip -6 route replace … dev ${name} proto <netd's>)`);
    out.push(...state.bridgeRoutes);
  }
  section('ebtables nat (ebtables-restore --noflush)');
  out.push(...hooks(state.ebtables.nat, true), ebtablesRestoreText('nat', state.ebtables.nat).trimEnd());
  if (state.ebtables.filter.chains.length > 0) {
    section('ebtables filter (ebtables-restore --noflush)');
    out.push(...hooks(state.ebtables.filter, true), ebtablesRestoreText('filter', state.ebtables.filter).trimEnd());
  }
  if (state.routed !== undefined) {
    // ROUTED lists dhcpd and radvd as must-not-run (no files to show): say so.
    section('supervised daemons');
    for (const p of state.processes) out.push(`${p.kind}: ${p.run ? 'runs' : 'must not run'} (${p.summary})`);
  }
  for (const p of state.processes) {
    for (const f of p.files) {
      section(`${f.name}${p.interfaces.length > 0 ? ` on ${p.interfaces.join(', ')}` : ''} (${p.summary})`);
      out.push(f.content.trimEnd());
    }
  }
  for (const d of state.configDrives ?? []) {
    section(`config drive ${d.instance}`);
    for (const f of d.files) {
      out.push(`### ${f.name}`);
      // User data need not be text (render/config-drive.ts): its size, not its bytes.
      out.push(f.encoding === 'base64' ? `(${Buffer.from(f.content, 'base64').length} bytes)` : f.content.trimEnd());
    }
  }
  if (state.warnings.length > 0) {
    section('warnings');
    for (const w of state.warnings) out.push(`warning: ${w}`);
  }
  return `${out.join('\n')}\n`;
}
