/**
 * sanitize (src/netd/render/sanitize.ts): the reason table, one row per code,
 * and the hostile corpus (test/fixtures/hostile/*.xml) without a kernel:
 * every document is refused by the codec with its named code, or sanitized
 * with exactly the refusals it names, and renders exactly like the base
 * document minus those entries. The same corpus runs against a real kernel in
 * test/integration/netd-hardening-corpus.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseGni } from '../../../src/shared/gni/codec.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import { render } from '../../../src/netd/render/render.ts';
import { isUnicastHost, isUnicastMac, sanitizeGni } from '../../../src/netd/render/sanitize.ts';
import { formatIpv6, parseCidr6, parseIp, slaacAddress } from '../../../src/shared/ip.ts';
import { clusterIpv6Extension, instanceIpv6Extension } from '../../../src/shared/gni/ipv6.ts';
import { clusterRoutedExtension } from '../../../src/shared/gni/routed.ts';
import { A1, CASES, NODE1, X, baseCloud, caseCloud, cloudDocument, expectedCloud, type Cloud } from '../../fixtures/hostile/corpus.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/hostile');
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: NODE1, bridge: 'br0', publicInterface: 'pub0', ncRouter: true, metadataUseVmPrivate: true };
const FACTS = { bridgeMac: '02:00:00:00:00:01', bridgeAddresses: [`${NODE1}/24`] };

function parsed(text: string): GniDocument {
  const r = parseGni(text);
  assert.ok(r.ok, `parses: ${JSON.stringify(!r.ok && r.diagnostics.filter((d) => d.severity === 'error'))}`);
  return r.value;
}

function renderedWithout(doc: GniDocument) {
  const r = render(doc, { node: NODE1 }, CONFIG, FACTS);
  assert.ok(r.ok, JSON.stringify(r));
  const { warnings: _w, version: _v, sequence: _s, ...rest } = r.state;
  return rest;
}

test('the corpus holds at least 40 documents, each a file named for what it tries', () => {
  assert.ok(CASES.length >= 40, `${CASES.length} cases`);
  for (const k of CASES) assert.ok(readFileSync(path.join(dir, `${k.name}.xml`), 'utf8').includes('<network-data'), k.name);
  assert.equal(new Set(CASES.map((k) => k.name)).size, CASES.length);
});

for (const k of CASES) {
  test(`hostile ${k.name}: ${k.tries}`, () => {
    const text = readFileSync(path.join(dir, `${k.name}.xml`), 'utf8');
    const p = parseGni(text);
    if ('invalid' in k.expect) {
      assert.equal(p.ok, false, 'the codec refuses the whole document');
      assert.ok(!p.ok && p.diagnostics.some((d) => d.severity === 'error' && d.code === (k.expect as { invalid: string }).invalid),
        `expected ${k.expect.invalid}: ${JSON.stringify(!p.ok && p.diagnostics)}`);
      return;
    }
    assert.ok(p.ok, `parses: ${JSON.stringify(!p.ok && p.diagnostics)}`);
    const s = sanitizeGni(p.value, { hostAddresses: FACTS.bridgeAddresses });
    assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), k.expect.refused.map((e) => [...e]));
    const want = expectedCloud(caseCloud(k), k.expect.refused);
    if (want.clcIp === '') {
      // No valid document lacks enabledCLCIp: compare with the base minus its metadata DNAT.
      const got = renderedWithout(s.doc);
      const base = renderedWithout(cloudDocument(baseCloud(), 1));
      const pre = base.iptables.nat.chains.map((c) => ({ ...c, rules: c.rules.filter((r) => r.target.kind !== 'dnat' || r.target.address !== '172.31.0.2') }));
      // …and minus the CLC in the cloud hosts set (render/instance-guard.ts).
      const ipsets = base.ipsets.map((set) => (set.name.endsWith('-HOSTS') ? { ...set, members: set.members.filter((m) => m !== '172.31.0.2') } : set));
      assert.deepEqual(got, { ...base, ipsets, iptables: { ...base.iptables, nat: { ...base.iptables.nat, chains: pre } } });
      return;
    }
    assert.deepEqual(renderedWithout(s.doc), renderedWithout(cloudDocument(want, 1)), 'the rest of the document renders as if the bad entries were never there');
  });
}

test('a clean document passes unchanged (same object: nothing to report)', () => {
  const doc = cloudDocument(baseCloud(), 1);
  const s = sanitizeGni(doc, { hostAddresses: FACTS.bridgeAddresses });
  assert.equal(s.doc, doc);
  assert.deepEqual(s.refusals, []);
});

test('this host\'s own addresses are never an instance\'s, private or public', () => {
  const c: Cloud = baseCloud();
  c.instances.push({ ...X, privateIp: '10.111.7.7' });
  c.nodes[0]!.instanceIds.push(X.name);
  const s = sanitizeGni(cloudDocument(c, 1), { hostAddresses: ['10.111.7.7/16'] });
  assert.deepEqual(s.refusals.map((r) => r.code), ['PRIVATE_IP_IS_HOST']);
  const p = sanitizeGni(cloudDocument(baseCloud(), 1), { hostAddresses: [`${A1.publicIp}/32`] });
  assert.deepEqual(p.refusals.map((r) => [r.code, r.subject]), [['PUBLIC_IP_IS_HOST', `instance "${A1.name}"`]]);
});

test('a left-out group leaves its members\' lists; the members stay', () => {
  const k = CASES.find((x) => x.name === 'group-id-wildcard')!;
  const s = sanitizeGni(cloudDocument(caseCloud(k), 1));
  assert.deepEqual(s.doc.instances.find((i) => i.name === X.name)?.securityGroups, ['sg-000000eb']);
  assert.equal(s.doc.securityGroups.some((g) => g.name === 'sg-+'), false);
});

test('unicast tables: MACs and host addresses', () => {
  for (const [mac, ok] of [['d0:0d:00:00:00:01', true], ['02:00:00:00:00:01', true], ['01:00:5e:00:00:01', false], ['ff:ff:ff:ff:ff:ff', false], ['33:33:00:00:00:01', false], ['00:00:00:00:00:00', false], ['03:00:00:00:00:00', false]] as const) {
    assert.equal(isUnicastMac(mac), ok, mac);
  }
  for (const [ip, ok] of [['10.0.0.1', true], ['203.0.113.5', true], ['0.0.0.0', false], ['0.1.2.3', false], ['127.0.0.1', false], ['127.255.0.1', false], ['169.254.169.254', false], ['224.0.0.1', false], ['239.255.255.250', false], ['240.0.0.1', false], ['255.255.255.255', false], ['169.253.0.1', true]] as const) {
    assert.equal(isUnicastHost(parseIp(ip)!), ok, ip);
  }
});

test('a refused instance is also gone from its node and from every group set (it is nobody)', () => {
  const k = CASES.find((x) => x.name === 'mac-duplicate-remote')!;
  const doc = parsed(readFileSync(path.join(dir, `${k.name}.xml`), 'utf8'));
  const s = sanitizeGni(doc);
  assert.equal(s.doc.configuration.clusters[0]!.nodes.some((n) => n.instanceIds.includes(X.name)), false);
  const r = render(s.doc, { node: NODE1 }, CONFIG, FACTS);
  assert.ok(r.ok);
  const web = r.state.ipsets.find((x) => x.name === 'EDGENET-sg-000000eb')!;
  assert.equal(web.members.includes('10.111.1.21'), false, 'B1 (the MAC twin) is out of its group set');
  assert.ok(X.privateIp !== undefined);
  assert.equal(web.members.includes(X.privateIp), false);
});

test('EDGE: an instance without a private IP is refused (INSTANCE_NO_PRIVATE_IP) and never rendered; the rest renders as if it were never there', () => {
  const c: Cloud = baseCloud();
  const { privateIp: _p, publicIp: _q, ...noIpv4 } = X;
  c.instances.push(noIpv4);
  c.nodes[0]!.instanceIds.push(X.name);
  const doc = cloudDocument(c, 1);
  assert.equal(doc.instances.find((i) => i.name === X.name)?.privateIp, undefined, 'the document carries it without a private IP');
  const s = sanitizeGni(doc, { hostAddresses: FACTS.bridgeAddresses });
  assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [['INSTANCE_NO_PRIVATE_IP', `instance "${X.name}"`]]);
  assert.equal(s.doc.instances.some((i) => i.name === X.name), false);
  assert.equal(s.doc.configuration.clusters[0]!.nodes.some((n) => n.instanceIds.includes(X.name)), false);
  assert.deepEqual(renderedWithout(s.doc), renderedWithout(cloudDocument(baseCloud(), 1)));
});

test('ROUTED: an instance without a private IP is not refused for it (an IPv6-only instance has none)', () => {
  const c: Cloud = baseCloud();
  const { privateIp: _p, publicIp: _q, ...noIpv4 } = X;
  const prefix = '2001:db8:77::/64';
  const address = formatIpv6(slaacAddress(parseCidr6(prefix)!, X.macAddress!)!);
  c.instances.push({ ...noIpv4, extensions: [instanceIpv6Extension(address)] });
  const doc = cloudDocument(c, 1);
  // An ipv6-only ROUTED cluster (routed-sanitize.ts checks the addressing: it must be valid for anything to pass).
  const [first, ...rest] = doc.configuration.clusters;
  const cluster = { ...first!, privateIps: [], extensions: [clusterRoutedExtension('ipv6'), clusterIpv6Extension({ prefix, dnsServers: [] })] };
  const routed = { ...doc, configuration: { ...doc.configuration, mode: 'ROUTED', clusters: [cluster, ...rest] } };
  const s = sanitizeGni(routed);
  assert.equal(s.refusals.some((r) => r.code === 'INSTANCE_NO_PRIVATE_IP'), false, JSON.stringify(s.refusals));
  assert.ok(s.doc.instances.some((i) => i.name === X.name));
});
