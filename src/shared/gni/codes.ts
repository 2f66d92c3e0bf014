/**
 * Diagnostic codes of the GNI codec and validator (the registry: tests and
 * callers switch on these, never on wording). Paths are XPath-like and name
 * the element at fault, e.g.
 * `network-data/instances/instance[@name='i-1a2b3c4d']/privateIp`;
 * list items are 1-based, as in XPath: `…/property[@name='publicIps']/value[2]`.
 */
import type { Diagnostic } from '../diagnostics.ts';

export const GniCode = {
  /** The input is larger than the configured limit. */
  TooLarge: 'GNI_TOO_LARGE',
  /** `<!DOCTYPE` or `<!ENTITY` anywhere in the input (entity expansion attacks; GNI never needs them). */
  DoctypeForbidden: 'GNI_DOCTYPE_FORBIDDEN',
  /** Not well-formed XML (message carries line and column). */
  Malformed: 'GNI_MALFORMED',
  /** The root element is not `network-data` (or there are several). */
  WrongRoot: 'GNI_WRONG_ROOT',
  /** `mode` is present and not one of NETWORK_MODES (mode.ts). */
  ModeUnsupported: 'GNI_MODE_UNSUPPORTED',
  /** A required element, attribute or value is missing or empty. */
  Missing: 'GNI_MISSING',
  /** Not a dotted-quad IPv4 address (or a forbidden one: 0.0.0.0 / 127.0.0.1 where §2.4 says so). */
  BadIp: 'GNI_BAD_IP',
  /** Not a valid `lo-hi` range or single address in an IP list. */
  BadRange: 'GNI_BAD_RANGE',
  /** A range whose start is above its end (addresses or ports). */
  RangeReversed: 'GNI_RANGE_REVERSED',
  BadNetmask: 'GNI_BAD_NETMASK',
  BadCidr: 'GNI_BAD_CIDR',
  BadMac: 'GNI_BAD_MAC',
  BadMacPrefix: 'GNI_BAD_MAC_PREFIX',
  /** A number (protocol, port, icmp type/code, sequence) out of range or not an integer. */
  BadNumber: 'GNI_BAD_NUMBER',
  /** A rule with no source or with both a CIDR and a group. */
  RuleSource: 'GNI_RULE_SOURCE',
  /** An unparseable Eucalyptus 4.0 rule string (`<rules><value>`). */
  BadRuleString: 'GNI_BAD_RULE_STRING',
  /** Two objects with the same name (cluster, node, instance, group). */
  Duplicate: 'GNI_DUPLICATE',
  /** An instance lists a security group that is not in the document. */
  UnknownGroup: 'GNI_UNKNOWN_GROUP',
  /** A node lists an instance id that is not in the document. */
  UnknownInstance: 'GNI_UNKNOWN_INSTANCE',
  /** An instance listed under more than one node. */
  InstanceOnTwoNodes: 'GNI_INSTANCE_ON_TWO_NODES',
  /** A malformed `edgenet:extension` (extension.ts): namespace, nesting, names, limits. */
  BadExtension: 'GNI_BAD_EXTENSION',
  // warnings
  /** A rule's peer group is not in the document (4.0 documents did not carry referenced groups). */
  UnknownPeerGroup: 'GNI_UNKNOWN_PEER_GROUP',
  /** An instance without a MAC address (Eucalyptus only logged this). */
  MacMissing: 'GNI_MAC_MISSING',
  /** A cluster without enabledCCIp (not used in EDGE on the node). */
  CcIpMissing: 'GNI_CC_IP_MISSING',
  /** VPC-only content in an EDGE document, ignored. */
  Ignored: 'GNI_IGNORED',
} as const;

export type GniCodeValue = (typeof GniCode)[keyof typeof GniCode];

export function error(code: GniCodeValue, path: string, message: string): Diagnostic {
  return { severity: 'error', code, path, message };
}

export function warning(code: GniCodeValue, path: string, message: string): Diagnostic {
  return { severity: 'warning', code, path, message };
}
