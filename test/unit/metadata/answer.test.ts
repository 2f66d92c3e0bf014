import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerMetadata, METADATA_VERSIONS, type MetadataInstance } from '../../../src/cloud-controller/metadata/answer.ts';
import { eucaHostname, hostnameDomains } from '../../../src/cloud-controller/metadata/hostnames.ts';

const vm: MetadataInstance = {
  id: 'i-0a0b0c0d',
  privateIp: '10.111.0.5',
  publicIp: '203.0.113.50',
  mac: 'd0:0d:0a:0b:0c:0d',
  securityGroupNames: ['web', 'db'],
  securityGroupIds: ['sg-00000001', 'sg-00000002'],
  cluster: 'PARTI00',
  ownerId: '000000000001',
  localHostname: 'euca-10-111-0-5.eucalyptus.internal',
  publicHostname: 'euca-203-0-113-50.eucalyptus.localhost',
};

test('the meta-data index lists every entry, directories with a trailing slash', () => {
  for (const path of ['/latest/meta-data/', '/latest/meta-data']) {
    const a = answerMetadata(path, vm);
    assert.equal(a.status, 200);
    assert.deepEqual(String(a.body).split('\n'), ['hostname', 'instance-id', 'local-hostname', 'local-ipv4', 'mac', 'network/', 'placement/', 'public-hostname', 'public-ipv4', 'security-groups']);
  }
  assert.deepEqual(String(answerMetadata('/', vm).body).split('\n'), METADATA_VERSIONS.map((v) => `${v}/`));
  assert.ok(METADATA_VERSIONS.includes('2009-04-04') && METADATA_VERSIONS.includes('latest'));
  assert.deepEqual(answerMetadata('/latest/', vm), { status: 200, body: 'dynamic/\nmeta-data/' });
  assert.deepEqual(answerMetadata('/2009-04-04/meta-data/instance-id', vm), { status: 200, body: 'i-0a0b0c0d' }, 'dated versions serve the same tree');
  assert.deepEqual(answerMetadata('/latest/meta-data/placement/', vm), { status: 200, body: 'availability-zone' });
});

test('leaves answer the instance values', () => {
  const get = (p: string) => answerMetadata(`/latest/meta-data/${p}`, vm);
  assert.deepEqual(get('instance-id'), { status: 200, body: 'i-0a0b0c0d' });
  assert.deepEqual(get('local-ipv4'), { status: 200, body: '10.111.0.5' });
  assert.deepEqual(get('public-ipv4'), { status: 200, body: '203.0.113.50' });
  assert.deepEqual(get('mac'), { status: 200, body: 'd0:0d:0a:0b:0c:0d' });
  assert.deepEqual(get('security-groups'), { status: 200, body: 'web\ndb' });
  assert.deepEqual(get('placement/availability-zone'), { status: 200, body: 'PARTI00' });
});

test('public-ipv4 does not exist without a public address (EC2 answers 404)', () => {
  const { publicIp: _drop, ...privateOnly } = vm;
  assert.equal(answerMetadata('/latest/meta-data/public-ipv4', privateOnly).status, 404);
  assert.doesNotMatch(String(answerMetadata('/latest/meta-data/', privateOnly).body), /public-ipv4/);
});

test('unknown paths, paths below a leaf and dot segments are 404', () => {
  for (const p of ['/latest/meta-data/nope', '/latest/meta-data/instance-id/x', '/latest/user-data', '/2009-04-04/user-data', '/latest/meta-data/../meta-data/mac', '/x', '/2099-01-01/meta-data/']) {
    assert.equal(answerMetadata(p, vm).status, 404, p);
  }
});

test('the hostname family: Eucalyptus names from the instance subdomain', () => {
  const get = (p: string) => String(answerMetadata(`/latest/meta-data/${p}`, vm).body);
  assert.equal(get('hostname'), 'euca-10-111-0-5.eucalyptus.internal');
  assert.equal(get('local-hostname'), 'euca-10-111-0-5.eucalyptus.internal');
  assert.equal(get('public-hostname'), 'euca-203-0-113-50.eucalyptus.localhost');
  const { publicIp: _p, publicHostname: _h, ...privateOnly } = vm;
  assert.equal(answerMetadata('/latest/meta-data/public-hostname', privateOnly).status, 404);
  assert.deepEqual(hostnameDomains({}), { privateDomain: 'eucalyptus.internal', publicDomain: 'eucalyptus.localhost' });
  assert.deepEqual(hostnameDomains({ instanceSubdomain: '.cloud1', dnsDomain: 'example.com' }), { privateDomain: 'cloud1.internal', publicDomain: 'cloud1.example.com' });
  assert.deepEqual(hostnameDomains({ instanceDnsDomain: 'corp.internal', instanceSubdomain: '.eucalyptus' }).privateDomain, 'corp.internal', 'the network configuration wins');
  assert.equal(eucaHostname('10.111.1.5', '.eucalyptus.internal'), 'euca-10-111-1-5.eucalyptus.internal');
});

test('network/interfaces/macs/<mac>/ describes the one interface', () => {
  const base = `/latest/meta-data/network/interfaces/macs/`;
  assert.deepEqual(answerMetadata(base, vm), { status: 200, body: `${vm.mac}/` });
  const listing = String(answerMetadata(`${base}${vm.mac}/`, vm).body).split('\n');
  assert.deepEqual(listing, ['device-number', 'local-hostname', 'local-ipv4s', 'mac', 'owner-id', 'public-hostname', 'public-ipv4s', 'security-group-ids', 'security-groups']);
  const get = (leaf: string) => answerMetadata(`${base}${vm.mac}/${leaf}`, vm);
  assert.deepEqual(get('device-number'), { status: 200, body: '0' });
  assert.equal(get('local-ipv4s').body, '10.111.0.5');
  assert.equal(get('public-ipv4s').body, '203.0.113.50');
  assert.equal(get('mac').body, vm.mac);
  assert.equal(get('security-group-ids').body, 'sg-00000001\nsg-00000002');
  assert.equal(get('owner-id').body, '000000000001');
  assert.equal(answerMetadata(`${base}d0:0d:ff:ff:ff:ff/mac`, vm).status, 404, 'only its own MAC');
  const { publicIp: _p, ...privateOnly } = vm;
  assert.equal(answerMetadata(`${base}${vm.mac}/public-ipv4s`, privateOnly).status, 404);
});

test('dynamic/instance-identity/document is JSON about the instance; user-data is 404 when there is none', () => {
  assert.deepEqual(answerMetadata('/latest/dynamic/', vm), { status: 200, body: 'instance-identity/' });
  assert.deepEqual(answerMetadata('/latest/dynamic/instance-identity/', vm), { status: 200, body: 'document' });
  const doc = answerMetadata('/latest/dynamic/instance-identity/document', vm);
  assert.equal(doc.status, 200);
  assert.equal(doc.contentType, 'application/json');
  const json = JSON.parse(String(doc.body)) as Record<string, unknown>;
  assert.deepEqual([json.instanceId, json.privateIp, json.availabilityZone, json.accountId, json.region], ['i-0a0b0c0d', '10.111.0.5', 'PARTI00', '000000000001', 'eucalyptus']);
  assert.equal(answerMetadata('/latest/user-data', vm).status, 404);
  assert.doesNotMatch(String(answerMetadata('/latest/', vm).body), /user-data/);
});
