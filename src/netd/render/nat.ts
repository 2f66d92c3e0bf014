/**
 * The nat table (eucalyptus-edge.md §1.4 f):
 *
 *   PREROUTING  ─► <P>-PRE:  mark 0x2a on traffic from this cluster's subnet to
 *                            <P>-ALLPRIV (it keeps its private source), [same for
 *                            the metadata address when METADATA_USE_VM_PRIVATE=Y],
 *                            DNAT public → private per local instance, metadata
 *                            DNAT 169.254.169.254:80 → CLC:METADATA_PORT
 *   OUTPUT      ─► <P>-OUT:  DNAT public → private (host-originated traffic)
 *   POSTROUTING ─► <P>-POST: SNAT private → public unless marked
 *
 * Instances without a public IP get no SNAT (the private network routes them).
 */
import { formatCidr } from '../../shared/ip.ts';
import { NO_SNAT_MARK } from '../names.ts';
import type { RenderContext } from './context.ts';
import { iptRule, setMatch } from './rule.ts';
import type { NetfilterTable, Rule } from './types.ts';

export const METADATA_ADDRESS = '169.254.169.254';

export function metadataTarget(ctx: RenderContext): string | undefined {
  const ip = ctx.config.metadataIp !== '' ? ctx.config.metadataIp : ctx.doc.configuration.enabledClcIp;
  return ip === undefined || ip === '' ? undefined : `${ip}:${ctx.config.metadataPort}`;
}

export function renderNat(ctx: RenderContext): NetfilterTable {
  const { names } = ctx;
  const subnet = formatCidr(ctx.subnet);
  const mark = ['-j', 'MARK', '--set-xmark', `${NO_SNAT_MARK}/0xffffffff`];
  const withPublic = ctx.locals.filter((i) => i.publicIp !== undefined);
  const pre: Rule[] = [
    iptRule({ src: subnet, matches: [setMatch(names.allPrivateSet, 'dst')], target: mark, comment: 'to the cloud private networks: keep the private source (no SNAT)' }),
  ];
  if (ctx.config.metadataUseVmPrivate) {
    pre.push(iptRule({ src: subnet, dst: `${METADATA_ADDRESS}/32`, target: mark, comment: 'METADATA_USE_VM_PRIVATE=Y: metadata requests keep the private source' }));
  }
  for (const i of withPublic) {
    pre.push(iptRule({ dst: `${i.publicIp}/32`, target: ['-j', 'DNAT', '--to-destination', i.privateIp], comment: `public IP of ${i.id}` }));
  }
  const target = metadataTarget(ctx);
  if (target === undefined) ctx.warnings.push('no metadata target (neither METADATA_IP nor enabledCLCIp): metadata DNAT omitted');
  else {
    pre.push(iptRule({
      dst: `${METADATA_ADDRESS}/32`, proto: 'tcp', matches: [['-m', 'tcp', '--dport', '80']],
      target: ['-j', 'DNAT', '--to-destination', target], comment: 'instance metadata service',
    }));
  }
  const out = withPublic.map((i) => iptRule({
    dst: `${i.publicIp}/32`, target: ['-j', 'DNAT', '--to-destination', i.privateIp], comment: `public IP of ${i.id}, from this host`,
  }));
  const post = withPublic.map((i) => iptRule({
    src: `${i.privateIp}/32`, matches: [['-m', 'mark', '!', '--mark', NO_SNAT_MARK]],
    target: ['-j', 'SNAT', '--to-source', i.publicIp as string], comment: `outgoing traffic of ${i.id} leaves with its public IP`,
  }));
  return {
    chains: [{ name: names.natPre, rules: pre }, { name: names.natOut, rules: out }, { name: names.natPost, rules: post }],
    hooks: [
      { builtin: 'PREROUTING', match: [], target: names.natPre, comment: 'edgenet public IPs and metadata' },
      { builtin: 'OUTPUT', match: [], target: names.natOut, comment: 'edgenet public IPs from this host' },
      { builtin: 'POSTROUTING', match: [], target: names.natPost, comment: 'edgenet SNAT to public IPs' },
    ],
  };
}
