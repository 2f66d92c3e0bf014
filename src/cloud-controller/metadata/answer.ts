/**
 * The EC2-style instance metadata tree, as a pure function:
 * (request path, the requesting instance) → status + text body.
 *
 * Model: a small fixed tree under `/latest/meta-data/`. A directory answers
 * with its entries one per line (sub-directories end in `/`, as EC2 does); a
 * leaf answers with its value. `public-ipv4` exists only while the instance
 * has a public address (EC2 answers 404 otherwise). The caller has already
 * resolved the requester; an unknown requester never reaches this function.
 */

export interface MetadataInstance {
  readonly id: string;
  readonly privateIp: string;
  readonly publicIp?: string;
  readonly mac: string;
  /** Group names (not ids), in launch order. */
  readonly securityGroupNames: readonly string[];
  /** The instance's cluster (EC2 availability zone). */
  readonly cluster: string;
}

export interface MetadataAnswer {
  readonly status: number;
  readonly body: string;
}

type Node = { readonly kind: 'dir'; readonly entries: ReadonlyMap<string, Node> } | { readonly kind: 'leaf'; readonly value: string };

function dir(entries: Record<string, Node | undefined>): Node {
  const map = new Map<string, Node>();
  for (const [name, node] of Object.entries(entries)) if (node) map.set(name, node);
  return { kind: 'dir', entries: map };
}

const leaf = (value: string): Node => ({ kind: 'leaf', value });

export function metadataTree(instance: MetadataInstance): Node {
  const metaData = dir({
    'instance-id': leaf(instance.id),
    'local-ipv4': leaf(instance.privateIp),
    mac: leaf(instance.mac),
    placement: dir({ 'availability-zone': leaf(instance.cluster) }),
    'public-ipv4': instance.publicIp ? leaf(instance.publicIp) : undefined,
    'security-groups': leaf(instance.securityGroupNames.join('\n')),
  });
  return dir({ latest: dir({ 'meta-data': metaData }) });
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
  if (node.kind === 'leaf') return { status: 200, body: node.value };
  const listing = [...node.entries].map(([name, child]) => (child.kind === 'dir' ? `${name}/` : name));
  return { status: 200, body: listing.join('\n') };
}
