/**
 * The GNI codec: deterministic serialization, escaping, round-trips of random
 * documents, and documents Eucalyptus 4.4 / 4.0 produced for an EDGE cloud.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GniCode, parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { gniVersion } from '../../../src/shared/gni/version.ts';
import { parseRuleString } from '../../../src/shared/gni/rule-string.ts';
import { randomGniDocument } from '../../fixtures/gni/random-doc.ts';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/gni/${name}`, import.meta.url)), 'utf8');

function mustParse(xml: string | Buffer): { doc: GniDocument; warnings: string[] } {
  const r = parseGni(xml);
  assert.ok(r.ok, `expected a valid document, got ${JSON.stringify(r.diagnostics)}`);
  return { doc: r.value, warnings: r.diagnostics.map((d) => `${d.code} ${d.path}`) };
}

test('parse(serialize(x)) deep-equals x for 150 random documents', () => {
  for (let seed = 1; seed <= 150; seed++) {
    const doc = randomGniDocument(seed);
    const xml = serializeGni(doc);
    const r = parseGni(xml);
    assert.ok(r.ok, `seed ${seed}: ${JSON.stringify(r.diagnostics.slice(0, 3))}`);
    assert.deepEqual(r.value, doc, `seed ${seed}`);
    assert.equal(serializeGni(r.value), xml, `seed ${seed}: re-serialization differs`);
  }
});

test('serialization is deterministic and does not depend on object key order', () => {
  const doc = randomGniDocument(42);
  const reordered = JSON.parse(JSON.stringify({ securityGroups: doc.securityGroups, instances: doc.instances, configuration: doc.configuration, sequence: doc.sequence, version: doc.version })) as GniDocument;
  assert.equal(serializeGni(reordered), serializeGni(doc));
  assert.equal(serializeGni(doc), serializeGni(structuredClone(doc)));
});

test('special characters are escaped in text and attributes and read back', () => {
  const doc = randomGniDocument(7);
  const nasty: GniDocument = {
    ...doc,
    configuration: { ...doc.configuration, instanceDnsDomain: 'a&b<c>d"e\'f' },
    securityGroups: [{ name: 'sg-"<&>\'\t', ownerId: '1 & 2 < 3', ingressRules: [] }, ...doc.securityGroups],
    instances: doc.instances.map((i) => ({ ...i, securityGroups: [...i.securityGroups] })),
  };
  const withVersion = { ...nasty, version: gniVersion(nasty) };
  const xml = serializeGni(withVersion);
  assert.ok(xml.includes('<value>a&amp;b&lt;c&gt;d"e\'f</value>'));
  assert.ok(xml.includes('name="sg-&quot;&lt;&amp;&gt;\'&#9;"'));
  assert.ok(xml.includes('<ownerId>1 &amp; 2 &lt; 3</ownerId>'));
  const { doc: back } = mustParse(xml);
  assert.deepEqual(back, withVersion);
});

test('root attributes: version first, then sequence; element order of the 4.4 root', () => {
  const doc = randomGniDocument(3);
  const xml = serializeGni({ ...doc, sequence: 12 });
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8" standalone="yes"\?>\n<network-data version="[0-9a-f]{16}" sequence="12">\n/);
  const order = ['<configuration>', '<vpcs/>', '<instances', '<dhcpOptionSets/>', '<internetGateways/>', '<securityGroups'].map((t) => xml.indexOf(`\n  ${t}`));
  assert.ok(order.every((p) => p > 0), String(order));
  assert.deepEqual([...order].sort((a, b) => a - b), order);
});

test('rule fields follow the 4.4 JAXB order', () => {
  const xml = serializeGni({
    version: 'v',
    configuration: { publicIps: [], enabledClcIp: '10.0.0.5', instanceDnsServers: [], subnets: [], clusters: [] },
    instances: [],
    securityGroups: [
      {
        name: 'sg-1',
        ownerId: '1',
        ingressRules: [
          { protocol: 6, fromPort: 22, toPort: 23, cidr: '0.0.0.0/0' },
          { protocol: 1, icmpType: -1, icmpCode: -1, groupId: 'sg-1', groupOwnerId: '1' },
        ],
      },
    ],
  });
  assert.ok(xml.includes('<rule><protocol>6</protocol><fromPort>22</fromPort><toPort>23</toPort><cidr>0.0.0.0/0</cidr></rule>'));
  assert.ok(xml.includes('<rule><protocol>1</protocol><icmpType>-1</icmpType><icmpCode>-1</icmpCode><groupId>sg-1</groupId><groupOwnerId>1</groupOwnerId></rule>'));
});

test('version is a content hash: equal content equal version, sequence does not matter, any change does', () => {
  const doc = randomGniDocument(11);
  const { version: _v, sequence: _s, ...content } = doc;
  assert.equal(gniVersion(content), doc.version);
  assert.equal(gniVersion(structuredClone(content)), doc.version);
  const changed = { ...content, configuration: { ...content.configuration, enabledClcIp: '192.0.2.251' } };
  assert.notEqual(gniVersion(changed), doc.version);
  assert.match(doc.version, /^[0-9a-f]{16}$/);
});

test('the eucalyptus-edge.md §2.3a 4.4 example parses into the expected model', () => {
  const { doc, warnings } = mustParse(fixture('euca44-example.xml'));
  assert.deepEqual(warnings, []);
  assert.deepEqual(doc, {
    version: '1a2b3c4d',
    configuration: {
      mode: 'EDGE',
      publicIps: ['203.0.113.10-203.0.113.20'],
      enabledClcIp: '10.0.0.5',
      instanceDnsDomain: 'eucalyptus.internal',
      instanceDnsServers: ['10.0.0.2'],
      subnets: [],
      clusters: [
        {
          name: 'zone-a',
          subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' },
          enabledCcIp: '10.0.0.6',
          macPrefix: 'd0:0d',
          privateIps: ['10.10.1.0-10.10.1.255'],
          nodes: [{ name: '10.0.0.21', instanceIds: ['i-1a2b3c4d'] }],
        },
      ],
    },
    instances: [{ name: 'i-1a2b3c4d', ownerId: '000000000001', macAddress: 'd0:0d:1a:2b:3c:4d', publicIp: '203.0.113.11', privateIp: '10.10.1.7', securityGroups: ['sg-0a0b0c0d'] }],
    securityGroups: [
      {
        name: 'sg-0a0b0c0d',
        ownerId: '000000000001',
        ingressRules: [
          { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' },
          { protocol: 1, icmpType: -1, icmpCode: -1, groupId: 'sg-0a0b0c0d', groupOwnerId: '000000000001' },
        ],
      },
    ],
  });
  // Re-serialized by edgenet, it still round-trips.
  assert.deepEqual(mustParse(serializeGni(doc)).doc, doc);
});

test('4.4 extras are tolerated: applied-version attributes, non-empty VPC wrappers ignored with a warning', () => {
  const xml = fixture('euca44-example.xml')
    .replace('<network-data version="1a2b3c4d">', '<network-data version="1a2b3c4d" applied-version="0f0f0f0f" applied-time="2017-01-01T00:00:00Z">')
    .replace('<vpcs/>', '<vpcs><vpc name="vpc-1"><ownerId>1</ownerId></vpc></vpcs>')
    .replace('<egressRules/>', '<egressRules><rule><protocol>-1</protocol><cidr>0.0.0.0/0</cidr></rule></egressRules>')
    .replace('<networkInterfaces/>', '<networkInterfaces><networkInterface name="eni-1"/></networkInterfaces>');
  const { doc, warnings } = mustParse(xml);
  assert.equal(doc.version, '1a2b3c4d');
  assert.deepEqual(warnings, [
    `${GniCode.Ignored} network-data/vpcs`,
    `${GniCode.Ignored} network-data/instances/instance[@name='i-1a2b3c4d']/networkInterfaces`,
    `${GniCode.Ignored} network-data/securityGroups/securityGroup[@name='sg-0a0b0c0d']/egressRules`,
  ]);
  assert.equal(doc.securityGroups[0]?.ingressRules.length, 2);
});

test('a 4.0-shaped document parses: no mode, no version (computed), rule strings mapped, 0.0.0.0 public IP dropped', () => {
  const xml = fixture('euca40-example.xml');
  const { doc, warnings } = mustParse(Buffer.from(xml));
  const { version, ...content } = doc;
  assert.equal(version, gniVersion(content));
  assert.equal(doc.configuration.mode, undefined);
  assert.deepEqual(doc.configuration.publicIps, ['203.0.113.10-203.0.113.20', '203.0.113.40']);
  assert.deepEqual(doc.configuration.subnets.map((s) => s.name), ['192.168.50.0']);
  assert.deepEqual(doc.configuration.clusters[0]?.nodes, [
    { name: '10.0.0.21', instanceIds: ['i-1a2b3c4d', 'i-5e6f7a8b'] },
    { name: '10.0.0.22', instanceIds: [] },
  ]);
  assert.equal(doc.instances[1]?.publicIp, undefined);
  assert.ok(!('publicIp' in (doc.instances[1] ?? {})));
  assert.deepEqual(doc.securityGroups[0]?.ingressRules, [
    { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' },
    { protocol: 1, icmpType: -1, icmpCode: -1, groupId: 'sg-0a0b0c0d', groupOwnerId: '000000000001' },
    { protocol: 17, fromPort: 5000, toPort: 5100, groupId: 'sg-0f0f0f0f', groupOwnerId: '000000000002' },
  ]);
  assert.deepEqual(doc.securityGroups[1]?.ingressRules, []);
  // The peer group sg-0f0f0f0f is not in the document: 4.0 did not carry referenced groups.
  assert.deepEqual(warnings, [`${GniCode.UnknownPeerGroup} network-data/securityGroups/securityGroup[@name='sg-0a0b0c0d']/ingressRules/rule[3]/groupId`]);
});

test('4.0 rule strings', () => {
  assert.deepEqual(parseRuleString('-P tcp -p 22-22  -s 0.0.0.0/0'), { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' });
  assert.deepEqual(parseRuleString('-P icmp -t 8:-1  -o sg-1 -u 0001'), { protocol: 1, icmpType: 8, icmpCode: -1, groupId: 'sg-1', groupOwnerId: '0001' });
  assert.deepEqual(parseRuleString('-P 47  -s 10.0.0.0/8'), { protocol: 47, cidr: '10.0.0.0/8' });
  assert.equal(parseRuleString('-P tcp -p 22 -s 0.0.0.0/0'), undefined);
  assert.equal(parseRuleString('-P bogus -p 1-2 -s 0.0.0.0/0'), undefined);
  assert.equal(parseRuleString(''), undefined);
});

test('a bad 4.0 rule string is reported with its path', () => {
  const xml = fixture('euca40-example.xml').replace('-P tcp -p 22-22  -s 0.0.0.0/0', '-P tcp -p twenty-two');
  const r = parseGni(xml);
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0]?.code, GniCode.BadRuleString);
  assert.equal(r.diagnostics[0]?.path, "network-data/securityGroups/securityGroup[@name='sg-0a0b0c0d']/rules/value[1]");
});
