/**
 * The node's network: which of the supported layouts this host is in, and the
 * steps that bring it to the one netd works with — a bridge (VNET_BRIDGE)
 * that carries the node's IPv4 address, with a MAC that never changes, and the
 * physical interface (VNET_PRIVINTERFACE) as one of its ports. Pure.
 *
 * Layouts (docs/netd.md "The node's network"):
 *   a. the bridge exists with the node's address on it (Eucalyptus's way);
 *      VNET_PRIVINTERFACE is empty, the bridge itself, another bridge (never
 *      enslaved: a bridge cannot be a port of a bridge), or a physical
 *      interface that is (or is made) a port of the bridge;
 *   b. VNET_PRIVINTERFACE carries the node's address: netd creates the bridge
 *      if needed (with that interface's MAC) and MOVES its IPv4 addresses and
 *      routes onto the bridge;
 *   c. anything else is refused (`problem`), with what to do, and nothing is
 *      touched.
 *
 * The move keeps the node reachable: bridge created (MAC = the port's, so
 * peers' ARP entries stay right) → addresses added to the bridge (the port
 * still has them and its routes come first) → port enslaved → routes moved
 * (`ip route replace` swaps each in one step) → addresses removed from the
 * port. Every step is derived from the live state, so a netd killed between
 * any two of them resumes where it stopped and the result is the same.
 *
 * The bridge MAC is pinned: set explicitly (EDGENET_BRIDGE_MAC, else the MAC
 * it has when netd first sees it unpinned), because a Linux bridge whose MAC
 * was never set takes its lowest port MAC, so attaching an instance port would
 * change the MAC behind the node's address (stale ARP on every peer) and the
 * fake router's ARP replies.
 */
import type { ObservedAddress, ObservedLink, ObservedRoute } from './observed.ts';
import type { Step } from './steps.ts';

export interface NodeNetworkInput {
  /** VNET_BRIDGE */
  readonly bridge: string;
  /** VNET_PRIVINTERFACE ('' = none) */
  readonly privateInterface: string;
  /** EDGENET_BRIDGE_MAC ('' = pin the MAC the bridge has) */
  readonly mac: string;
  readonly links: ReadonlyMap<string, ObservedLink>;
  readonly addresses: (ifname: string) => readonly ObservedAddress[];
  /** Main-table routes through VNET_PRIVINTERFACE. */
  readonly privateRoutes: readonly ObservedRoute[];
}

export type NodeLayout = 'bridge-carries-address' | 'move-to-bridge' | 'refused';

export interface NodeNetwork {
  readonly layout: NodeLayout;
  readonly steps: readonly Step[];
  /** The bridge's MAC once the steps ran ('' = unknown): render's host fact. */
  readonly mac: string;
  /** The bridge's IPv4 addresses once the steps ran (`a.b.c.d/n`): render's host fact. */
  readonly addresses: readonly string[];
  /** Why netd refuses this host, and what to do; undefined when the layout is supported. */
  readonly problem?: string;
  readonly notes: readonly string[];
}

const LAYOUTS_HINT = 'see "The node\'s network" in docs/netd.md';

function cidr(a: ObservedAddress): string {
  return `${a.address}/${a.prefixlen}`;
}

function refused(problem: string, input: NodeNetworkInput): NodeNetwork {
  const br = input.links.get(input.bridge);
  return {
    layout: 'refused',
    steps: [],
    mac: (input.mac || br?.mac || '').toLowerCase(),
    addresses: br ? input.addresses(input.bridge).map(cidr) : [],
    problem: `${problem} (${LAYOUTS_HINT})`,
    notes: [],
  };
}

/** Routes that belong to the interface rather than to one of its addresses (those vanish with the address). */
function movable(r: ObservedRoute): boolean {
  return r.protocol !== 'kernel' && (r.type === undefined || r.type === 'unicast');
}

export function planNodeNetwork(input: NodeNetworkInput): NodeNetwork {
  const { bridge } = input;
  const br = input.links.get(bridge);
  const privName = input.privateInterface === bridge ? '' : input.privateInterface;
  const priv = privName === '' ? undefined : input.links.get(privName);
  const notes: string[] = [];

  if (privName !== '' && priv === undefined) {
    return refused(
      `VNET_PRIVINTERFACE=${privName} does not exist on this host: set it to the physical interface that carries the node's address ` +
        `(netd moves that address onto ${bridge}), or to ${bridge} when ${bridge} already carries it`,
      input,
    );
  }
  // A bridge named as VNET_PRIVINTERFACE is accepted as it is: a bridge cannot be a port of a bridge.
  const port = priv !== undefined && !priv.isBridge ? priv : undefined;
  if (priv?.isBridge) notes.push(`VNET_PRIVINTERFACE=${privName} is a bridge: left as it is (a bridge cannot be a port of ${bridge})`);
  if (port?.master !== undefined && port.master !== bridge) {
    return refused(
      `VNET_PRIVINTERFACE=${privName} is a port of bridge ${port.master}, not of VNET_BRIDGE=${bridge}: set VNET_BRIDGE="${port.master}" ` +
        `(and VNET_PRIVINTERFACE="${port.master}" or "${privName}"), or take ${privName} out of ${port.master} first`,
      input,
    );
  }
  if (br === undefined && port === undefined) {
    const why = input.privateInterface === '' ? 'VNET_PRIVINTERFACE is not set' : input.privateInterface === bridge ? 'VNET_PRIVINTERFACE names the bridge itself' : `VNET_PRIVINTERFACE=${privName} is a bridge`;
    return refused(
      `VNET_BRIDGE=${bridge} does not exist and ${why}: either create ${bridge} with the node's address on it and the physical interface as its port ` +
        `(layout a, e.g. in /etc/network/interfaces), or set VNET_PRIVINTERFACE to the interface that carries the node's address and netd moves it onto ${bridge} (layout b)`,
      input,
    );
  }
  if (br !== undefined && !br.isBridge) {
    return refused(`VNET_BRIDGE=${bridge} exists but is not a bridge: name a bridge, or remove ${bridge} and let netd create it from VNET_PRIVINTERFACE (layout b)`, input);
  }

  const steps: Step[] = [];
  const bridgeAddrs = br ? input.addresses(bridge) : [];
  const portAddrs = port ? input.addresses(privName) : [];

  // The MAC: configured, else the one the bridge has, else (new bridge) the port's, so the node's address keeps its MAC.
  const mac = (input.mac || br?.mac || port?.mac || '').toLowerCase();
  if (br === undefined) {
    steps.push({ kind: 'bridge-create', name: bridge, ...(mac !== '' ? { mac } : {}) }, { kind: 'link-up', name: bridge });
  } else {
    const have = br.mac?.toLowerCase();
    if (have !== undefined && mac !== '' && (have !== mac || br.macPinned === false)) steps.push({ kind: 'link-mac', name: bridge, mac });
    if (!br.up) steps.push({ kind: 'link-up', name: bridge });
  }

  if (port !== undefined) {
    const onBridge = new Set(bridgeAddrs.map(cidr));
    for (const a of portAddrs) {
      if (!onBridge.has(cidr(a))) {
        steps.push({ kind: 'node-addr-add', interface: bridge, address: a.address, prefixlen: a.prefixlen, ...(a.broadcast ? { broadcast: a.broadcast } : {}) });
      }
    }
    if (port.master !== bridge) steps.push({ kind: 'link-attach', name: privName, bridge });
    if (!port.up) steps.push({ kind: 'link-up', name: privName });
    for (const r of input.privateRoutes) if (movable(r)) steps.push({ kind: 'route-move', route: r, from: privName, to: bridge });
    for (const a of portAddrs) steps.push({ kind: 'node-addr-del', interface: privName, address: a.address, prefixlen: a.prefixlen });
  }

  const addresses = [...new Set([...bridgeAddrs, ...portAddrs].map(cidr))];
  const layout: NodeLayout = portAddrs.length > 0 ? 'move-to-bridge' : 'bridge-carries-address';
  if (addresses.length === 0) {
    const where = port ? `${bridge} nor ${privName}` : `${bridge}`;
    return {
      layout: 'refused',
      steps,
      mac,
      addresses,
      problem:
        `${port ? 'neither ' : ''}${where} has an IPv4 address, and ISC dhcpd serves only an interface that has one: ` +
        `put the node's address on ${bridge} (layout a) or on VNET_PRIVINTERFACE (layout b) (${LAYOUTS_HINT})`,
      notes,
    };
  }
  return { layout, steps, mac, addresses, notes };
}
