/**
 * The global network information (GNI) document as data: the in-memory form of
 * the Eucalyptus 4.4 EDGE `<network-data>` XML (see architecture.md §3.2 and
 * eucalyptus-edge.md §2). The codec (`codec.ts`) turns XML into this model and
 * back; the CLC's builder produces it; netd's renderer consumes it.
 *
 * Conventions:
 * - field names follow the XML element names (camelCase), except that
 *   `property[@name=X]` children of `configuration` become typed fields;
 * - lists are always present (possibly empty); absent optional scalars are
 *   `undefined` (the XML omits them);
 * - IPs are dotted quads, MACs lower-case `hh:hh:hh:hh:hh:hh`, IP lists hold
 *   single addresses or `lo-hi` ranges exactly as configured.
 *
 * edgenet additions (tolerated by Eucalyptus-era readers, optional for ours):
 * the root attributes `sequence` (monotonic broadcast number) and `generation`
 * (the CLC database's epoch, which orders sequences across a restore; see
 * shared/freshness.ts and docs/gni.md); and `extensions` on the configuration,
 * clusters, nodes, instances and security groups: data of modes other than
 * EDGE, in elements a 4.4 reader ignores (extension.ts). `extensions` is
 * absent when an element has none; an empty list is written as none.
 */
import type { Extensible } from './extension.ts';

export type { Extensible, GniExtension, GniExtensionProperty } from './extension.ts';

export interface GniDocument {
  /** Content hash of the document (root attribute `version`). */
  readonly version: string;
  /** Monotonic sequence assigned by the CLC (root attribute `sequence`); undefined in Eucalyptus documents. */
  readonly sequence?: number;
  /** Epoch of the CLC database that drew `sequence` (root attribute `generation`); undefined in Eucalyptus documents. */
  readonly generation?: number;
  readonly configuration: GniConfiguration;
  readonly instances: readonly GniInstance[];
  readonly securityGroups: readonly GniSecurityGroup[];
}

export interface GniConfiguration extends Extensible {
  /** A name of NETWORK_MODES (mode.ts): `EDGE` (absent in 4.0 documents, which are EDGE by definition). */
  readonly mode?: string;
  readonly publicIps: readonly string[];
  readonly enabledClcIp?: string;
  readonly instanceDnsDomain?: string;
  readonly instanceDnsServers: readonly string[];
  readonly publicGateway?: string;
  /** Top-level subnets not used by any cluster: reached from instances without SNAT. */
  readonly subnets: readonly GniSubnet[];
  readonly clusters: readonly GniCluster[];
}

export interface GniSubnet {
  /** The `name` attribute; equals `subnet` in documents Eucalyptus produced. */
  readonly name: string;
  readonly subnet: string;
  readonly netmask: string;
  readonly gateway: string;
}

export interface GniCluster extends Extensible {
  readonly name: string;
  readonly subnet: GniSubnet;
  readonly enabledCcIp?: string;
  readonly macPrefix: string;
  readonly privateIps: readonly string[];
  readonly nodes: readonly GniNode[];
}

export interface GniNode extends Extensible {
  /** The node controller's registered address. */
  readonly name: string;
  readonly instanceIds: readonly string[];
}

export interface GniInstance extends Extensible {
  /** Instance id, e.g. `i-1a2b3c4d`. */
  readonly name: string;
  readonly ownerId: string;
  readonly macAddress?: string;
  readonly publicIp?: string;
  /** Always present in EDGE; absent only for an instance of an IPv6-only ROUTED cluster (issue 17), which has no IPv4 address. */
  readonly privateIp?: string;
  /** Security group ids, in the order the instance lists them. */
  readonly securityGroups: readonly string[];
}

export interface GniSecurityGroup extends Extensible {
  /** Group id, e.g. `sg-0a0b0c0d`. */
  readonly name: string;
  readonly ownerId: string;
  readonly ingressRules: readonly GniRule[];
}

/**
 * One ingress permission, exploded: exactly one source (a CIDR or a group).
 * `protocol` is the IANA number (1 icmp, 6 tcp, 17 udp, 132 sctp, ...).
 * tcp/udp carry `fromPort`/`toPort`; icmp carries `icmpType`/`icmpCode`
 * (-1 = any); other protocols carry neither.
 */
export interface GniRule {
  readonly protocol: number;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly cidr?: string;
  readonly groupId?: string;
  readonly groupOwnerId?: string;
}

/** The rule model's protocol names (icmp, tcp, udp, sctp), from the one protocol table. */
export { GNI_PROTOCOL_NUMBERS as PROTOCOL_NUMBERS, gniProtocolName as protocolName } from '../protocols.ts';
