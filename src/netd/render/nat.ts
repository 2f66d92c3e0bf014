/**
 * The nat table (eucalyptus-edge.md §1.4 f):
 *
 *   PREROUTING  ─► <P>-PRE:  mark 0x2a on traffic from this cluster's subnet to
 *                            <P>-ALLPRIV (it keeps its private source), [same for
 *                            the metadata address when METADATA_USE_VM_PRIVATE=Y],
 *                            DNAT public → private per local instance, metadata
 *                            DNAT 169.254.169.254:80 → CLC:METADATA_PORT
 *   OUTPUT      ─► <P>-OUT:  DNAT public → private (host-originated traffic)
 *   POSTROUTING ─► <P>-POST: SNAT private → public unless marked; with NC_PROXY=Y
 *                            then MASQUERADE of the rest of the subnet unless marked
 *
 * Instances without a public IP get no SNAT (the private network routes them).
 *
 * IPv6 (ip6tables nat, a dual-stack cluster only): one rule, the metadata DNAT
 * [fd00:ec2::254]:80 → [METADATA_IPV6, else the document's IPv6 clc-address]:
 * METADATA_PORT in <P>-PRE from PREROUTING. Nothing else: an instance's global
 * address is public, so there is no SNAT or DNAT of instance addresses. With
 * neither target the table is empty and a warning says metadata over IPv6 is
 * not available.
 */
import { IPV6_METADATA_ADDRESS } from '../../shared/gni/ipv6.ts';
import { formatCidr } from '../../shared/ip.ts';
import { NO_SNAT_MARK } from '../names.ts';
import type { IpMatch, IpRule, IpTarget, NetfilterTable } from '../netfilter/rule.ts';
import { ipRule } from '../netfilter/rule.ts';
import type { RenderContext } from './context.ts';

export const METADATA_ADDRESS = '169.254.169.254';

/** Where the metadata DNAT sends requests: METADATA_IP, else the CLC, at METADATA_PORT. */
function metadataTarget(ctx: RenderContext): { address: string; port: number } | undefined {
  const ip = ctx.config.metadataIp !== '' ? ctx.config.metadataIp : ctx.doc.configuration.enabledClcIp;
  return ip === undefined || ip === '' ? undefined : { address: ip, port: ctx.config.metadataPort };
}

const dnat = (address: string, port?: number): IpTarget => (port === undefined ? { kind: 'dnat', address } : { kind: 'dnat', address, port });

/**
 * The metadata DNAT 169.254.169.254:80 → METADATA_IP (else the CLC):METADATA_PORT,
 * or undefined with a warning when there is no target. EDGE's <P>-PRE ends
 * with it; ROUTED's <P>-PRE is only this rule (modes/routed.ts: no NAT of instance addresses).
 */
export function metadataDnat(ctx: RenderContext): IpRule | undefined {
  const target = metadataTarget(ctx);
  if (target === undefined) {
    ctx.warnings.push('no metadata target (neither METADATA_IP nor enabledCLCIp): metadata DNAT omitted');
    return undefined;
  }
  return ipRule('ipv4', {
    matches: [{ kind: 'addr', dir: 'dst', cidr: `${METADATA_ADDRESS}/32` }, { kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: 80, hi: 80 } }],
    target: dnat(target.address, target.port), comment: 'instance metadata service',
  });
}

export function renderNat(ctx: RenderContext): NetfilterTable<IpRule> {
  const { names } = ctx;
  const fromSubnet: IpMatch = { kind: 'addr', dir: 'src', cidr: formatCidr(ctx.subnet) };
  const toMetadata: IpMatch = { kind: 'addr', dir: 'dst', cidr: `${METADATA_ADDRESS}/32` };
  const mark: IpTarget = { kind: 'set-mark', mark: NO_SNAT_MARK, mask: '0xffffffff' };
  const withPublic = ctx.locals.filter((i) => i.publicIp !== undefined);
  const pre: IpRule[] = [
    ipRule('ipv4', { matches: [fromSubnet, { kind: 'set', set: names.allPrivateSet, dir: 'dst' }], target: mark, comment: 'to the cloud private networks: keep the private source (no SNAT)' }),
  ];
  if (ctx.config.metadataUseVmPrivate) {
    pre.push(ipRule('ipv4', { matches: [fromSubnet, toMetadata], target: mark, comment: 'METADATA_USE_VM_PRIVATE=Y: metadata requests keep the private source' }));
  }
  for (const i of withPublic) {
    pre.push(ipRule('ipv4', { matches: [{ kind: 'addr', dir: 'dst', cidr: `${i.publicIp}/32` }], target: dnat(i.privateIp), comment: `public IP of ${i.id}` }));
  }
  const metadata = metadataDnat(ctx);
  if (metadata !== undefined) pre.push(metadata);
  const out = withPublic.map((i) => ipRule('ipv4', {
    matches: [{ kind: 'addr', dir: 'dst', cidr: `${i.publicIp}/32` }], target: dnat(i.privateIp), comment: `public IP of ${i.id}, from this host`,
  }));
  const post = withPublic.map((i) => ipRule('ipv4', {
    matches: [{ kind: 'addr', dir: 'src', cidr: `${i.privateIp}/32` }, { kind: 'mark', mark: NO_SNAT_MARK, negate: true }],
    target: { kind: 'snat', address: i.publicIp as string }, comment: `outgoing traffic of ${i.id} leaves with its public IP`,
  }));
  if (ctx.config.ncProxy) {
    // Eucalyptus 4.4 do_edge_update_eips (eucanetd_edge.c), after the per-instance SNATs:
    // `-A EUCA_NAT_POST -s <net>/<len> -m mark ! --mark 0x2a -j MASQUERADE`.
    post.push(ipRule('ipv4', {
      matches: [fromSubnet, { kind: 'mark', mark: NO_SNAT_MARK, negate: true }], target: { kind: 'masquerade' },
      comment: 'NC_PROXY=Y: instance traffic without a public IP leaves with this node address',
    }));
  }
  return {
    chains: [{ name: names.natPre, rules: pre }, { name: names.natOut, rules: out }, { name: names.natPost, rules: post }],
    hooks: [
      { family: 'ipv4', builtin: 'PREROUTING', matches: [], target: names.natPre, comment: 'edgenet public IPs and metadata' },
      { family: 'ipv4', builtin: 'OUTPUT', matches: [], target: names.natOut, comment: 'edgenet public IPs from this host' },
      { family: 'ipv4', builtin: 'POSTROUTING', matches: [], target: names.natPost, comment: 'edgenet SNAT to public IPs' },
    ],
  };
}

/** The ip6tables nat table: the IPv6 metadata DNAT of a dual-stack cluster, else empty. */
export function renderNat6(ctx: RenderContext): NetfilterTable<IpRule> {
  if (ctx.ipv6 === undefined) return { chains: [], hooks: [] };
  const address = ctx.config.metadataIpv6 !== '' ? ctx.config.metadataIpv6 : ctx.clcIpv6;
  if (address === undefined) {
    ctx.warnings.push(`no IPv6 metadata target (neither METADATA_IPV6 nor the document's IPv6 clc-address): metadata over IPv6 ([${IPV6_METADATA_ADDRESS}]) is not available`);
    return { chains: [], hooks: [] };
  }
  const rule = ipRule('ipv6', {
    matches: [{ kind: 'addr', dir: 'dst', cidr: `${IPV6_METADATA_ADDRESS}/128` }, { kind: 'proto', proto: 'tcp' }, { kind: 'dport', proto: 'tcp', ports: { lo: 80, hi: 80 } }],
    target: dnat(address, ctx.config.metadataPort), comment: 'instance metadata service (IPv6)',
  });
  return {
    chains: [{ name: ctx.names.natPre, rules: [rule] }],
    hooks: [{ family: 'ipv6', builtin: 'PREROUTING', matches: [], target: ctx.names.natPre, comment: 'edgenet metadata (IPv6)' }],
  };
}
