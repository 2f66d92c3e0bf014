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
import { ip6tablesRestoreText, ipsetRestoreText } from '../../src/netd/netfilter/index.ts';
import { clusterIpv6Extension, groupIpv6Extension, instanceIpv6Extension, rulesForFamily } from '../../src/shared/gni/ipv6.ts';
import type { GniRule } from '../../src/shared/gni/model.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../../src/shared/ip.ts';
import { protocolNumber } from '../../src/shared/protocols.ts';
import { createExec } from '../../src/shared/exec.ts';
import {
  chainRulesBySource, EXACT_MAC, exactnessDocument, inNs, kernelMismatches, partitionCases, renderOnNode,
  type Case, type FamilyMatch,
} from '../helpers/exactness-kernel.ts';
import { requireRoot } from '../helpers/root.ts';

const exec = createExec();
const GROUP = 'sg-0000e8a6';
const PREFIX = '2001:db8:10::/64';
/** ip6tables: ICMPv6 is protocol 58 (`-m icmp6 --icmpv6-type`, no "any" word); `-p` names through the shared protocol table (netbase's /etc/protocols). */
const V6: FamilyMatch = { icmpProto: 58, icmpModule: 'icmp6', icmpOption: '--icmpv6-type', protocolNumber };

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

/** A dual-stack document: the instance has its EUI-64 address, the rules are all in the group's ipv6 extension. */
function documentWith(rules: GniRule[]) {
  const ext = groupIpv6Extension(rules);
  return exactnessDocument({
    version: 'v-exact6', group: GROUP, ingressRules: [],
    clusterExtensions: [clusterIpv6Extension({ prefix: PREFIX, dnsServers: [] })],
    instanceExtensions: [instanceIpv6Extension(formatIpv6(slaacAddress(parseCidr6(PREFIX)!, EXACT_MAC)!))],
    ...(ext === undefined ? {} : { groupExtensions: [ext] }),
  });
}

test('IPv6: every protocol, icmpv6 type/code and port edge the API accepts reaches ip6tables exactly; the rest is refused by API and netd', async (t) => {
  if (!requireRoot(t, 'the IPv6 rule exactness kernel check')) return;
  const { accepted, refused } = partitionCases(cases(), '::/0', (k) => `2001:db8:e::${k.toString(16)}/128`);

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
  const result = renderOnNode(documentWith(rules));
  assert.ok(result.ok, 'render');
  assert.deepEqual(result.state.warnings.filter((w) => w.startsWith('RULE_')), [], 'no accepted value is refused by the renderer');
  const chain = result.state.ip6tables.filter.chains.find((c) => c.name.endsWith(GROUP));
  assert.ok(chain, 'ip6tables group chain rendered');
  assert.equal(chain.rules.length, accepted.length + 1, 'one rule per accepted value plus the same-group rule');
  assert.equal(result.state.iptables.filter.chains.find((c) => c.name.endsWith(GROUP))?.rules.length, 1, 'IPv4 gets none of them (only its same-group rule)');

  // The refused values, as a document could carry them, are left out by netd with the same code.
  const raw = renderOnNode(documentWith(refused.map((r, k) => ({ ...r.c.raw, cidr: `2001:db8:f::${k.toString(16)}/128` }))));
  assert.ok(raw.ok);
  assert.equal(raw.state.ip6tables.filter.chains.find((c) => c.name.endsWith(GROUP))?.rules.length, 1, 'netd renders none of the refused values');
  assert.deepEqual(raw.state.warnings.filter((w) => w.startsWith('RULE_')).map((w) => w.split(':')[0]).sort(), refused.map((r) => r.netd).sort(), 'netd names each refusal');

  const ns = `h2-exact6-${randomBytes(3).toString('hex')}`;
  await exec.run(['ip', 'netns', 'add', ns]);
  try {
    await inNs(ns, ['ipset', 'restore'], ipsetRestoreText(result.state.ipsets));
    await inNs(ns, ['ip6tables-restore', '--noflush'], ip6tablesRestoreText('filter', result.state.ip6tables.filter));
    const back = chainRulesBySource(await inNs(ns, ['ip6tables-save', '-t', 'filter']), chain.name);
    assert.deepEqual(kernelMismatches(accepted, back, V6), [], 'every kernel rule admits exactly what was asked');
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
