/**
 * The machinery of the rule exactness kernel checks (issue 11 class 1 for
 * IPv4, issue 14 for IPv6: test/integration/netd-hardening-exactness.test.ts
 * and netd-hardening-exactness-ipv6.test.ts): a value goes the CLC's parser
 * → a one-instance document → netd's render → `*-restore` into a scratch
 * namespace → `*-save`, and each read-back rule is compared with what was
 * asked. What differs by family (the ICMP protocol, match module and
 * option, how protocol names are read back, where the rules sit in the
 * document) is a parameter; the cases and expectations stay in the tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePermission } from '../../src/cloud-controller/services/permission.ts';
import type { PermissionInput } from '../../src/cloud-controller/services/permission.ts';
import { parseNetdConfig } from '../../src/netd/config.ts';
import { splitArgs } from '../../src/netd/netfilter/index.ts';
import { render } from '../../src/netd/render/render.ts';
import type { GniDocument, GniExtension, GniRule } from '../../src/shared/gni/model.ts';
import { checkRule } from '../../src/shared/gni/rule-check.ts';
import { createExec } from '../../src/shared/exec.ts';

const exec = createExec();
export const ALL_PROTOCOLS: readonly number[] = Array.from({ length: 256 }, (_, i) => i);
/** The instance every exactness document holds (its node renders it). */
export const EXACT_NODE = '10.0.0.21';
export const EXACT_MAC = 'd0:0d:a0:00:00:01';

/** What a rule should admit: protocol, ICMP type/code ([-1] = any), destination port range. */
export interface Admits { proto: number; icmpType: number; icmpCode: number; ports: [number, number] }

export interface Case {
  readonly label: string;
  readonly input: PermissionInput;
  /** The same value as a document carries it (a CC may send anything the codec reads). */
  readonly raw: GniRule;
}

export interface Accepted { readonly c: Case; readonly rule: GniRule; readonly src: string }
export interface Refused { readonly c: Case; readonly api: string; readonly netd: string }

/** How one family's kernel rules spell ICMP and protocol names. */
export interface FamilyMatch {
  /** 1 (ICMP) or 58 (ICMPv6). */
  readonly icmpProto: number;
  /** The `-m` module and the type option that go with it. */
  readonly icmpModule: string;
  readonly icmpOption: string;
  /** The word *-save prints for "any type" (iptables: `any`), if there is one. */
  readonly anyType?: string;
  /** A name `-p` is printed with → its number. */
  protocolNumber(name: string): number | undefined;
}

/** /etc/protocols: name → number (iptables-save prints `-p <name>` for every number it names). */
export function etcProtocols(): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of readFileSync('/etc/protocols', 'utf8').split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    if (f.length < 2 || !/^\d+$/.test(f[1] as string)) continue;
    for (const name of [f[0] as string, ...f.slice(2)]) map.set(name.toLowerCase(), Number(f[1]));
  }
  return map;
}

/**
 * Each case through the API parser: accepted ones get their own source (`source(k)`, k = the
 * case's index); refused ones carry the API's code and rule-check's (netd) code for the raw value
 * with `anyCidr` as source ('ACCEPTED' if netd would take it).
 */
export function partitionCases(cases: readonly Case[], anyCidr: string, source: (k: number) => string): { accepted: Accepted[]; refused: Refused[] } {
  const accepted: Accepted[] = [];
  const refused: Refused[] = [];
  cases.forEach((c, k) => {
    let parsed;
    try {
      parsed = parsePermission(c.input, ALL_PROTOCOLS);
    } catch (err) {
      const netd = checkRule({ ...c.raw, cidr: anyCidr });
      refused.push({ c, api: (err as { code?: string }).code ?? String(err), netd: netd?.code ?? 'ACCEPTED' });
      return;
    }
    const src = source(k);
    accepted.push({ c, rule: { ...parsed, cidr: src }, src });
  });
  return { accepted, refused };
}

export interface DocumentParts {
  readonly version: string;
  readonly group: string;
  /** The group's 4.0 ingress rules (IPv4 and source-group rules). */
  readonly ingressRules: GniRule[];
  readonly clusterExtensions?: GniExtension[];
  readonly instanceExtensions?: GniExtension[];
  readonly groupExtensions?: GniExtension[];
}

/** One cluster, one node (EXACT_NODE), one instance (EXACT_MAC) in `group`; extensions only where given. */
export function exactnessDocument(p: DocumentParts): GniDocument {
  return {
    version: p.version, sequence: 1,
    configuration: {
      mode: 'EDGE', publicIps: [], enabledClcIp: '10.0.0.5', instanceDnsDomain: 'eucalyptus.internal', instanceDnsServers: [], subnets: [],
      clusters: [{
        name: 'zone-a', subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' },
        enabledCcIp: '10.0.0.6', macPrefix: 'd0:0d', privateIps: ['10.10.1.2-10.10.2.254'],
        nodes: [{ name: EXACT_NODE, instanceIds: ['i-a0000001'] }],
        ...(p.clusterExtensions === undefined ? {} : { extensions: p.clusterExtensions }),
      }],
    },
    instances: [{
      name: 'i-a0000001', ownerId: '000000000001', macAddress: EXACT_MAC, privateIp: '10.10.1.5', securityGroups: [p.group],
      ...(p.instanceExtensions === undefined ? {} : { extensions: p.instanceExtensions }),
    }],
    securityGroups: [{ name: p.group, ownerId: '000000000001', ingressRules: p.ingressRules, ...(p.groupExtensions === undefined ? {} : { extensions: p.groupExtensions }) }],
  } as GniDocument;
}

/** netd's render of `doc` on EXACT_NODE with a minimal netd.conf. */
export function renderOnNode(doc: GniDocument): ReturnType<typeof render> {
  const cfg = parseNetdConfig('VNET_BRIDGE="br0"\nVNET_PRIVINTERFACE="eth1"\nVNET_PUBINTERFACE="eth0"');
  assert.ok(cfg.ok);
  return render(doc, { node: EXACT_NODE }, cfg.value, { bridgeMac: '02:00:0a:0a:00:01' });
}

export async function inNs(ns: string, argv: string[], input?: string): Promise<string> {
  return (await exec.run(['ip', 'netns', 'exec', ns, ...argv], input === undefined ? {} : { input })).stdout;
}

/** Rules of one chain in *-save output, keyed by their `-s` address (each case has its own). */
export function chainRulesBySource(save: string, chain: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of save.split('\n')) {
    if (!line.startsWith(`-A ${chain} `)) continue;
    const args = splitArgs(line).slice(2);
    const s = args.indexOf('-s');
    out.set(s >= 0 ? args[s + 1] as string : '', args);
  }
  return out;
}

/** What a rule asks for, in the same terms as a parsed kernel rule. */
export function asked(r: GniRule, family: FamilyMatch): Admits {
  const ports: [number, number] = r.protocol === 6 || r.protocol === 17 ? [r.fromPort as number, r.toPort as number] : [0, 65535];
  if (r.protocol !== family.icmpProto) return { proto: r.protocol, icmpType: -1, icmpCode: -1, ports };
  const type = r.icmpType ?? -1;
  return { proto: family.icmpProto, icmpType: type, icmpCode: type === -1 ? -1 : r.icmpCode ?? -1, ports };
}

/** What a read-back rule admits; protoMatch false means "no protocol match" (every protocol). */
export function kernelAdmits(args: readonly string[], family: FamilyMatch): Admits & { protoMatch: boolean; unknown: string[] } {
  const got = { proto: -1, icmpType: -1, icmpCode: -1, ports: [0, 65535] as [number, number], protoMatch: false, unknown: [] as string[] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const v = args[i + 1] ?? '';
    if (a === '-s' || a === '-j' || a === '--comment') { i++; continue; }
    if (a === '-m' && ['tcp', 'udp', family.icmpModule, 'comment'].includes(v)) { i++; continue; }
    if (a === '-p') {
      got.protoMatch = true;
      got.proto = /^\d+$/.test(v) ? Number(v) : family.protocolNumber(v) ?? Number.NaN;
      i++;
    } else if (a === family.icmpOption) {
      if (v !== family.anyType) {
        const [t, c] = v.split('/');
        got.icmpType = Number(t);
        got.icmpCode = c === undefined ? -1 : Number(c);
      }
      i++;
    } else if (a === '--dport') {
      const [lo, hi] = v.split(':');
      got.ports = [Number(lo), Number(hi ?? lo)];
      i++;
    } else {
      got.unknown.push(a);
    }
  }
  return got;
}

/** Each accepted value whose kernel rule is missing or admits anything else than was asked, said why. */
export function kernelMismatches(accepted: readonly Accepted[], bySource: Map<string, string[]>, family: FamilyMatch): string[] {
  const wrong: string[] = [];
  for (const a of accepted) {
    const args = bySource.get(a.src);
    if (args === undefined) { wrong.push(`${a.c.label}: no rule in the kernel`); continue; }
    const got = kernelAdmits(args, family);
    const want = asked(a.rule, family);
    const seen = { proto: got.proto, icmpType: got.icmpType, icmpCode: got.icmpCode, ports: got.ports };
    if (!got.protoMatch) wrong.push(`${a.c.label}: kernel rule has no protocol match (admits every protocol): ${args.join(' ')}`);
    else if (got.unknown.length > 0) wrong.push(`${a.c.label}: unexpected match arguments ${got.unknown.join(' ')}`);
    else if (JSON.stringify(want) !== JSON.stringify(seen)) wrong.push(`${a.c.label}: asked ${JSON.stringify(want)}, kernel admits ${JSON.stringify(seen)} (${args.join(' ')})`);
  }
  return wrong;
}
