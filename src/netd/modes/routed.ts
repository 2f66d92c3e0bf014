/**
 * ROUTED on the node (issue 17): every local instance's port `vn_<id>` is a
 * routed point-to-point link — the gateway addresses on the host side, a /32
 * and a /128 route plus a permanent neighbour entry per instance address,
 * proxy ARP, forwarding (RoutedState, laid down by plan/ and apply/);
 * anti-spoofing by source address per port; the security groups with EDGE's
 * group chains and sets; a BGP speaker (BIRD) announcing exactly the local
 * instances' routes; a config drive per instance. No bridge, no NAT of
 * instance addresses (only the metadata DNAT), no DHCP, no router
 * advertisements.
 *
 * The parts come from render/: routed-context.ts (what the document means on
 * this node, or a RenderFailure), routed-filter.ts (filter, nat, ipsets),
 * bird.ts (the speaker: BIRD, or ROUTED_BGP_INVALID for settings that fail
 * checkNodeBgp), config-drive.ts (the drives); this file assembles them into
 * the DesiredState.
 */
import { instanceUserData, nodeBgpText, ROUTED_PORT_MAC } from '../../shared/gni/routed.ts';
import { DHCPD_KIND } from '../render/dhcpd.ts';
import { RADVD_KIND } from '../render/radvd.ts';
import { renderConfigDrive } from '../render/config-drive.ts';
import { renderNat6 } from '../render/nat.ts';
import { buildRoutedContext, type RoutedContext } from '../render/routed-context.ts';
import { renderRoutedFilter, renderRoutedFilter6, renderRoutedIpsets, renderRoutedNat } from '../render/routed-filter.ts';
import type { ConfigDrive, DesiredState, RoutedPort, SupervisedProcess } from '../render/types.ts';
import type { NetdMode, NetdModeInput } from './netd-mode.ts';
import { renderBird, type BirdInput } from '../render/bird.ts';

/**
 * What the BGP speaker's renderer gets (render/bird.ts BirdInput): the node,
 * its `bgp` extension as the document says it (checked there, checkNodeBgp),
 * the cluster's addressing and the local ports, whose addresses are exactly
 * what the node announces.
 */
export type RoutedBgpInput = BirdInput;

/** The parts a test may replace; the registered mode uses the real ones. */
export interface RoutedModeParts {
  /** The BGP speaker's SupervisedProcess; its warnings go to the state's. */
  readonly bgpSpeaker: (input: RoutedBgpInput, warnings: string[]) => SupervisedProcess;
}

/** The node routes: IPv4 always (instances' /32s, elastic ones too); IPv6 when the cluster has a prefix. */
function routedSysctls(ctx: RoutedContext): { key: string; value: string }[] {
  return [
    { key: 'net.ipv4.ip_forward', value: '1' },
    ...(ctx.ipv6 === undefined ? [] : [{ key: 'net.ipv6.conf.all.forwarding', value: '1' }]),
  ];
}

/** dhcpd and radvd listed as must-not-run, so a node switched from EDGE stops them and removes their files. */
function stoppedDaemons(): SupervisedProcess[] {
  return [
    { kind: DHCPD_KIND, run: false, interfaces: [], files: [], reload: { kind: 'restart' }, summary: 'ROUTED: no DHCP (instances read their config drive): dhcpd must not run' },
    { kind: RADVD_KIND, run: false, interfaces: [], files: [], reload: { kind: 'signal', signal: 'SIGHUP' }, summary: 'ROUTED: no router advertisements (instances read their config drive): radvd must not run' },
  ];
}

function ports(ctx: RoutedContext): RoutedPort[] {
  return ctx.routedLocals
    .map((l) => ({ instance: l.instance.id, interface: l.instance.interface, instanceMac: l.instance.mac, hostMac: ROUTED_PORT_MAC, addresses: l.prefixes }))
    .sort((a, b) => (a.interface < b.interface ? -1 : a.interface > b.interface ? 1 : 0));
}

function configDrives(ctx: RoutedContext): ConfigDrive[] {
  const conf = ctx.doc.configuration;
  // Both families' name servers: the configuration's (the property's InstanceDnsServers) and the cluster's IPv6 ones; each drive keeps its instance's families.
  const dnsServers = [...new Set([...conf.instanceDnsServers, ...(ctx.ipv6?.dnsServers ?? [])])];
  return ctx.routedLocals.map((l) => {
    const userData = instanceUserData(l.record);
    return renderConfigDrive({
      instance: l.instance.id,
      mac: l.instance.mac,
      ...(l.instance.privateIp === '' ? {} : { ipv4: l.instance.privateIp }),
      ...(l.instance.ipv6 === undefined ? {} : { ipv6: l.instance.ipv6 }),
      ...(l.instance.publicIp === undefined ? {} : { elasticIpv4: l.instance.publicIp }),
      ...(ctx.gatewayIpv4 === undefined ? {} : { gatewayIpv4: ctx.gatewayIpv4 }),
      ...(ctx.gatewayIpv6 === undefined ? {} : { gatewayIpv6: ctx.gatewayIpv6 }),
      dnsServers,
      ...(conf.instanceDnsDomain === undefined ? {} : { dnsDomain: conf.instanceDnsDomain }),
      ...(userData === undefined ? {} : { userData }),
    }, ctx.warnings);
  });
}

export function renderRoutedWith(input: NetdModeInput, parts: RoutedModeParts): DesiredState {
  const { doc, node } = input;
  const ctx = buildRoutedContext(input);
  const filter = renderRoutedFilter(ctx);
  const nat = renderRoutedNat(ctx);
  const filter6 = renderRoutedFilter6(ctx);
  const nat6 = renderNat6(ctx);
  const ipsets = renderRoutedIpsets(ctx);
  const routedPorts = ports(ctx);
  const speaker = parts.bgpSpeaker({
    node, cluster: ctx.cluster.name,
    bgp: nodeBgpText(ctx.cluster.nodes.find((n) => n.name === node)!),
    addressing: ctx.addressing,
    ports: routedPorts.map((p) => ({ interface: p.interface, addresses: p.addresses })),
  }, ctx.warnings);
  const processes = [speaker, ...stoppedDaemons()].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  const drives = configDrives(ctx);
  return {
    node,
    cluster: ctx.cluster.name,
    version: doc.version,
    ...(doc.sequence === undefined ? {} : { sequence: doc.sequence }),
    sysctls: routedSysctls(ctx),
    instances: ctx.locals,
    ipsets,
    iptables: { filter, nat },
    ip6tables: { filter: filter6, nat: nat6 },
    ebtables: { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } },
    processes,
    // Elastic addresses are routed /32s on their instance's port, never addresses of this node: none is
    // wanted on the public interface, and one left there by EDGE (ours by label or pool) is removed, or the
    // node would answer for an address routed to an instance.
    publicAddresses: { interface: input.config.publicInterface, addresses: [], pool: [...doc.configuration.publicIps] },
    gateway: ctx.gateway,
    bridgeRoutes: [],
    routed: {
      ...(ctx.gatewayIpv4 === undefined ? {} : { gatewayIpv4: ctx.gatewayIpv4 }),
      ...(ctx.gatewayIpv6 === undefined ? {} : { gatewayIpv6: ctx.gatewayIpv6 }),
      ports: routedPorts,
    },
    configDrives: drives,
    warnings: [...ctx.warnings],
  };
}

export const routedMode: NetdMode = { name: 'ROUTED', render: (input) => renderRoutedWith(input, { bgpSpeaker: renderBird }) };
