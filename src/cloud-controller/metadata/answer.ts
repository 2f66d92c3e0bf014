/**
 * The EC2-style instance metadata tree, as a pure function:
 * (request path, the requesting instance) → status + text body.
 *
 * Model: the tree an instance's boot tools read (cloud-init's EC2 crawler,
 * ec2metadata), the same under every API version EC2 lists at `/` (`latest`,
 * `2009-04-04`, …: cloud-init probes dated versions). A directory answers with
 * its entries one per line (sub-directories end in `/`, as EC2 does); a leaf
 * answers with its value. Per version:
 *   meta-data/  hostname, local-hostname, public-hostname, instance-id,
 *               local-ipv4, public-ipv4, mac, placement/availability-zone,
 *               security-groups, network/interfaces/macs/<mac>/…;
 *               on a dual-stack cluster also ipv6 and the interface's
 *               ipv6s and subnet-ipv6-cidr-blocks (EC2's names)
 *   dynamic/instance-identity/document   JSON
 *   user-data   the instance's user data as given (bytes, octet-stream), and
 *               listed, only when it has some (EC2 answers 404 otherwise)
 * Entries about the public address (public-ipv4, public-hostname,
 * public-ipv4s) exist only while the instance has one (EC2 answers 404
 * otherwise); so do the IPv6 entries, only on a dual-stack cluster. An
 * instance without IPv4 (IPv6-only ROUTED) has no local-ipv4 entries and,
 * as EC2 names IPv6-only instances, `<instance id>.<domain>` as its local
 * host name. The caller has already resolved the requester; an unknown
 * requester never reaches this function.
 */

export interface MetadataInstance {
  readonly id: string;
  /** Absent on an IPv6-only ROUTED instance. */
  readonly privateIp?: string;
  readonly publicIp?: string;
  readonly mac: string;
  /** Group names (not ids), in launch order. */
  readonly securityGroupNames: readonly string[];
  /** Group ids, same order. */
  readonly securityGroupIds?: readonly string[];
  /** The instance's cluster (EC2 availability zone). */
  readonly cluster: string;
  /** Owner account (identity document `accountId`, interface `owner-id`). */
  readonly ownerId?: string;
  /** `euca-10-111-1-5.eucalyptus.internal` (hostnames.ts). */
  readonly localHostname?: string;
  /** Only with a public address. */
  readonly publicHostname?: string;
  /** Dual stack only: the instance's IPv6 address (EUI-64 of its MAC in its cluster's /64). */
  readonly ipv6?: string;
  /** Dual stack only: its cluster's /64 (`subnet-ipv6-cidr-blocks`). */
  readonly ipv6Prefix?: string;
  /** The instance's user data, base64 as stored; absent when it has none. */
  readonly userData?: string;
}

export interface MetadataAnswer {
  readonly status: number;
  /** Text, or bytes (user data need not be text). */
  readonly body: string | Buffer;
  readonly contentType?: string;
}

type Node = { readonly kind: 'dir'; readonly entries: ReadonlyMap<string, Node> } | { readonly kind: 'leaf'; readonly value: string | Buffer; readonly contentType?: string };

function dir(entries: Record<string, Node | undefined>): Node {
  const map = new Map<string, Node>();
  for (const [name, node] of Object.entries(entries)) if (node) map.set(name, node);
  return { kind: 'dir', entries: map };
}

const leaf = (value: string): Node => ({ kind: 'leaf', value });

/** The API versions listed at `/`, oldest first (EC2's list up to the ones cloud-init asks for). */
export const METADATA_VERSIONS = ['1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01', '2009-04-04', '2016-09-02', '2018-09-24', '2021-03-23', 'latest'] as const;

/** Region reported in the identity document (Eucalyptus's default region name). */
const METADATA_REGION = 'eucalyptus';

function identityDocument(instance: MetadataInstance): Record<string, unknown> {
  return {
    accountId: instance.ownerId ?? null,
    availabilityZone: instance.cluster,
    instanceId: instance.id,
    privateIp: instance.privateIp,
    region: METADATA_REGION,
    version: '2017-09-30',
  };
}

function versionTree(instance: MetadataInstance): Node {
  const local = instance.localHostname ?? instance.privateIp ?? instance.id;
  const groupIds = instance.securityGroupIds ?? [];
  const iface = dir({
    'device-number': leaf('0'),
    ipv6s: instance.ipv6 ? leaf(instance.ipv6) : undefined,
    'local-hostname': leaf(local),
    'local-ipv4s': instance.privateIp !== undefined ? leaf(instance.privateIp) : undefined,
    mac: leaf(instance.mac),
    'owner-id': instance.ownerId ? leaf(instance.ownerId) : undefined,
    'public-hostname': instance.publicIp ? leaf(instance.publicHostname ?? instance.publicIp) : undefined,
    'public-ipv4s': instance.publicIp ? leaf(instance.publicIp) : undefined,
    'security-group-ids': groupIds.length ? leaf(groupIds.join('\n')) : undefined,
    'security-groups': leaf(instance.securityGroupNames.join('\n')),
    'subnet-ipv6-cidr-blocks': instance.ipv6Prefix ? leaf(instance.ipv6Prefix) : undefined,
  });
  const metaData = dir({
    hostname: leaf(local),
    'instance-id': leaf(instance.id),
    ipv6: instance.ipv6 ? leaf(instance.ipv6) : undefined,
    'local-hostname': leaf(local),
    'local-ipv4': instance.privateIp !== undefined ? leaf(instance.privateIp) : undefined,
    mac: leaf(instance.mac),
    network: dir({ interfaces: dir({ macs: dir({ [instance.mac]: iface }) }) }),
    placement: dir({ 'availability-zone': leaf(instance.cluster) }),
    'public-hostname': instance.publicIp ? leaf(instance.publicHostname ?? instance.publicIp) : undefined,
    'public-ipv4': instance.publicIp ? leaf(instance.publicIp) : undefined,
    'security-groups': leaf(instance.securityGroupNames.join('\n')),
  });
  const document: Node = { kind: 'leaf', value: `${JSON.stringify(identityDocument(instance), null, 2)}\n`, contentType: 'application/json' };
  return dir({
    dynamic: dir({ 'instance-identity': dir({ document }) }),
    'meta-data': metaData,
    // Absent without user data, so 404 — and not listed, as EC2 lists it only when there is some.
    'user-data': instance.userData !== undefined ? { kind: 'leaf', value: Buffer.from(instance.userData, 'base64'), contentType: 'application/octet-stream' } : undefined,
  });
}

function metadataTree(instance: MetadataInstance): Node {
  const tree = versionTree(instance);
  return dir(Object.fromEntries(METADATA_VERSIONS.map((v) => [v, tree])));
}

const NOT_FOUND: MetadataAnswer = { status: 404, body: 'Not Found\n' };

/** Resolves `path` (query string already removed) in the instance's tree. */
export function answerMetadata(path: string, instance: MetadataInstance): MetadataAnswer {
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '.' || p === '..')) return NOT_FOUND;
  let node = metadataTree(instance);
  for (const part of parts) {
    if (node.kind !== 'dir') return NOT_FOUND;
    const next = node.entries.get(part);
    if (!next) return NOT_FOUND;
    node = next;
  }
  if (node.kind === 'leaf') return { status: 200, body: node.value, ...(node.contentType ? { contentType: node.contentType } : {}) };
  const listing = [...node.entries].map(([name, child]) => (child.kind === 'dir' ? `${name}/` : name));
  return { status: 200, body: listing.join('\n') };
}
