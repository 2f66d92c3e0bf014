/**
 * EDGE, Eucalyptus 4.x's EDGE networking: the mode edgenet implements first.
 *
 * Property keys: those of the Eucalyptus EDGE format (docs/config.md); their
 * relational checks are config/semantic.ts. Document: exactly the 4.4 shape
 * the mapper produces — EDGE adds no extension element, so a Eucalyptus 4.4
 * reader understands every document the CLC broadcasts for it.
 */
import { semanticDiagnostics } from '../config/semantic.ts';
import type { ClcNetworkMode } from './mode.ts';

export const EDGE_MODE: ClcNetworkMode<'EDGE'> = {
  name: 'EDGE',
  keys: ['InstanceDnsDomain', 'InstanceDnsServers', 'MacPrefix', 'PublicIps', 'PublicGateway', 'PrivateIps', 'Subnets', 'Clusters'],
  clusterKeys: ['Name', 'MacPrefix', 'Subnet', 'PrivateIps'],
  checks: semanticDiagnostics,
  extendDocument: (base) => base,
};
