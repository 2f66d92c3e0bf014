/**
 * ROUTED on the node (issue 17): every local instance's port `vn_<id>` is a
 * routed point-to-point link — the gateway addresses on the host side, a /32
 * and a /128 route plus a permanent neighbour entry per instance address,
 * proxy ARP, forwarding; anti-spoofing by source address per port; the
 * security groups with EDGE's group chains and sets; a BGP speaker (BIRD)
 * announcing exactly the local instances' routes; a config drive per
 * instance. No bridge, no NAT, no DHCP.
 *
 * CONTRACT STUB (issue 17 in progress): the netd-render helper fills this in.
 */
import { RenderFailure } from '../render/context.ts';
import type { DesiredState } from '../render/types.ts';
import type { NetdMode, NetdModeInput } from './netd-mode.ts';

function renderRouted(_input: NetdModeInput): DesiredState {
  throw new RenderFailure('UNSUPPORTED_MODE', 'ROUTED is not implemented by this netd yet');
}

export const routedMode: NetdMode = { name: 'ROUTED', render: renderRouted };
