/**
 * ROUTED test documents (issue 17), written with the CLC's own writers
 * (shared/gni/routed.ts, shared/gni/ipv6.ts) the way cloud-controller/modes/routed.ts
 * extends a mapped document: configuration `routed` gateways, a cluster
 * `routed` addressing with its IPv4 pool (`privateIps`) and/or IPv6 prefix,
 * each node's `bgp`, instances addressed from the pool and the EUI-64 of
 * their MAC.
 */
import { clusterIpv6Extension, configurationIpv6Extension, groupIpv6Extension, instanceIpv6Extension } from '../../src/shared/gni/ipv6.ts';
import type { GniDocument, GniInstance, GniSecurityGroup } from '../../src/shared/gni/model.ts';
import {
  clusterRoutedExtension, configurationRoutedExtension, instanceRoutedExtension, nodeBgpExtension, ROUTED_LINK_SUBNET, type RoutedAddressing,
} from '../../src/shared/gni/routed.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../../src/shared/ip.ts';

export const ROUTED_NODE = '172.31.0.11';
export const ROUTED_NODE2 = '172.31.0.12';
export const ROUTED_PREFIX = '2001:db8:50::/64';
export const ROUTED_POOL = '10.50.0.10-10.50.0.200';
export const ROUTED_PUBLIC = '10.60.0.1-10.60.0.9';

export interface RoutedInstanceSpec {
  readonly id: string;
  readonly mac: string;
  /** Routed IPv4 (`privateIp`); omit for an IPv6-only instance. */
  readonly ipv4?: string;
  /** Elastic IPv4 (`publicIp`). */
  readonly elastic?: string;
  /** true: the EUI-64 of `mac` in ROUTED_PREFIX; a string: that address as written. */
  readonly ipv6?: boolean | string;
  readonly groups?: readonly string[];
  readonly node?: string;
  /** Base64 user data. */
  readonly userData?: string;
}

export function eui64(mac: string, prefix = ROUTED_PREFIX): string {
  return formatIpv6(slaacAddress(parseCidr6(prefix)!, mac)!);
}

export function routedInstance(s: RoutedInstanceSpec): GniInstance {
  const v6 = s.ipv6 === true ? eui64(s.mac) : typeof s.ipv6 === 'string' ? s.ipv6 : undefined;
  const user = instanceRoutedExtension(s.userData);
  const extensions = [...(v6 === undefined ? [] : [instanceIpv6Extension(v6)]), ...(user === undefined ? [] : [user])];
  return {
    name: s.id, ownerId: '000000000001', macAddress: s.mac,
    ...(s.elastic === undefined ? {} : { publicIp: s.elastic }),
    ...(s.ipv4 === undefined ? {} : { privateIp: s.ipv4 }),
    securityGroups: [...(s.groups ?? ['sg-0000000a'])],
    ...(extensions.length === 0 ? {} : { extensions }),
  };
}

export const WEB_GROUP: GniSecurityGroup = {
  name: 'sg-0000000a', ownerId: '000000000001',
  ingressRules: [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }, { protocol: 1, icmpType: -1, icmpCode: -1, cidr: '0.0.0.0/0' }],
  extensions: [groupIpv6Extension([{ protocol: 6, fromPort: 22, toPort: 22, cidr: '::/0' }, { protocol: 58, icmpType: -1, icmpCode: -1, cidr: '::/0' }])!],
};

export interface RoutedDocSpec {
  readonly addressing?: RoutedAddressing;
  readonly instances: readonly RoutedInstanceSpec[];
  readonly gateways?: { readonly ipv4: string; readonly ipv6: string };
  readonly publicIps?: readonly string[];
  /** The CLC's IPv6 address (configuration `ipv6` clc-address); default fd00:172:31::2, '' for none. */
  readonly clcIpv6?: string;
}

/** A one-cluster ROUTED document with two nodes (ROUTED_NODE, ROUTED_NODE2); instances go to ROUTED_NODE unless they say. */
export function routedDoc(spec: RoutedDocSpec): GniDocument {
  const addressing = spec.addressing ?? 'dual';
  const v4 = addressing !== 'ipv6';
  const v6 = addressing !== 'ipv4';
  const clcIpv6 = spec.clcIpv6 ?? 'fd00:172:31::2';
  const bgp = (routerId: string) => nodeBgpExtension({
    localAs: 65001, routerId, peers: [{ address: '172.31.0.1', as: 65000 }], communities: ['65001:100'],
  });
  const ids = (node: string) => spec.instances.filter((i) => (i.node ?? ROUTED_NODE) === node).map((i) => i.id);
  return {
    version: 'v-routed',
    sequence: 7,
    configuration: {
      mode: 'ROUTED',
      publicIps: [...(spec.publicIps ?? [ROUTED_PUBLIC])],
      enabledClcIp: '172.31.0.2',
      instanceDnsDomain: 'eucalyptus.internal',
      // IPv6 name servers travel in the cluster's ipv6 extension (the 4.4 field holds IPv4 only).
      instanceDnsServers: ['198.51.100.53'],
      subnets: [],
      clusters: [{
        name: 'c1',
        subnet: { name: 'routed', subnet: ROUTED_LINK_SUBNET.subnet, netmask: ROUTED_LINK_SUBNET.netmask, gateway: spec.gateways?.ipv4 ?? '169.254.0.1' },
        enabledCcIp: '172.31.0.3',
        macPrefix: 'd0:0d',
        privateIps: v4 ? [ROUTED_POOL] : [],
        nodes: [
          { name: ROUTED_NODE, instanceIds: ids(ROUTED_NODE), extensions: [bgp(ROUTED_NODE)] },
          { name: ROUTED_NODE2, instanceIds: ids(ROUTED_NODE2), extensions: [bgp(ROUTED_NODE2)] },
        ],
        extensions: [clusterRoutedExtension(addressing), ...(v6 ? [clusterIpv6Extension({ prefix: ROUTED_PREFIX, dnsServers: ['2001:db8:ffff::53'] })] : [])],
      }],
      extensions: [
        configurationRoutedExtension(spec.gateways ?? { ipv4: '169.254.0.1', ipv6: 'fe80::1' }),
        ...(v6 && clcIpv6 !== '' ? [configurationIpv6Extension(clcIpv6)] : []),
      ],
    },
    instances: spec.instances.map(routedInstance),
    securityGroups: [WEB_GROUP],
  };
}
