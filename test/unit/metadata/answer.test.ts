import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerMetadata, type MetadataInstance } from '../../../src/cloud-controller/metadata/answer.ts';

const vm: MetadataInstance = {
  id: 'i-0a0b0c0d',
  privateIp: '10.111.0.5',
  publicIp: '203.0.113.50',
  mac: 'd0:0d:0a:0b:0c:0d',
  securityGroupNames: ['web', 'db'],
  cluster: 'PARTI00',
};

test('the meta-data index lists every entry, directories with a trailing slash', () => {
  for (const path of ['/latest/meta-data/', '/latest/meta-data']) {
    const a = answerMetadata(path, vm);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.split('\n'), ['instance-id', 'local-ipv4', 'mac', 'placement/', 'public-ipv4', 'security-groups']);
  }
  assert.deepEqual(answerMetadata('/', vm), { status: 200, body: 'latest/' });
  assert.deepEqual(answerMetadata('/latest/', vm), { status: 200, body: 'meta-data/' });
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
  assert.doesNotMatch(answerMetadata('/latest/meta-data/', privateOnly).body, /public-ipv4/);
});

test('unknown paths, paths below a leaf and dot segments are 404', () => {
  for (const p of ['/latest/meta-data/nope', '/latest/meta-data/instance-id/x', '/latest/user-data', '/latest/meta-data/../meta-data/mac', '/x']) {
    assert.equal(answerMetadata(p, vm).status, 404, p);
  }
});
