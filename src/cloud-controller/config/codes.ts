/**
 * The one registry of diagnostic codes for `cloud.network.network_configuration`.
 *
 * Model: code → {severity, meaning}. Codes are stable API: tests, the CLI's
 * `--json` output, the HTTP API and docs/config.md refer to them, so a code is
 * never renamed or reused for another meaning; new checks get new codes.
 * Errors make a document invalid; warnings are reported but do not.
 * docs/config.md lists every code (test/unit/config/docs.test.ts keeps it in sync).
 */
import type { Diagnostic, Severity } from '../../shared/diagnostics.ts';
import { NETWORK_MODES } from '../../shared/gni/mode.ts';

export interface ConfigCodeInfo {
  readonly severity: Severity;
  readonly meaning: string;
}

const REGISTRY = {
  // Document level: syntax and shape (JSON Schema, schemas/network_configuration.schema.json).
  JSON_SYNTAX: { severity: 'error', meaning: 'The document is not valid JSON (empty, truncated or malformed); the message gives line and column.' },
  TYPE_MISMATCH: { severity: 'error', meaning: 'A value has the wrong JSON type (for example a string where a list is expected, or null as a list entry).' },
  UNKNOWN_KEY: { severity: 'error', meaning: 'A key that the property does not define (keys are PascalCase and case-sensitive), or a top-level or cluster key that only another mode than the document\'s defines (a cloud runs one mode).' },
  REQUIRED: { severity: 'error', meaning: 'A required key is missing (EDGE: PublicIps; a subnet\'s Subnet, Netmask and Gateway; a cluster\'s Name; a cluster Subnet needs a Name or an inline definition. ROUTED: Clusters; a cluster\'s or node\'s Name; a BGP peer\'s Address and Asn).' },
  LIST_EMPTY: { severity: 'error', meaning: 'A list that must have entries is empty (PublicIps; in ROUTED also Clusters, a cluster\'s Ipv4Pool and a Bgp\'s Peers).' },
  NAME_INVALID: { severity: 'error', meaning: 'A cluster or subnet Name has leading or trailing whitespace or control characters, or is longer than 255 characters (an empty Name is unset: VALUE_UNSET, then REQUIRED for a cluster).' },
  IP_INVALID: { severity: 'error', meaning: 'Not a dotted-quad IPv4 address (Subnet, Netmask, Gateway, InstanceDnsServers entries, ROUTED\'s InstanceGateway.Ipv4 and RouterId); where IPv6 is accepted too (a ROUTED property\'s InstanceDnsServers, a BGP peer\'s Address), neither an IPv4 nor an IPv6 address.' },
  IP_RANGE_INVALID: { severity: 'error', meaning: 'An IP list entry is neither a single IPv4 address nor a range "a.b.c.d-e.f.g.h" (nor, in a ROUTED cluster\'s Ipv4Pool, a CIDR "a.b.c.d/n").' },
  MAC_PREFIX_INVALID: { severity: 'error', meaning: 'A MacPrefix is not two hexadecimal bytes separated by a colon ("d0:0d").' },
  DOMAIN_INVALID: { severity: 'error', meaning: 'InstanceDnsDomain is not a domain name: labels of 1-63 letters, digits or hyphens (not at either end), separated by single dots, no leading or trailing dot, at most 253 characters, last label not numeric.' },
  MODE_UNSUPPORTED: { severity: 'error', meaning: `Mode names no mode edgenet implements (${NETWORK_MODES.map((m) => `"${m}"`).join(', ')}).` },
  IPV6_INVALID: { severity: 'error', meaning: 'Not an IPv6 address in RFC 4291 text form: hexadecimal groups, one "::" at most, optionally a dotted quad as the last 32 bits, no zone id (Ipv6DnsServers entries).' },
  IPV6_PREFIX_INVALID: { severity: 'error', meaning: 'An Ipv6Prefix is not an IPv6 address followed by "/" and a length of 0-128 ("2001:db8:10::/64").' },
  IPV6_DNS_SERVERS_TOO_MANY: { severity: 'error', meaning: 'Ipv6DnsServers (or the IPv6 entries of a ROUTED property\'s InstanceDnsServers) lists more than 3 name servers (a resolver uses 3, resolv.conf MAXNS, and one radvd RDNSS line holds 3).' },
  SCHEMA_VIOLATION: { severity: 'error', meaning: 'A schema rule without a more specific code failed (should not happen; report it as a bug).' },

  // Values that parse but are wrong on their own.
  RANGE_REVERSED: { severity: 'error', meaning: 'An IP range whose first address is above its last.' },
  MAC_PREFIX_MULTICAST: { severity: 'error', meaning: 'A MacPrefix whose first byte has the multicast bit set: instance MACs built from it could not be unicast.' },
  NETMASK_NONCONTIGUOUS: { severity: 'error', meaning: 'A Netmask whose one bits are not contiguous (255.255.0.1).' },
  SUBNET_UNALIGNED: { severity: 'error', meaning: 'A Subnet address with host bits set for its Netmask (subnet & netmask != subnet).' },
  SUBNET_TOO_SMALL: { severity: 'error', meaning: 'A subnet of prefix /31 or /32 has no room for a gateway and instances.' },
  GATEWAY_OUTSIDE_SUBNET: { severity: 'error', meaning: 'A Gateway that is not inside its subnet.' },
  GATEWAY_RESERVED_ADDRESS: { severity: 'error', meaning: 'A Gateway equal to its subnet\'s network or broadcast address.' },
  DNS_SERVER_INVALID: { severity: 'error', meaning: 'An InstanceDnsServers entry is 0.0.0.0 or 255.255.255.255, which cannot be a name server.' },
  IPV6_PREFIX_LENGTH: { severity: 'error', meaning: 'An Ipv6Prefix that is not a /64: instances form their address by SLAAC from the EUI-64 of their MAC, a 64-bit interface id, so the prefix is exactly 64 bits (a shorter one would leave bits nobody fills, a longer one has no room for the id).' },
  IPV6_PREFIX_UNALIGNED: { severity: 'error', meaning: 'An Ipv6Prefix with bits set past its length (2001:db8:10::1/64); write the network address (2001:db8:10::/64).' },
  IPV6_PREFIX_RESERVED: { severity: 'error', meaning: 'An Ipv6Prefix outside global unicast (2000::/3) and unique local (fc00::/7) addresses: link-local, multicast, the ::/64 that holds the unspecified, loopback and IPv4-mapped addresses, and every other special range are refused, and so is fd00:ec2::/64, which holds the metadata address fd00:ec2::254.' },
  IPV6_DNS_SERVER_RESERVED: { severity: 'error', meaning: 'An Ipv6DnsServers entry (or an IPv6 entry of a ROUTED property\'s InstanceDnsServers) that cannot be a name server for instances: the unspecified address ::, loopback ::1, multicast (ff00::/8), link-local (fe80::/10: each node\'s bridge is its own link) or IPv4-mapped (::ffff:0:0/96; put IPv4 servers in InstanceDnsServers).' },

  // Relations between parts of the document.
  SUBNET_NAME_DUPLICATE: { severity: 'error', meaning: 'Two top-level subnets have the same Name (a missing Name defaults to the Subnet address).' },
  SUBNET_OVERLAP: { severity: 'error', meaning: 'Two top-level subnets overlap.' },
  SUBNETS_SINGLE_REQUIRED: { severity: 'error', meaning: 'Without clusters, exactly one top-level subnet must be configured.' },
  SUBNET_REF_UNRESOLVED: { severity: 'error', meaning: 'A cluster Subnet that only has a Name must name a top-level subnet, and none has that Name.' },
  CLUSTER_SUBNET_MISSING: { severity: 'error', meaning: 'A cluster has no Subnet and there is not exactly one top-level subnet to default to.' },
  CLUSTER_NAME_DUPLICATE: { severity: 'error', meaning: 'Two clusters have the same Name.' },
  CLUSTER_SUBNET_OVERLAP: { severity: 'error', meaning: 'Two clusters have different subnets that overlap. Clusters may share one flat subnet (the same Subnet and Netmask), never part of one.' },
  CLUSTER_POOL_OVERLAP: { severity: 'error', meaning: 'Two clusters that share a subnet have overlapping private pools (after defaults: a cluster without PrivateIps inherits the top-level list, one with an empty list gets the whole subnet); their pools must be disjoint.' },
  PRIVATE_IP_OUTSIDE_SUBNET: { severity: 'error', meaning: 'A private IP entry is not inside the subnet of the cluster that uses it (top-level PrivateIps are checked against every cluster that inherits them, or against the single top-level subnet).' },
  POOL_CONTAINS_RESERVED_ADDRESS: { severity: 'error', meaning: 'A private IP entry contains its subnet\'s network, broadcast or gateway address.' },
  POOL_DUPLICATE: { severity: 'error', meaning: 'The same address or range appears twice in one IP list.' },
  POOL_OVERLAP: { severity: 'error', meaning: 'Two entries of one IP list overlap.' },
  IPV6_DNS_WITHOUT_PREFIX: { severity: 'error', meaning: 'A subnet has Ipv6DnsServers but no Ipv6Prefix: name servers are announced in the router advertisement of the prefix, so there is nothing to announce them with.' },
  IPV6_ON_SUBNET_REFERENCE: { severity: 'error', meaning: 'A cluster Subnet that only names a top-level subnet ({"Name": ...}) also has Ipv6Prefix or Ipv6DnsServers; a reference inherits them from the subnet it names: set them there.' },
  SUBNET_IPV6_OVERLAP: { severity: 'error', meaning: 'Two top-level subnets have the same Ipv6Prefix: each IPv4 subnet is its own layer-2 network and needs its own /64.' },
  CLUSTER_IPV6_OVERLAP: { severity: 'error', meaning: 'Two clusters on different IPv4 subnets have the same Ipv6Prefix. Clusters may share a /64 only when they share one flat subnet (as for IPv4: the same Subnet and Netmask, or the same top-level subnet).' },
  PUBLIC_PRIVATE_OVERLAP: { severity: 'error', meaning: 'A PublicIps entry overlaps a private pool (top level or any cluster).' },

  // ROUTED (docs/config.md "ROUTED"): values and relations of the ROUTED keys.
  ROUTED_CLUSTER_NO_ADDRESSES: { severity: 'error', meaning: 'A ROUTED cluster has neither Ipv4Pool nor Ipv6Prefix: its instances would have no address (give one or both: IPv4-only, IPv6-only or dual stack).' },
  ROUTED_POOL_UNALIGNED: { severity: 'error', meaning: 'An Ipv4Pool CIDR entry with host bits set (10.50.1.3/28); write its network address (10.50.1.0/28).' },
  ROUTED_POOL_RESERVED: { severity: 'error', meaning: 'An Ipv4Pool or (ROUTED) PublicIps entry that contains addresses no instance can be routed: 0.0.0.0/8, loopback 127.0.0.0/8, link-local 169.254.0.0/16 (the instance-side link, the gateway and the metadata address), multicast 224.0.0.0/4 or reserved 240.0.0.0/4 (with 255.255.255.255).' },
  ROUTED_POOL_OVERLAP: { severity: 'error', meaning: 'Two clusters\' Ipv4Pool entries overlap, or an Ipv4Pool entry overlaps PublicIps: every routed address belongs to one pool, so the IPAM can never hand it out twice.' },
  ROUTED_INSTANCE_GATEWAY_INVALID: { severity: 'error', meaning: 'An InstanceGateway address instances cannot use: Ipv4 must be in the link-local 169.254.0.0/16, not its first or last address nor the metadata address 169.254.169.254; Ipv6 must be link-local (fe80::/10) and not fe80:: itself.' },
  ROUTED_BGP_MISSING: { severity: 'error', meaning: 'A ROUTED cluster\'s BGP settings (the cloud\'s Bgp overridden by the cluster\'s) have no LocalAsn or no Peers: its nodes would have nothing to announce the routes with.' },
  ROUTED_BGP_ASN_INVALID: { severity: 'error', meaning: 'A LocalAsn or peer Asn outside 1-4294967295 (0 and values past 32 bits are not autonomous system numbers).' },
  ROUTED_BGP_PEER_INVALID: { severity: 'error', meaning: 'A BGP peer Address that cannot be a neighbour: unspecified, loopback, multicast, broadcast, IPv4 or IPv6 link-local, or an address of an instance pool (Ipv4Pool, PublicIps).' },
  ROUTED_BGP_PEER_DUPLICATE: { severity: 'error', meaning: 'The same peer Address appears twice in one Peers list (a node has one session per neighbour).' },
  ROUTED_BGP_COMMUNITY_INVALID: { severity: 'error', meaning: 'A Communities entry that is not a standard community "ASN:VALUE" with both parts 0-65535 (65001:100).' },
  ROUTED_BGP_PASSWORD_INVALID: { severity: 'error', meaning: 'A BGP Password that is not 1-80 printable ASCII characters without " or \\ (it is written into the BGP daemon\'s configuration, and TCP MD5 keys are at most 80 bytes).' },
  ROUTED_BGP_ROUTER_ID_INVALID: { severity: 'error', meaning: 'A listed node\'s RouterId is 0.0.0.0 or the RouterId of another node, or the node has no RouterId and its Name is not an IPv4 address to take as one: BGP router ids are non-zero IPv4 addresses, unique among the speakers.' },
  ROUTED_BGP_PEER_FAMILY_MISSING: { severity: 'error', meaning: 'The Peers a ROUTED cluster\'s nodes use (its own Bgp.Peers, else the cloud\'s; or a node\'s own Peers) lack a peer of a family the cluster\'s addressing uses (an IPv4 peer for Ipv4Pool, an IPv6 peer for Ipv6Prefix, both for dual stack): a node announces a family only over a BGP session of that family, so those routes would reach no router.' },
  ROUTED_NODE_DUPLICATE: { severity: 'error', meaning: 'A node Name appears twice in Nodes, in one cluster or in two (a node belongs to one cluster).' },

  // Warnings: reported, but the document stays valid.
  VALUE_UNSET: { severity: 'warning', meaning: 'A key whose value is "" or null is treated as unset (its default applies), as Eucalyptus did; omit the key instead.' },
  PUBLIC_IN_PRIVATE_SUBNET: { severity: 'warning', meaning: 'A PublicIps entry lies inside a private subnet; traffic to it may be treated as private (no NAT) and it may collide with hosts there.' },
  PRIVATE_IPS_UNUSED: { severity: 'warning', meaning: 'Top-level PrivateIps are set but every cluster has its own list, so they are never used.' },
  DNS_SERVER_DUPLICATE: { severity: 'warning', meaning: 'The same address appears twice in InstanceDnsServers.' },
  IPV6_DNS_SERVER_DUPLICATE: { severity: 'warning', meaning: 'The same address appears twice in one Ipv6DnsServers list.' },
  ROUTED_BGP_ELASTIC_PEER_MISSING: { severity: 'warning', meaning: 'A ROUTED property has PublicIps, and an IPv6-only cluster (or a node of it with its own Peers) has no IPv4 peer: an elastic address associated with one of its instances would be routed on the node but announced to no router. A warning, as PublicIps is cloud-wide and such a cluster may never get one; add an IPv4 peer if it will.' },
  CLUSTER_IPV6_MISMATCH: { severity: 'warning', meaning: 'Clusters that share one flat IPv4 subnet have different Ipv6Prefix settings (or only some have one): their instances are on one layer-2 network but not on one IPv6 link, so traffic between them leaves through the nodes and the physical network must route each /64.' },
} as const satisfies Record<string, ConfigCodeInfo>;

export type ConfigCode = keyof typeof REGISTRY;

export const CONFIG_CODES: Record<string, ConfigCodeInfo> = REGISTRY;

/** Builds a diagnostic whose severity comes from the registry, so no call site can disagree with it. */
export function diag(code: ConfigCode, path: string, message: string): Diagnostic {
  return { severity: REGISTRY[code].severity, code, path, message };
}
