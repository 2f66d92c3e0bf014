/**
 * ROUTED (issue 17): pure L3 to every instance — a /32 and a /128 per
 * instance routed to its node and announced over BGP; no shared L2, no NAT,
 * no DHCP (instances configure themselves from a config drive).
 *
 * Property keys, checks and document extensions: docs/config.md "ROUTED";
 * the document's extensions are written with shared/gni/routed.ts.
 *
 * CONTRACT STUB (issue 17 in progress): the CLC helper fills in keys, checks and extendDocument.
 */
import type { ClcNetworkMode } from './mode.ts';

export const ROUTED_MODE: ClcNetworkMode<'ROUTED'> = {
  name: 'ROUTED',
  keys: ['InstanceDnsDomain', 'InstanceDnsServers', 'MacPrefix', 'PublicIps', 'InstanceGateway', 'Clusters'],
  checks: () => [],
  extendDocument: (base) => base,
};
