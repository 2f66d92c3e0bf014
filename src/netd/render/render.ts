/**
 * render: the pure function from (GNI document, this node, netd config, host
 * facts) to the DesiredState of this host (architecture.md §4). No fs, exec,
 * clock or env: the applier reads host facts first and passes them in.
 *
 * Failure is data: `{ok: false, code, message}` (node not in the document,
 * gateway unresolvable, ...). The caller keeps the previous state applied.
 * Every output list is sorted so equal inputs give equal states.
 */
import type { GniDocument } from '../../shared/gni/model.ts';
import { parseIp } from '../../shared/ip.ts';
import type { NetdConfig } from '../config.ts';
import { RenderFailure, buildContext, sortIps } from './context.ts';
import { renderDhcpd } from './dhcpd.ts';
import { renderEbtables } from './ebtables.ts';
import { renderFilter } from './filter.ts';
import { renderIpsets } from './ipsets.ts';
import { renderNat } from './nat.ts';
import type { DesiredState, HostFacts, RenderResult } from './types.ts';

export type { HostFacts, RenderResult } from './types.ts';

export const SYSCTLS = [
  { key: 'net.ipv4.ip_forward', value: '1' },
  { key: 'net.bridge.bridge-nf-call-iptables', value: '1' },
] as const;

export function render(gni: GniDocument, self: { node: string }, config: NetdConfig, host: HostFacts = {}): RenderResult {
  try {
    const ctx = buildContext({ doc: gni, node: self.node, config, host });
    const filter = renderFilter(ctx);
    const nat = renderNat(ctx);
    const ebtables = renderEbtables(ctx);
    const ipsets = renderIpsets(ctx);
    const dhcp = renderDhcpd(ctx);
    const state: DesiredState = {
      node: self.node,
      cluster: ctx.cluster.name,
      version: gni.version,
      ...(gni.sequence === undefined ? {} : { sequence: gni.sequence }),
      bridge: { name: config.bridge, members: config.privateInterface === '' ? [] : [config.privateInterface] },
      sysctls: SYSCTLS.map((s) => ({ ...s })),
      instances: ctx.locals,
      ipsets,
      iptables: { filter, nat },
      ebtables,
      dhcp,
      publicAddresses: {
        interface: config.publicInterface,
        addresses: sortIps(ctx.locals.flatMap((i) => (i.publicIp === undefined ? [] : [`${i.publicIp}/32`]))),
        pool: [...gni.configuration.publicIps],
      },
      gateway: ctx.gateway,
      warnings: [...ctx.warnings],
    };
    if (config.publicInterface === '' && state.publicAddresses.addresses.length > 0) {
      (state.warnings as string[]).push('VNET_PUBINTERFACE is not set: public addresses are not placed on any interface');
    }
    return { ok: true, state };
  } catch (err) {
    if (err instanceof RenderFailure) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

/**
 * Which node of the document this host is: the configured name if it is in
 * the document (a configured name that is not there gives undefined rather
 * than a guess), else the first node (in document order) whose name is one of
 * the local addresses (`a.b.c.d` or `a.b.c.d/len`).
 */
export function findSelf(gni: GniDocument, candidates: { configuredName?: string; localAddresses: readonly string[] }): string | undefined {
  const nodes = gni.configuration.clusters.flatMap((c) => c.nodes.map((n) => n.name));
  if (candidates.configuredName !== undefined && candidates.configuredName !== '') {
    return nodes.includes(candidates.configuredName) ? candidates.configuredName : undefined;
  }
  const local = new Set(candidates.localAddresses.map((a) => a.split('/')[0] ?? a).filter((a) => parseIp(a) !== undefined));
  return nodes.find((n) => local.has(n));
}
