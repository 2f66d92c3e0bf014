/**
 * How a filter rule names an instance's port (`vn_<id>`, or the `vn_+`
 * wildcard), the one thing the shared security-group machinery (filter.ts,
 * instance-guard.ts) does differently per mode:
 *
 * - bridged (EDGE): the port is a bridge port; bridged frames reach iptables
 *   through br_netfilter with the bridge as their interface, so only the
 *   physdev match sees the port (`-m physdev --physdev-in|--physdev-out`);
 * - routed (ROUTED): the port is a routed interface of its own; a packet from
 *   the instance arrives by `-i vn_<id>`, one to it leaves by `-o vn_<id>`
 *   (physdev never matches: nothing is bridged).
 */
import type { IpMatch } from '../netfilter/rule.ts';

export type InstancePorts = 'bridged' | 'routed';

export function portMatch(ports: InstancePorts, dir: 'in' | 'out', name: string): IpMatch {
  return ports === 'bridged' ? { kind: 'physdev', dir, name } : { kind: 'iface', dir, name };
}
