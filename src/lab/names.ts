/**
 * Every fixed name the lab creates, in one place (style.md 6: we own a prefix
 * and sweep by it). A lab with prefix P owns exactly:
 *   - network namespaces `P-*` (`P-lan`, `P-<node>`, `P-cl`, `P-ctl`, `P-rt` (ROUTED labs), `P-<instance-id>`),
 *   - /etc/netns/P-* (per-namespace resolv.conf that `ip netns exec` bind-mounts),
 *   - its work directory (default `<tmpdir>/edgenet-lab-P`).
 * A prefix has no dash, so `P-` never matches another lab's `P2-…` names.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { EdgenetError } from '../shared/errors.ts';

/** Bridges inside the `P-lan` namespace: the private/management L2 and the public L2. */
export const LAN_BRIDGE = 'lan';
export const PUB_BRIDGE = 'pub';
/** Interfaces inside a node namespace (the names netd's config refers to). */
export const NODE_BRIDGE = 'br0';
export const NODE_PRIV_IF = 'priv0';
export const NODE_PUB_IF = 'pub0';
/** The single interface of the client, control and instance namespaces. */
export const GUEST_IF = 'eth0';
/** ROUTED labs: the upstream router's leg towards the client (its lan leg is GUEST_IF). */
export const ROUTER_CLIENT_IF = 'cl0';

const RESERVED_PARTS = new Set(['lan', 'cl', 'ctl', 'rt']);

export function assertPrefix(prefix: string): void {
  if (!/^[A-Za-z0-9_]{1,24}$/.test(prefix)) {
    throw new EdgenetError('LAB_BAD_PREFIX', `lab prefix "${prefix}" must be 1-24 characters of [A-Za-z0-9_] (no dash: "P-" must not match another lab)`);
  }
}

export function assertNodeName(name: string): void {
  if (!/^[a-z0-9]{1,12}$/.test(name) || RESERVED_PARTS.has(name)) {
    throw new EdgenetError('LAB_BAD_NODE', `lab node name "${name}" must be 1-12 of [a-z0-9] and not one of ${[...RESERVED_PARTS].join(', ')}`);
  }
}

export function assertInstanceId(id: string): void {
  // vn_<id> must fit in 15 characters: ids up to 12 characters.
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,11}$/.test(id)) {
    throw new EdgenetError('LAB_BAD_INSTANCE', `instance id "${id}" must be 1-12 of [A-Za-z0-9-] so that vn_<id> fits in 15 characters`);
  }
}

export const labNames = {
  lanNs: (prefix: string) => `${prefix}-lan`,
  nodeNs: (prefix: string, node: string) => `${prefix}-${node}`,
  clientNs: (prefix: string) => `${prefix}-cl`,
  ctlNs: (prefix: string) => `${prefix}-ctl`,
  /** ROUTED labs: the upstream router (BIRD peering with every node; the client sits behind it). */
  routerNs: (prefix: string) => `${prefix}-rt`,
  instanceNs: (prefix: string, id: string) => `${prefix}-${id}`,
  /** Host end of an instance's veth in its node's bridge (the contract with netd). */
  instanceHostIf: (id: string) => `vn_${id}`,
  /** Peer ends inside the lan namespace. */
  lanPeerPriv: (node: string) => `l-${node}`,
  lanPeerPub: (node: string) => `p-${node}`,
  lanPeerCtl: () => 'l-ctl',
  lanPeerClient: () => 'p-cl',
  lanPeerRouter: () => 'l-rt',
  nsPrefix: (prefix: string) => `${prefix}-`,
  defaultWorkDir: (prefix: string) => path.join(os.tmpdir(), `edgenet-lab-${prefix}`),
  /** `ip netns exec` bind-mounts files from here over /etc (resolv.conf). */
  etcNetnsDir: (ns: string) => path.join('/etc/netns', ns),
};
