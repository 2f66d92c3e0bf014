/**
 * Documents the parser must refuse, each with its stable code and the path of
 * the first element at fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GniCode, parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import type { Diagnostic } from '../../../src/shared/diagnostics.ts';
import { randomGniDocument } from '../../fixtures/gni/random-doc.ts';
import { GNI_ENGINES } from '../../helpers/gni-oracle/fast-xml-parser-engine.ts';

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../fixtures/gni/euca44-example.xml', import.meta.url)), 'utf8');
const INSTANCE = "network-data/instances/instance[@name='i-1a2b3c4d']";

/** The first error; both XML engines must agree on its code and path. */
function firstError(xml: string | Buffer, options?: { maxBytes?: number }): Diagnostic {
  const found = (['fast-xml-parser', 'scan'] as const).map((engine) => {
    const r = parseGni(xml, { ...options, engine: GNI_ENGINES[engine] });
    assert.equal(r.ok, false, `document should be rejected (engine ${engine})`);
    const d = r.diagnostics.find((x) => x.severity === 'error');
    assert.ok(d, 'a rejected document carries an error diagnostic');
    return d;
  });
  const [fxp, scan] = found as [Diagnostic, Diagnostic];
  assert.deepEqual({ code: scan.code, path: scan.path }, { code: fxp.code, path: fxp.path }, 'engines disagree');
  return fxp;
}

function edit(from: string, to: string): string {
  assert.ok(EXAMPLE.includes(from), `fixture lacks ${from}`);
  return EXAMPLE.replace(from, to);
}

function expectFirst(xml: string, code: string, path: string): void {
  const d = firstError(xml);
  assert.deepEqual({ code: d.code, path: d.path }, { code, path });
}

test('the unedited example is accepted (baseline for every edit below)', () => {
  assert.equal(parseGni(EXAMPLE).ok, true);
});

test('DOCTYPE is rejected before parsing', () => {
  const xml = EXAMPLE.replace('<network-data', '<!DOCTYPE network-data [<!ELEMENT network-data ANY>]>\n<network-data');
  expectFirst(xml, GniCode.DoctypeForbidden, '');
});

test('ENTITY is rejected before parsing (billion laughs)', () => {
  const lol = '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">';
  expectFirst(`<?xml version="1.0"?>\n<!doctype x [${lol}]>\n<network-data/>`, GniCode.DoctypeForbidden, '');
  expectFirst(EXAMPLE.replace('<configuration>', `<configuration><!ENTITY x "y">`), GniCode.DoctypeForbidden, '');
});

test('truncated at many offsets: always GNI_MALFORMED, never a partial document', () => {
  const xml = serializeGni(randomGniDocument(5));
  const end = xml.lastIndexOf('</network-data>') + '</network-data>'.length;
  let checked = 0;
  for (let cut = 1; cut < end; cut += 7) {
    const r = parseGni(xml.slice(0, cut));
    assert.equal(r.ok, false, `cut at ${cut} accepted`);
    const code = r.diagnostics[0]?.code;
    assert.ok(code === GniCode.Malformed || (cut < 60 && code === GniCode.WrongRoot), `cut at ${cut}: ${code}`);
    checked++;
  }
  assert.ok(checked > 100);
  assert.equal(parseGni(xml.slice(0, end)).ok, true);
});

test('malformed XML reports line and column', () => {
  const d = firstError(EXAMPLE.replace('</instances>', '</instance>'));
  assert.equal(d.code, GniCode.Malformed);
  assert.match(d.message, /line \d+, column \d+/);
});

test('wrong root', () => {
  expectFirst('<?xml version="1.0"?>\n<network-info version="1"/>', GniCode.WrongRoot, '');
  // Two roots: fast-xml-parser's validator lets it through to the root check, the scanner calls it malformed.
  for (const engine of ['fast-xml-parser', 'scan'] as const) {
    const r = parseGni('<?xml version="1.0"?>\n<network-data/><network-data/>', { engine: GNI_ENGINES[engine] });
    assert.equal(r.ok, false);
    assert.ok(([GniCode.WrongRoot, GniCode.Malformed] as string[]).includes(r.diagnostics[0]?.code ?? ''), engine);
  }
  expectFirst('', GniCode.Malformed, '');
});

test('bad IP names the element', () => {
  expectFirst(edit('<privateIp>10.10.1.7</privateIp>', '<privateIp>10.10.1.700</privateIp>'), GniCode.BadIp, `${INSTANCE}/privateIp`);
  expectFirst(edit('<publicIp>203.0.113.11</publicIp>', '<publicIp>not-an-ip</publicIp>'), GniCode.BadIp, `${INSTANCE}/publicIp`);
  expectFirst(
    edit('<property name="enabledCLCIp"><value>10.0.0.5</value>', '<property name="enabledCLCIp"><value>10.0.0</value>'),
    GniCode.BadIp,
    "network-data/configuration/property[@name='enabledCLCIp']/value[1]",
  );
});

test('missing privateIp', () => {
  expectFirst(edit('<privateIp>10.10.1.7</privateIp>', ''), GniCode.Missing, `${INSTANCE}/privateIp`);
  expectFirst(edit('<privateIp>10.10.1.7</privateIp>', '<privateIp/>'), GniCode.Missing, `${INSTANCE}/privateIp`);
});

test('instance listing an unknown group', () => {
  expectFirst(
    edit('<securityGroups><value>sg-0a0b0c0d</value></securityGroups>', '<securityGroups><value>sg-0a0b0c0d</value><value>sg-ffffffff</value></securityGroups>'),
    GniCode.UnknownGroup,
    `${INSTANCE}/securityGroups/value[2]`,
  );
  expectFirst(edit('<securityGroups><value>sg-0a0b0c0d</value></securityGroups>', '<securityGroups/>'), GniCode.Missing, `${INSTANCE}/securityGroups`);
});

test('non-EDGE mode', () => {
  expectFirst(edit('<value>EDGE</value>', '<value>VPCMIDO</value>'), GniCode.ModeUnsupported, "network-data/configuration/property[@name='mode']/value[1]");
  expectFirst(edit('<value>EDGE</value>', '<value>MANAGED-NOVLAN</value>'), GniCode.ModeUnsupported, "network-data/configuration/property[@name='mode']/value[1]");
});

test('an instance listed under a node but missing from <instances>', () => {
  expectFirst(
    edit('<instanceIds><value>i-1a2b3c4d</value></instanceIds>', '<instanceIds><value>i-1a2b3c4d</value><value>i-99999999</value></instanceIds>'),
    GniCode.UnknownInstance,
    "network-data/configuration/property[@name='clusters']/cluster[@name='zone-a']/property[@name='nodes']/node[@name='10.0.0.21']/instanceIds/value[2]",
  );
});

test('ranges: syntax, reversed, loopback', () => {
  const pub = "network-data/configuration/property[@name='publicIps']/value[1]";
  expectFirst(edit('203.0.113.10-203.0.113.20', '203.0.113.20-203.0.113.10'), GniCode.RangeReversed, pub);
  expectFirst(edit('203.0.113.10-203.0.113.20', '203.0.113.10-'), GniCode.BadRange, pub);
  expectFirst(edit('203.0.113.10-203.0.113.20', '127.0.0.1'), GniCode.BadIp, pub);
  expectFirst(
    edit('10.10.1.0-10.10.1.255', '10.10.1.255-10.10.1.0'),
    GniCode.RangeReversed,
    "network-data/configuration/property[@name='clusters']/cluster[@name='zone-a']/property[@name='privateIps']/value[1]",
  );
});

test('cluster subnet, MAC and MAC prefix syntax', () => {
  const cluster = "network-data/configuration/property[@name='clusters']/cluster[@name='zone-a']";
  expectFirst(edit('<property name="netmask"><value>255.255.0.0</value>', '<property name="netmask"><value>255.0.255.0</value>'), GniCode.BadNetmask, `${cluster}/subnet[@name='10.10.0.0']/property[@name='netmask']/value[1]`);
  expectFirst(edit('<property name="gateway"><value>10.10.0.1</value>', '<property name="gateway"><value>10.11.0.1</value>'), GniCode.BadIp, `${cluster}/subnet[@name='10.10.0.0']/property[@name='gateway']/value[1]`);
  expectFirst(edit('<value>d0:0d</value>', '<value>d00d</value>'), GniCode.BadMacPrefix, `${cluster}/property[@name='macPrefix']/value[1]`);
  expectFirst(edit('<macAddress>d0:0d:1a:2b:3c:4d</macAddress>', '<macAddress>d0:0d:1a:2b:3c</macAddress>'), GniCode.BadMac, `${INSTANCE}/macAddress`);
});

test('rules: numbers, source, reversed ports', () => {
  const rule1 = "network-data/securityGroups/securityGroup[@name='sg-0a0b0c0d']/ingressRules/rule[1]";
  expectFirst(edit('<fromPort>22</fromPort>', '<fromPort>70000</fromPort>'), GniCode.BadNumber, `${rule1}/fromPort`);
  expectFirst(edit('<fromPort>22</fromPort><toPort>22</toPort>', '<fromPort>23</fromPort><toPort>22</toPort>'), GniCode.RangeReversed, `${rule1}/fromPort`);
  expectFirst(edit('<cidr>0.0.0.0/0</cidr>', ''), GniCode.RuleSource, rule1);
  expectFirst(edit('<cidr>0.0.0.0/0</cidr>', '<cidr>0.0.0.0/0</cidr><groupId>sg-0a0b0c0d</groupId>'), GniCode.RuleSource, rule1);
  expectFirst(edit('<cidr>0.0.0.0/0</cidr>', '<cidr>0.0.0.0/33</cidr>'), GniCode.BadCidr, `${rule1}/cidr`);
  expectFirst(edit('<protocol>6</protocol>', '<protocol>tcp</protocol>'), GniCode.BadNumber, `${rule1}/protocol`);
});

test('duplicates and a missing sequence number', () => {
  const inst = EXAMPLE.slice(EXAMPLE.indexOf('<instance name='), EXAMPLE.indexOf('</instance>') + '</instance>'.length);
  const d = firstError(edit(inst, inst + inst));
  assert.equal(d.code, GniCode.Duplicate);
  assert.equal(d.path, `${INSTANCE}`);
  expectFirst(edit('<network-data version="1a2b3c4d">', '<network-data version="1a2b3c4d" sequence="-3">'), GniCode.BadNumber, 'network-data/@sequence');
});

test('required configuration: enabledCLCIp; DNS when there are clusters', () => {
  expectFirst(edit('<property name="enabledCLCIp"><value>10.0.0.5</value></property>', ''), GniCode.Missing, "network-data/configuration/property[@name='enabledCLCIp']");
  expectFirst(edit('<property name="instanceDNSServers"><value>10.0.0.2</value></property>', ''), GniCode.Missing, "network-data/configuration/property[@name='instanceDNSServers']");
  expectFirst(edit('<value>eucalyptus.internal</value>', '<value></value>'), GniCode.Missing, "network-data/configuration/property[@name='instanceDNSDomain']");
});

test('every problem is reported, in document order', () => {
  const xml = edit('<value>EDGE</value>', '<value>MANAGED</value>').replace('<privateIp>10.10.1.7</privateIp>', '<privateIp>x</privateIp>');
  const r = parseGni(xml);
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    [GniCode.ModeUnsupported, GniCode.BadIp],
  );
});

test('size limit is checked first, in bytes', () => {
  const d = firstError(Buffer.from(EXAMPLE), { maxBytes: 100 });
  assert.equal(d.code, GniCode.TooLarge);
  assert.equal(parseGni(EXAMPLE, { maxBytes: Buffer.byteLength(EXAMPLE) }).ok, true);
});

test('an instance under two nodes, and a duplicated instance that a node lists', () => {
  const node = '<node name="10.0.0.21"><instanceIds><value>i-1a2b3c4d</value></instanceIds></node>';
  const nodes = "network-data/configuration/property[@name='clusters']/cluster[@name='zone-a']/property[@name='nodes']";
  expectFirst(
    edit(node, `${node}<node name="10.0.0.22"><instanceIds><value>i-1a2b3c4d</value></instanceIds></node>`),
    GniCode.InstanceOnTwoNodes,
    `${nodes}/node[@name='10.0.0.22']/instanceIds/value[1]`,
  );
  // Placing an instance does not hide that its record appears twice (and vice versa).
  const inst = EXAMPLE.slice(EXAMPLE.indexOf('<instance name='), EXAMPLE.indexOf('</instance>') + '</instance>'.length);
  const r = parseGni(edit(inst, inst + inst));
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.path]), [[GniCode.Duplicate, INSTANCE]]);
});

test('ROUTED: an instance may leave privateIp out (IPv6-only), and a cluster its privateIps; an empty one is still refused', () => {
  const routed = edit('<value>EDGE</value>', '<value>ROUTED</value>');
  const noIp = routed.replace('<privateIp>10.10.1.7</privateIp>', '');
  for (const engine of ['fast-xml-parser', 'scan'] as const) {
    const r = parseGni(noIp, { engine: GNI_ENGINES[engine] });
    assert.ok(r.ok, `${engine}: ${JSON.stringify(!r.ok && r.diagnostics)}`);
    const inst = r.value.instances.find((i) => i.name === 'i-1a2b3c4d');
    assert.ok(inst !== undefined && !('privateIp' in inst), 'absent, not empty');
    // The encoder leaves the element out, so the document reads back the same.
    const again = parseGni(serializeGni(r.value), { engine: GNI_ENGINES[engine] });
    assert.ok(again.ok);
    assert.deepEqual(again.value.instances, r.value.instances);
    assert.ok(!serializeGni(r.value).includes('<privateIp>'));
  }
  const noPool = noIp.replace(/<property name="privateIps">[\s\S]*?<\/property>/, '<property name="privateIps"/>');
  assert.notEqual(noPool, noIp);
  assert.ok(parseGni(noPool).ok, 'an IPv6-only ROUTED cluster has no IPv4 pool');
  expectFirst(routed.replace('<privateIp>10.10.1.7</privateIp>', '<privateIp/>'), GniCode.Missing, `${INSTANCE}/privateIp`);
});
