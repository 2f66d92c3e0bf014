/**
 * IPv6 rule exactness on a real kernel (issue 14; the IPv4 test is
 * netd-hardening-exactness.test.ts). Every protocol 0–255 with an IPv6
 * source, every ICMPv6 type -1..256 with code -1, code edges on a few types,
 * tcp/udp port edges and the mixed-family values go the path a real rule
 * goes: the CLC's parser (services/permission.ts) → the group's `ipv6`
 * extension of a dual-stack document → netd's render → `ipset restore` +
 * `ip6tables-restore` (one batch) into a scratch namespace →
 * `ip6tables-save`. Each read-back rule must admit exactly what was asked;
 * every value not rendered is refused by the API (EC2 code) and rule-check
 * (RULE_* code).
 *
 * The kernel fact behind ICMPv6's range, with real packets between two
 * scratch namespaces: unlike iptables' `--icmp-type 255` ("any"),
 * ip6tables' `--icmpv6-type 255` matches type 255 only, `255/3` type 255
 * code 3 only, and `128/255` no echo request (code 0). So ICMPv6 takes
 * types -1..255 where ICMP stops at 254.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { parsePermission } from '../../src/cloud-controller/services/permission.ts';
import type { PermissionInput } from '../../src/cloud-controller/services/permission.ts';
import { parseNetdConfig } from '../../src/netd/config.ts';
import { ip6tablesRestoreText, ipsetRestoreText, splitArgs } from '../../src/netd/netfilter/index.ts';
import { render } from '../../src/netd/render/render.ts';
import { clusterIpv6Extension, groupIpv6Extension, instanceIpv6Extension, rulesForFamily } from '../../src/shared/gni/ipv6.ts';
import type { GniDocument, GniRule } from '../../src/shared/gni/model.ts';
import { checkRule } from '../../src/shared/gni/rule-check.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../../src/shared/ip.ts';
import { protocolNumber } from '../../src/shared/protocols.ts';
import { createExec } from '../../src/shared/exec.ts';
import { requireRoot } from '../helpers/root.ts';

const exec = createExec();
const GROUP = 'sg-0000e8a6';
const PREFIX = '2001:db8:10::/64';
const MAC = 'd0:0d:a0:00:00:01';

interface Admits { proto: number; icmpType: number; icmpCode: number; ports: [number, number] }
interface Case { readonly label: string; readonly input: PermissionInput; readonly raw: GniRule }

function cases(): Case[] {
  const out: Case[] = [];
  const any6 = { cidr: '::/0' };
  for (let p = 0; p <= 255; p++) {
    if (p === 6 || p === 17) out.push({ label: `protocol ${p} all ports`, input: { protocol: p, port: '-1', ...any6 }, raw: { protocol: p, fromPort: 0, toPort: 65535 } });
    else if (p === 58) out.push({ label: 'protocol 58 any type', input: { protocol: p, icmp: '-1:-1', ...any6 }, raw: { protocol: 58, icmpType: -1, icmpCode: -1 } });
    else if (p === 1) out.push({ label: 'icmp with an IPv6 source', input: { protocol: p, icmp: '-1:-1', ...any6 }, raw: { protocol: 1, icmpType: -1, icmpCode: -1 } });
    else out.push({ label: `protocol ${p}`, input: { protocol: p, ...any6 }, raw: { protocol: p } });
  }
  for (let t = -1; t <= 256; t++) out.push({ label: `icmpv6 ${t}:-1`, input: { protocol: 'icmpv6', icmp: `${t}:-1`, ...any6 }, raw: { protocol: 58, icmpType: t, icmpCode: -1 } });
  for (const t of [-1, 0, 1, 128, 254, 255]) {
    for (const c of [0, 254, 255, 256]) out.push({ label: `icmpv6 ${t}:${c}`, input: { protocol: 'icmpv6', icmp: `${t}:${c}`, ...any6 }, raw: { protocol: 58, icmpType: t, icmpCode: c } });
  }
  for (const proto of ['tcp', 'udp'] as const) {
    const n = proto === 'tcp' ? 6 : 17;
    for (const [text, lo, hi] of [['0', 0, 0], ['1', 1, 1], ['65535', 65535, 65535], ['1-1024', 1, 1024], ['0-65534', 0, 65534], ['65536', 65536, 65536], ['10-5', 10, 5]] as [string, number, number][]) {
      out.push({ label: `${proto} ${text}`, input: { protocol: proto, port: text, ...any6 }, raw: { protocol: n, fromPort: lo, toPort: hi } });
    }
  }
  out.push({ label: 'icmpv6 with ports', input: { protocol: 'icmpv6', port: '80', ...any6 }, raw: { protocol: 58, fromPort: 80, toPort: 80 } });
  return out;
}

function asked(r: GniRule): Admits {
  const ports: [number, number] = r.protocol === 6 || r.protocol === 17 ? [r.fromPort as number, r.toPort as number] : [0, 65535];
  if (r.protocol !== 58) return { proto: r.protocol, icmpType: -1, icmpCode: -1, ports };
  const type = r.icmpType ?? -1;
  return { proto: 58, icmpType: type, icmpCode: type === -1 ? -1 : r.icmpCode ?? -1, ports };
}

/** What a read-back ip6tables rule admits (names through the shared protocol table, which lists netbase's /etc/protocols). */
function kernelAdmits(args: readonly string[]): Admits & { protoMatch: boolean; unknown: string[] } {
  const got = { proto: -1, icmpType: -1, icmpCode: -1, ports: [0, 65535] as [number, number], protoMatch: false, unknown: [] as string[] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const v = args[i + 1] ?? '';
    if (a === '-s' || a === '-j' || a === '--comment') { i++; continue; }
    if (a === '-m' && ['tcp', 'udp', 'icmp6', 'comment'].includes(v)) { i++; continue; }
    if (a === '-p') {
      got.protoMatch = true;
      got.proto = /^\d+$/.test(v) ? Number(v) : protocolNumber(v) ?? Number.NaN;
      i++;
    } else if (a === '--icmpv6-type') {
      const [t, c] = v.split('/');
      got.icmpType = Number(t);
      got.icmpCode = c === undefined ? -1 : Number(c);
      i++;
    } else if (a === '--dport') {
      const [lo, hi] = v.split(':');
      got.ports = [Number(lo), Number(hi ?? lo)];
      i++;
    } else got.unknown.push(a);
  }
  return got;
}

function documentWith(rules: GniRule[]): GniDocument {
  const address = formatIpv6(slaacAddress(parseCidr6(PREFIX)!, MAC)!);
  const ext = groupIpv6Extension(rules);
  return {
    version: 'v-exact6', sequence: 1,
    configuration: {
      mode: 'EDGE', publicIps: [], enabledClcIp: '10.0.0.5', instanceDnsDomain: 'eucalyptus.internal', instanceDnsServers: [], subnets: [],
      clusters: [{
        name: 'zone-a', subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' },
        enabledCcIp: '10.0.0.6', macPrefix: 'd0:0d', privateIps: ['10.10.1.2-10.10.2.254'],
        nodes: [{ name: '10.0.0.21', instanceIds: ['i-a0000001'] }],
        extensions: [clusterIpv6Extension({ prefix: PREFIX, dnsServers: [] })],
      }],
    },
    instances: [{ name: 'i-a0000001', ownerId: '000000000001', macAddress: MAC, privateIp: '10.10.1.5', securityGroups: [GROUP], extensions: [instanceIpv6Extension(address)] }],
    securityGroups: [{ name: GROUP, ownerId: '000000000001', ingressRules: [], ...(ext === undefined ? {} : { extensions: [ext] }) }],
  } as GniDocument;
}

async function inNs(ns: string, argv: string[], input?: string): Promise<string> {
  return (await exec.run(['ip', 'netns', 'exec', ns, ...argv], input === undefined ? {} : { input })).stdout;
}

function chainRulesBySource(save: string, chain: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of save.split('\n')) {
    if (!line.startsWith(`-A ${chain} `)) continue;
    const args = splitArgs(line).slice(2);
    const s = args.indexOf('-s');
    out.set(s >= 0 ? args[s + 1] as string : '', args);
  }
  return out;
}

const cfg = (() => {
  const c = parseNetdConfig('VNET_BRIDGE="br0"\nVNET_PRIVINTERFACE="eth1"\nVNET_PUBINTERFACE="eth0"');
  assert.ok(c.ok);
  return c.value;
})();

test('IPv6: every protocol, icmpv6 type/code and port edge the API accepts reaches ip6tables exactly; the rest is refused by API and netd', async (t) => {
  if (!requireRoot(t, 'the IPv6 rule exactness kernel check')) return;
  const accepted: { c: Case; rule: GniRule; src: string }[] = [];
  const refused: { c: Case; api: string; netd: string }[] = [];
  cases().forEach((c, k) => {
    let parsed;
    try {
      parsed = parsePermission(c.input, Array.from({ length: 256 }, (_, i) => i));
    } catch (err) {
      const netd = checkRule({ ...c.raw, cidr: '::/0' });
      refused.push({ c, api: (err as { code?: string }).code ?? String(err), netd: netd?.code ?? 'ACCEPTED' });
      return;
    }
    const src = `2001:db8:e::${k.toString(16)}/128`;
    accepted.push({ c, rule: { ...parsed, cidr: src }, src });
  });

  const expectRefused: [string, string][] = [
    ['protocol 0', 'InvalidParameterValue RULE_PROTOCOL'],
    ['icmp with an IPv6 source', 'InvalidPermission.Malformed RULE_FAMILY'],
    ['icmpv6 256:-1', 'InvalidParameterValue RULE_ICMP'],
    ['icmpv6 -1:0', 'InvalidParameterValue RULE_ICMP'], ['icmpv6 -1:254', 'InvalidParameterValue RULE_ICMP'], ['icmpv6 -1:255', 'InvalidParameterValue RULE_ICMP'], ['icmpv6 -1:256', 'InvalidParameterValue RULE_ICMP'],
    ...[0, 1, 128, 254, 255].map((ty): [string, string] => [`icmpv6 ${ty}:256`, 'InvalidParameterValue RULE_ICMP']),
    ['tcp 65536', 'InvalidParameterValue RULE_PORTS'], ['tcp 10-5', 'InvalidParameterValue RULE_PORTS'],
    ['udp 65536', 'InvalidParameterValue RULE_PORTS'], ['udp 10-5', 'InvalidParameterValue RULE_PORTS'],
    ['icmpv6 with ports', 'InvalidPermission.Malformed RULE_FIELD_NOT_APPLICABLE'],
  ];
  assert.deepEqual(refused.map((r) => [r.c.label, `${r.api} ${r.netd}`]).sort(), expectRefused.sort(), 'refused values and their reasons (API code, netd rule-check code)');
  assert.ok(accepted.some((a) => a.c.label === 'icmpv6 255:-1') && accepted.some((a) => a.c.label === 'icmpv6 255:255'), 'ICMPv6 type 255 is accepted (exact in ip6tables)');

  // Every accepted rule is IPv6-only and renders in the ip6tables group chain.
  const rules = accepted.map((a) => a.rule);
  assert.equal(rulesForFamily('ipv6', [], rules).length, rules.length);
  const result = render(documentWith(rules), { node: '10.0.0.21' }, cfg, { bridgeMac: '02:00:0a:0a:00:01' });
  assert.ok(result.ok, 'render');
  assert.deepEqual(result.state.warnings.filter((w) => w.startsWith('RULE_')), [], 'no accepted value is refused by the renderer');
  const chain = result.state.ip6tables.filter.chains.find((c) => c.name.endsWith(GROUP));
  assert.ok(chain, 'ip6tables group chain rendered');
  assert.equal(chain.rules.length, accepted.length + 1, 'one rule per accepted value plus the same-group rule');
  assert.equal(result.state.iptables.filter.chains.find((c) => c.name.endsWith(GROUP))?.rules.length, 1, 'IPv4 gets none of them (only its same-group rule)');

  // The refused values, as a document could carry them, are left out by netd with the same code.
  const raw = render(documentWith(refused.map((r, k) => ({ ...r.c.raw, cidr: `2001:db8:f::${k.toString(16)}/128` }))), { node: '10.0.0.21' }, cfg, { bridgeMac: '02:00:0a:0a:00:01' });
  assert.ok(raw.ok);
  assert.equal(raw.state.ip6tables.filter.chains.find((c) => c.name.endsWith(GROUP))?.rules.length, 1, 'netd renders none of the refused values');
  assert.deepEqual(raw.state.warnings.filter((w) => w.startsWith('RULE_')).map((w) => w.split(':')[0]).sort(), refused.map((r) => r.netd).sort(), 'netd names each refusal');

  const ns = `h2-exact6-${randomBytes(3).toString('hex')}`;
  await exec.run(['ip', 'netns', 'add', ns]);
  try {
    await inNs(ns, ['ipset', 'restore'], ipsetRestoreText(result.state.ipsets));
    await inNs(ns, ['ip6tables-restore', '--noflush'], ip6tablesRestoreText('filter', result.state.ip6tables.filter));
    const back = chainRulesBySource(await inNs(ns, ['ip6tables-save', '-t', 'filter']), chain.name);
    const wrong: string[] = [];
    for (const a of accepted) {
      const args = back.get(a.src);
      if (args === undefined) { wrong.push(`${a.c.label}: no rule in the kernel`); continue; }
      const got = kernelAdmits(args);
      const want = asked(a.rule);
      const seen = { proto: got.proto, icmpType: got.icmpType, icmpCode: got.icmpCode, ports: got.ports };
      if (!got.protoMatch) wrong.push(`${a.c.label}: no protocol match (every protocol): ${args.join(' ')}`);
      else if (got.unknown.length > 0) wrong.push(`${a.c.label}: unexpected arguments ${got.unknown.join(' ')}`);
      else if (JSON.stringify(want) !== JSON.stringify(seen)) wrong.push(`${a.c.label}: asked ${JSON.stringify(want)}, kernel ${JSON.stringify(seen)} (${args.join(' ')})`);
    }
    assert.deepEqual(wrong, [], 'every kernel rule admits exactly what was asked');
    assert.equal([...back.keys()].filter((k) => k !== '').length, accepted.length, 'no extra sourced rules in the chain');
    assert.ok(accepted.length > 500, `covers the value space (${accepted.length} accepted values)`);
  } finally {
    await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  }
});

/** Sends one ICMPv6 message of the given type/code from `ns` to `dst` (the kernel fills the checksum of a raw ICMPv6 socket). */
async function sendIcmpv6(ns: string, dst: string, type: number, code: number): Promise<void> {
  const py = 'import socket,sys\ns=socket.socket(socket.AF_INET6,socket.SOCK_RAW,socket.IPPROTO_ICMPV6)\n'
    + 's.sendto(bytes([int(sys.argv[2]),int(sys.argv[3]),0,0,0,0,0,0]),(sys.argv[1],0))\n';
  await inNs(ns, ['/usr/bin/python3', '-c', py, dst, String(type), String(code)]);
}

test('kernel: ip6tables --icmpv6-type 255 is type 255, not "any" (unlike iptables --icmp-type 255)', async (t) => {
  if (!requireRoot(t, 'the ICMPv6 type 255 kernel check')) return;
  const tag = randomBytes(3).toString('hex');
  const [a, b] = [`h2-i6a-${tag}`, `h2-i6b-${tag}`];
  const [va, vb] = [`h2a${tag}`, `h2b${tag}`];
  await exec.run(['ip', 'netns', 'add', a]);
  await exec.run(['ip', 'netns', 'add', b]);
  try {
    await exec.run(['ip', 'link', 'add', va, 'netns', a, 'type', 'veth', 'peer', 'name', vb, 'netns', b]);
    await exec.run(['ip', '-n', a, 'link', 'set', va, 'up']);
    await exec.run(['ip', '-n', b, 'link', 'set', vb, 'up']);
    await exec.run(['ip', '-n', a, 'addr', 'add', '2001:db8:77::1/64', 'dev', va, 'nodad']);
    await exec.run(['ip', '-n', b, 'addr', 'add', '2001:db8:77::2/64', 'dev', vb, 'nodad']);
    const matches = ['255', '255/3', '255/0', '128', '128/0', '128/255', '0'];
    const restore = `*filter\n:H2-COUNT - [0:0]\n-A INPUT -s 2001:db8:77::1/128 -p ipv6-icmp -j H2-COUNT\n${matches.map((m) => `-A H2-COUNT -p ipv6-icmp -m icmp6 --icmpv6-type ${m} -m comment --comment "${m}"\n`).join('')}COMMIT\n`;
    await inNs(b, ['ip6tables-restore', '--noflush'], restore);
    // The echo reply proves the path (and neighbour discovery) works before the raw messages are counted.
    await inNs(a, ['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '2001:db8:77::2']);
    await sendIcmpv6(a, '2001:db8:77::2', 255, 3);
    await sendIcmpv6(a, '2001:db8:77::2', 255, 3);
    await sendIcmpv6(a, '2001:db8:77::2', 254, 0);
    const counted = async (): Promise<Map<string, number>> => {
      const save = await inNs(b, ['ip6tables-save', '-c', '-t', 'filter']);
      const out = new Map<string, number>();
      for (const line of save.split('\n')) {
        const m = /^\[(\d+):\d+\] -A H2-COUNT .*--comment "?([^" ]+)"?/.exec(line);
        if (m) out.set(m[2] as string, Number(m[1]));
      }
      return out;
    };
    // Raw sends are asynchronous to the receiver's counters only by the wire: wait for the last one to be counted.
    const deadline = Date.now() + 5000;
    let got = await counted();
    while ((got.get('255') ?? 0) < 2 && Date.now() < deadline) got = await counted();
    assert.deepEqual(Object.fromEntries(got), {
      '255': 2, // type 255 only: not the echo requests, not type 254
      '255/3': 2,
      '255/0': 0,
      '128': 2,
      '128/0': 2,
      '128/255': 0,
      '0': 0,
    });
  } finally {
    await exec.run(['ip', 'netns', 'del', a], { okExitCodes: [0, 1] });
    await exec.run(['ip', 'netns', 'del', b], { okExitCodes: [0, 1] });
  }
});
