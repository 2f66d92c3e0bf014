/**
 * Metadata on a dual-stack cluster (issue 14): the IPv6 entries of the tree
 * (`meta-data/ipv6`, the interface's `ipv6s` and `subnet-ipv6-cidr-blocks`,
 * as EC2 names them), the lookup by an IPv6 source (the instance's EUI-64
 * address, in any spelling) and by an IPv4-mapped one, the listeners
 * (a second one on [CLC_IPV6] beside an IPv4 listen address, none beside an
 * IPv6 one), and a real request from an IPv6 source over loopback in a
 * private network namespace (root only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClcContext, CloudSnapshot, SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import type { ExplodedNetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';
import { answerMetadata, type MetadataInstance } from '../../../src/cloud-controller/metadata/answer.ts';
import { createMetadataLookup, normalizeSourceIp } from '../../../src/cloud-controller/metadata/lookup.ts';
import { metadataListeners, metadataPlugin } from '../../../src/cloud-controller/metadata/plugin.ts';
import { metadataContext, requestFrom } from './metadata-fakes.ts';

const subnet = (name: string, v6?: string) => ({ Name: name, Subnet: name, Netmask: '255.255.0.0', Gateway: name.replace(/0$/, '1'), ...(v6 ? { Ipv6Prefix: v6, Ipv6DnsServers: [] } : {}) });
const CONFIG: ExplodedNetworkConfiguration = {
  Mode: 'EDGE',
  InstanceDnsDomain: 'eucalyptus.internal',
  InstanceDnsServers: [],
  MacPrefix: 'd0:0d',
  PublicIps: [],
  Subnets: [],
  Clusters: [
    { Name: 'PARTI00', MacPrefix: 'd0:0d', Subnet: subnet('10.111.0.0', '2001:db8:10::/64'), PrivateIps: [] },
    { Name: 'PARTI01', MacPrefix: 'd0:0e', Subnet: subnet('10.112.0.0'), PrivateIps: [] },
  ],
};
const DUAL: SnapshotInstance = { id: 'i-1a2b3c4d', ownerId: 'a', cluster: 'PARTI00', node: 'n1', mac: 'd0:0d:1a:2b:3c:4d', privateIp: '127.0.0.1', groups: ['sg-1'] };
const DUAL_V6 = '2001:db8:10:0:d20d:1aff:fe2b:3c4d';
const PLAIN: SnapshotInstance = { id: 'i-b0000001', ownerId: 'a', cluster: 'PARTI01', node: 'n2', mac: 'd0:0e:b0:00:00:01', privateIp: '10.112.1.5', groups: ['sg-1'] };

function fakeContext(instances: SnapshotInstance[] = [DUAL, PLAIN], env: NodeJS.ProcessEnv = {}): ClcContext {
  return metadataContext({
    env,
    snapshot: async (): Promise<CloudSnapshot> => ({ config: CONFIG, clcIp: '127.0.0.1', clusters: [], instances, groups: [{ id: 'sg-1', name: 'web', ownerId: 'a', rules: [] }] }),
    instanceByPrivateIp: async (ip) => instances.find((i) => i.privateIp === ip),
  });
}

const base: MetadataInstance = { id: 'i-1a2b3c4d', privateIp: '10.111.1.7', mac: 'd0:0d:1a:2b:3c:4d', securityGroupNames: ['web'], cluster: 'PARTI00' };

test('answer: ipv6, the interface ipv6s and subnet-ipv6-cidr-blocks on a dual-stack instance; absent (404, unlisted) otherwise', () => {
  const dual = { ...base, ipv6: DUAL_V6, ipv6Prefix: '2001:db8:10::/64' };
  assert.deepEqual(answerMetadata('/latest/meta-data/ipv6', dual), { status: 200, body: DUAL_V6 });
  assert.deepEqual(answerMetadata('/latest/meta-data/network/interfaces/macs/d0:0d:1a:2b:3c:4d/ipv6s', dual), { status: 200, body: DUAL_V6 });
  assert.deepEqual(answerMetadata('/latest/meta-data/network/interfaces/macs/d0:0d:1a:2b:3c:4d/subnet-ipv6-cidr-blocks', dual), { status: 200, body: '2001:db8:10::/64' });
  assert.ok(String(answerMetadata('/latest/meta-data/', dual).body).split('\n').includes('ipv6'));
  assert.ok(String(answerMetadata('/2009-04-04/meta-data/network/interfaces/macs/d0:0d:1a:2b:3c:4d/', dual).body).split('\n').includes('ipv6s'));
  assert.equal(answerMetadata('/latest/meta-data/ipv6', base).status, 404);
  assert.equal(answerMetadata('/latest/meta-data/network/interfaces/macs/d0:0d:1a:2b:3c:4d/ipv6s', base).status, 404);
  assert.ok(!String(answerMetadata('/latest/meta-data/', base).body).includes('ipv6'));
});

test('source normalization: IPv4 as is, IPv4-mapped to IPv4, IPv6 canonical without zone, junk refused', () => {
  assert.deepEqual(normalizeSourceIp('10.0.0.5'), { family: 'ipv4', ip: '10.0.0.5' });
  assert.deepEqual(normalizeSourceIp('::ffff:10.0.0.5'), { family: 'ipv4', ip: '10.0.0.5' });
  assert.deepEqual(normalizeSourceIp('::FFFF:a00:5'), { family: 'ipv4', ip: '10.0.0.5' });
  assert.deepEqual(normalizeSourceIp('2001:DB8:10:0:D20D:1AFF:FE2B:3C4D'), { family: 'ipv6', ip: DUAL_V6 });
  assert.deepEqual(normalizeSourceIp('fe80::1%vn_i-1'), { family: 'ipv6', ip: 'fe80::1' });
  assert.equal(normalizeSourceIp(''), undefined);
  assert.equal(normalizeSourceIp('2001::db8::1'), undefined);
});

test('lookup: by the IPv6 source (any spelling) and by the private IPv4 source, both answering the IPv6 fields', async () => {
  const lookup = createMetadataLookup(fakeContext());
  try {
    for (const source of [DUAL_V6, '2001:0db8:0010::d20d:1aff:fe2b:3c4d', '::ffff:127.0.0.1', '127.0.0.1']) {
      const found = await lookup.lookup(source);
      assert.equal(found?.id, 'i-1a2b3c4d', source);
      assert.equal(found?.ipv6, DUAL_V6, source);
      assert.equal(found?.ipv6Prefix, '2001:db8:10::/64', source);
    }
    const plain = await lookup.lookup('10.112.1.5');
    assert.equal(plain?.id, 'i-b0000001');
    assert.equal(plain?.ipv6, undefined);
    assert.ok(!('ipv6' in (plain as object)));
    // Another address of the /64, the link-local of the MAC, and the IPv4 private address written as IPv6: nobody.
    for (const source of ['2001:db8:10::1', 'fe80::d20d:1aff:fe2b:3c4d', '::127.0.0.1']) assert.equal(await lookup.lookup(source), undefined, source);
  } finally {
    lookup.close();
  }
});

test('listeners: [CLC_IPV6] beside an IPv4 listen address, nothing more beside an IPv6 one or without CLC_IPV6', () => {
  assert.deepEqual(metadataListeners({ host: '0.0.0.0', port: 8773 }, 'fd00:172:31::2'), [{ host: '0.0.0.0', port: 8773 }, { host: 'fd00:172:31::2', port: 8773 }]);
  assert.deepEqual(metadataListeners({ host: '::', port: 8773 }, 'fd00:172:31::2'), [{ host: '::', port: 8773 }]);
  assert.deepEqual(metadataListeners({ host: '0.0.0.0', port: 8773 }, undefined), [{ host: '0.0.0.0', port: 8773 }]);
  assert.deepEqual(metadataListeners({ host: '0.0.0.0', port: 8773 }, ''), [{ host: '0.0.0.0', port: 8773 }]);
});

const get = (host: string, port: number, path: string, localAddress: string) => requestFrom(host, port, path, localAddress);

test('plugin: CLC_IPV6 from the environment gets its own listener; a dual-stack [::] listener maps IPv4 sources', async (t) => {
  const plugin = metadataPlugin({ listen: '127.0.0.1:0' });
  await plugin.start(fakeContext(undefined, { EDGENET_CLC_CLC_IPV6: '::1' }));
  try {
    const all = plugin.addresses();
    if (all.length < 2) {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    assert.equal(all[1]?.host, '::1');
    // ::1 is no instance: found nothing, answered 404 (the lookup took the IPv6 path).
    assert.equal((await get('::1', all[1]!.port, '/latest/meta-data/instance-id', '::1')).status, 404);
  } finally {
    await plugin.stop();
  }
  const dual = metadataPlugin({ listen: '[::]:0', clcIpv6: '::1' });
  await dual.start(fakeContext());
  try {
    assert.equal(dual.addresses().length, 1);
    // An IPv4 client of the dual-stack socket arrives as ::ffff:127.0.0.1 and is the instance 127.0.0.1.
    assert.deepEqual(await get('127.0.0.1', dual.address()!.port, '/latest/meta-data/ipv6', '127.0.0.1'), { status: 200, body: DUAL_V6 });
  } finally {
    await dual.stop();
  }
});

test('an instance asking from its IPv6 address gets its own answers (private network namespace, root)', (t) => {
  if (process.getuid?.() !== 0 || spawnSync('unshare', ['--version']).status !== 0) {
    t.skip('needs root and unshare');
    return;
  }
  const child = fileURLToPath(new URL('./ipv6-source.child.ts', import.meta.url));
  // unshare --net: a namespace of its own (only lo), removed when the child exits, whatever happens.
  const r = spawnSync('unshare', ['--net', '--', process.execPath, '--import', 'tsx', child], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `child failed:\n${r.stdout}\n${r.stderr}`);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
    ipv6: { status: 200, body: DUAL_V6 },
    instanceId: { status: 200, body: 'i-1a2b3c4d' },
    ipv6s: { status: 200, body: DUAL_V6 },
    stranger: { status: 404, body: 'Not Found\n' },
  });
});
