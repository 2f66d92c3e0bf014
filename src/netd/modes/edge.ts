/**
 * The EDGE mode on the node (Eucalyptus 4.4 EDGE, eucalyptus-edge.md): VMs
 * bridged on the cluster's private subnet, security groups as iptables chains
 * over ipsets, ebtables anti-spoofing, public IPs by DNAT/SNAT on this host,
 * dhcpd for the local instances. The tables themselves come from the
 * renderers in render/; this file assembles them into the DesiredState.
 */
import { buildContext, sortIps } from '../render/context.ts';
import { renderDhcpd } from '../render/dhcpd.ts';
import { renderRadvd } from '../render/radvd.ts';
import { renderEbtables } from '../render/ebtables.ts';
import { renderFilter, renderFilter6 } from '../render/filter.ts';
import { renderIpsets } from '../render/ipsets.ts';
import { renderNat, renderNat6 } from '../render/nat.ts';
import type { DesiredState } from '../render/types.ts';
import type { NetdMode, NetdModeInput } from './netd-mode.ts';

/** Kernel switches EDGE needs: routing between the bridge and the public side, and bridged frames through iptables. */
const EDGE_SYSCTLS = [
  { key: 'net.ipv4.ip_forward', value: '1' },
  { key: 'net.bridge.bridge-nf-call-iptables', value: '1' },
] as const;

/**
 * A dual-stack cluster also needs: IPv6 routing (the node is its instances'
 * IPv6 router) and bridged IPv6 through ip6tables (security groups). Note:
 * forwarding=1 makes the kernel ignore router advertisements on the node's
 * own interfaces (accept_ra=1), so a node's own IPv6 is configured statically
 * or with accept_ra=2 (docs/netd-rules.md "IPv6").
 */
const EDGE_SYSCTLS_IPV6 = [
  { key: 'net.ipv6.conf.all.forwarding', value: '1' },
  { key: 'net.bridge.bridge-nf-call-ip6tables', value: '1' },
] as const;

function renderEdge(input: NetdModeInput): DesiredState {
  const { doc, node, config, host } = input;
  const ctx = buildContext({ doc, node, config, host });
  const filter = renderFilter(ctx);
  const nat = renderNat(ctx);
  const ebtables = renderEbtables(ctx);
  const ipsets = renderIpsets(ctx);
  const filter6 = renderFilter6(ctx);
  const nat6 = renderNat6(ctx);
  // Supervised daemons (one entry per kind, sorted by kind): dhcpd for the local instances, radvd on a dual-stack cluster.
  const processes = [renderDhcpd(ctx), renderRadvd(ctx)];
  const state: DesiredState = {
    node,
    cluster: ctx.cluster.name,
    version: doc.version,
    ...(doc.sequence === undefined ? {} : { sequence: doc.sequence }),
    bridge: { name: config.bridge, members: config.privateInterface === '' ? [] : [config.privateInterface] },
    sysctls: [...EDGE_SYSCTLS, ...(ctx.ipv6 === undefined ? [] : EDGE_SYSCTLS_IPV6)].map((s) => ({ ...s })),
    instances: ctx.locals,
    ipsets,
    iptables: { filter, nat },
    ip6tables: { filter: filter6, nat: nat6 },
    ebtables,
    processes,
    publicAddresses: {
      interface: config.publicInterface,
      addresses: sortIps(ctx.locals.flatMap((i) => (i.publicIp === undefined ? [] : [`${i.publicIp}/32`]))),
      pool: [...doc.configuration.publicIps],
    },
    ...(config.ncProxy ? { proxyArp: { interface: config.bridge, addresses: sortIps(ctx.locals.map((i) => i.privateIp)) } } : {}),
    gateway: ctx.gateway,
    // The cluster's /64 on-link on the bridge: instances on other nodes are reached over the LAN, local ones over vn_ ports.
    bridgeRoutes: ctx.ipv6 === undefined ? [] : [ctx.ipv6.prefixText],
    warnings: [...ctx.warnings],
  };
  if (config.publicInterface === '' && state.publicAddresses.addresses.length > 0) {
    (state.warnings as string[]).push('VNET_PUBINTERFACE is not set: public addresses are not placed on any interface');
  }
  return state;
}

export const edgeMode: NetdMode = { name: 'EDGE', render: renderEdge };
