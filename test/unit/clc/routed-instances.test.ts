/**
 * Instances of a ROUTED cloud in the CLC (issue 17), on the test store
 * (SQLite, or PostgreSQL under EDGENET_TEST_DB=postgres): an IPv6-only
 * cluster's instance gets no IPv4 (no lease, private_ip NULL) and its EUI-64
 * IPv6 address; dual and IPv4 clusters allocate from their Ipv4Pool as EDGE
 * does; an elastic address associates with an IPv6-only instance; terminate
 * releases nothing it never had; `ipam show` has no pool for an IPv6-only
 * cluster but lists its addresses; the snapshot and the document carry the
 * IPv4-less instance (ROUTED only) and its user data; the metadata service
 * finds it by its IPv6 source and serves its user data. User data itself:
 * base64 as EC2 takes it, 16 KiB, EC2's code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { fixture, rejectsCode, type Fixture } from './fixture.ts';
import { mapGni } from '../../../src/cloud-controller/gni/map.ts';
import { createMetadataLookup } from '../../../src/cloud-controller/metadata/lookup.ts';
import { answerMetadata } from '../../../src/cloud-controller/metadata/answer.ts';
import type { SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import { USER_DATA_MAX_BYTES } from '../../../src/cloud-controller/services/args.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';

const ROUTED = {
  Mode: 'ROUTED',
  InstanceDnsServers: ['10.0.0.2'],
  MacPrefix: 'd0:0d',
  PublicIps: ['192.0.2.10-192.0.2.12'],
  Bgp: { LocalAsn: 65001, Peers: [{ Address: '10.0.0.254', Asn: 65000 }, { Address: 'fd00:10::254', Asn: 65000 }] },
  Clusters: [
    { Name: 'C1', Ipv4Pool: ['10.50.0.10-10.50.0.12'], Ipv6Prefix: '2001:db8:50::/64' },
    { Name: 'C2', MacPrefix: 'aa:bb', Ipv6Prefix: '2001:db8:51::/64' },
    { Name: 'C3', Ipv4Pool: ['10.52.0.10-10.52.0.11'] },
  ],
};

async function routedCloud(): Promise<Fixture & { groupId: string }> {
  const f = await fixture();
  await f.properties.set('cloud.network.network_configuration', JSON.stringify(ROUTED));
  for (const [k, name] of ['C1', 'C2', 'C3'].entries()) {
    await f.state.registerCluster({ name, ccUrl: `https://10.0.${k}.6:8774/` });
    await f.state.registerNode({ cluster: name, name: `10.0.${k}.7`, ncUrl: `https://10.0.${k}.7:8775/` });
  }
  const g = await f.state.createGroup({ name: 'web' });
  return { ...f, groupId: g.id };
}

/** `net` (the /64's four groups, as RFC 5952 writes them) + the modified EUI-64 of the MAC: written out here, not the code under test. */
function eui64(net: string, mac: string): string {
  const b = mac.split(':').map((h) => Number.parseInt(h, 16));
  const groups = [((b[0]! ^ 0x02) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!].map((n) => n.toString(16));
  return `${net}:${groups.join(':')}`;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

test('ROUTED: an IPv6-only cluster\'s instance has no private IP and no lease, its EUI-64 IPv6 address; dual and IPv4 clusters allocate from the Ipv4Pool', async () => {
  const f = await routedCloud();
  try {
    const v6only = await f.state.runInstance({ cluster: 'C2', groups: ['web'] });
    assert.equal(v6only.privateIp, undefined);
    assert.ok(!('privateIp' in v6only), 'absent, not null');
    assert.match(v6only.mac, /^aa:bb:/);
    assert.equal(v6only.ipv6, eui64('2001:db8:51:0', v6only.mac));
    // Several IPv4-less instances: UNIQUE private_ip lets NULLs repeat.
    const second = await f.state.runInstance({ cluster: 'C2', groups: ['web'] });
    assert.equal(second.privateIp, undefined);
    const leases = await f.store.read((db) => db.selectFrom('ip_leases').select(['ip', 'holder']).execute());
    assert.deepEqual(leases, [], 'nothing leased for IPv6-only instances');
    const rows = await f.store.read((db) => db.selectFrom('instances').select(['id', 'private_ip']).where('cluster', '=', 'C2').orderBy('id').execute());
    assert.deepEqual(rows, [v6only.id, second.id].sort().map((id) => ({ id, private_ip: null })));
    await rejectsCode(f.state.runInstance({ cluster: 'C2', groups: ['web'], privateIp: '10.50.0.10' }), 'ADDRESS_NOT_IN_POOL');

    const dual = await f.state.runInstance({ cluster: 'C1', groups: ['web'] });
    assert.equal(dual.privateIp, '10.50.0.10');
    assert.equal(dual.ipv6, eui64('2001:db8:50:0', dual.mac));
    const v4 = await f.state.runInstance({ cluster: 'C3', groups: ['web'], privateIp: '10.52.0.11' });
    assert.equal(v4.privateIp, '10.52.0.11');
    assert.equal(v4.ipv6, undefined);
    await rejectsCode(f.state.runInstance({ cluster: 'C3', groups: ['web'], privateIp: '10.50.0.11' }), 'ADDRESS_NOT_IN_POOL');

    // Listing and showing: no private IP, the IPv6 address.
    const listed = await f.state.listInstances({ cluster: 'C2' });
    assert.deepEqual(listed.map((i) => [i.id, i.privateIp, i.ipv6]), [v6only, second].sort((a, b) => (a.id < b.id ? -1 : 1)).map((i) => [i.id, undefined, i.ipv6]));
    assert.equal((await f.state.getInstance(v6only.id)).privateIp, undefined);

    // An elastic address associates with it; terminate disassociates it and releases no private IP.
    const addr = await f.state.allocateAddress({});
    await f.state.associateAddress({ ip: addr.ip, instance: v6only.id });
    assert.equal((await f.state.getInstance(v6only.id)).publicIp, addr.ip);
    const gone = await f.state.terminateInstance(v6only.id);
    assert.equal(gone.privateIp, undefined);
    const after = await f.store.read((db) => db.selectFrom('ip_leases').select(['ip', 'state']).orderBy('ip_num').execute());
    assert.deepEqual(after, [
      { ip: '10.50.0.10', state: 'allocated' },
      { ip: '10.52.0.11', state: 'allocated' },
      { ip: addr.ip, state: 'allocated' },
    ], 'the public address stays allocated to the account; no hold for an address the instance never had');
    assert.equal((await f.state.listAddresses()).find((a) => a.ip === addr.ip)?.instanceId, undefined);
  } finally {
    await f.close();
  }
});

test('ROUTED ipam show: no IPv4 pool for an IPv6-only cluster, its instances under ipv6; --cluster on it works', async () => {
  const f = await routedCloud();
  try {
    const a = await f.state.runInstance({ cluster: 'C2', groups: ['web'] });
    const view = await f.state.ipamShow();
    assert.deepEqual(view.pools.map((p) => [p.pool, p.size]), [['public', 3], ['cluster:C1', 3], ['cluster:C3', 2]]);
    assert.deepEqual(view.ipv6?.map((c) => c.cluster), ['C1', 'C2']);
    const only = await f.state.ipamShow('C2');
    assert.deepEqual(only.pools, []);
    assert.deepEqual(only.ipv6, [{ cluster: 'C2', prefix: '2001:db8:51::/64', dnsServers: [], instances: [{ id: a.id, mac: a.mac, ipv6: a.ipv6 }] }]);
    await rejectsCode(f.state.ipamShow('C9'), 'CLUSTER_NOT_CONFIGURED');
  } finally {
    await f.close();
  }
});

test('ROUTED snapshot and document: the IPv4-less instance with its user data; metadata finds it by its IPv6 source and serves its user data', async () => {
  const f = await routedCloud();
  try {
    const userData = b64('#cloud-config\nhostname: v6only\n');
    const v6only = await f.state.runInstance({ cluster: 'C2', groups: ['web'], userData });
    const dual = await f.state.runInstance({ cluster: 'C1', groups: ['web'] });
    assert.equal(v6only.userData, userData, 'run answers with it (getInstance)');
    assert.equal((await f.state.listInstances()).some((i) => i.userData !== undefined), false, 'listings leave it out');

    const snap = await f.state.snapshot({ full: true });
    const s = snap.instances.find((i) => i.id === v6only.id);
    assert.deepEqual(s, { id: v6only.id, ownerId: v6only.ownerId, cluster: 'C2', node: '10.0.1.7', mac: v6only.mac, groups: [f.groupId], userData } satisfies SnapshotInstance);
    assert.equal(snap.instances.find((i) => i.id === dual.id)?.userData, undefined);

    const doc = buildGni(snap, {});
    const inDoc = doc.instances.find((i) => i.name === v6only.id);
    assert.ok(inDoc !== undefined, 'included: it has an IPv6 address');
    assert.equal(inDoc.privateIp, undefined);
    const xml = serializeGni(doc);
    const at = xml.indexOf(`<instance name="${v6only.id}">`);
    const element = xml.slice(at, xml.indexOf('</instance>', at));
    assert.ok(at >= 0 && element.includes('<macAddress>') && !element.includes('<privateIp>'), element);
    const parsed = parseGni(xml);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.diagnostics));
    assert.equal(parsed.value.instances.find((i) => i.name === v6only.id)?.privateIp, undefined);
    assert.equal(parsed.value.instances.find((i) => i.name === dual.id)?.privateIp, dual.privateIp);

    // The incremental snapshot sees user data like any other field of a new instance.
    const third = await f.state.runInstance({ cluster: 'C2', groups: ['web'], userData: b64('x') });
    assert.equal((await f.state.snapshot()).instances.find((i) => i.id === third.id)?.userData, b64('x'));

    const lookup = createMetadataLookup({
      instanceByPrivateIp: (ip) => f.state.instanceByPrivateIp(ip),
      snapshot: () => f.state.snapshot(),
      onChange: (listener) => f.store.onChange((c) => listener(c, 'local')),
      getProperty: async () => undefined,
    });
    try {
      const found = await lookup.lookup(v6only.ipv6!);
      assert.ok(found !== undefined, 'found by its IPv6 source');
      assert.equal(found.id, v6only.id);
      assert.equal(found.privateIp, undefined);
      assert.equal(found.localHostname, `${v6only.id}.eucalyptus.internal`);
      const ud = answerMetadata('/latest/user-data', found);
      assert.equal(ud.status, 200);
      assert.equal(ud.contentType, 'application/octet-stream');
      assert.deepEqual(ud.body, Buffer.from('#cloud-config\nhostname: v6only\n'));
      assert.equal(answerMetadata('/latest/meta-data/local-ipv4', found).status, 404);
      assert.equal(String(answerMetadata('/latest/meta-data/ipv6', found).body), v6only.ipv6);
      assert.deepEqual(String(answerMetadata('/latest/', found).body).split('\n'), ['dynamic/', 'meta-data/', 'user-data']);
      // The dual instance by its private IPv4 (the store read), without user data: 404.
      const byV4 = await lookup.lookup(dual.privateIp!);
      assert.equal(byV4?.id, dual.id);
      assert.equal(answerMetadata('/latest/user-data', byV4!).status, 404);
    } finally {
      lookup.close();
    }
  } finally {
    await f.close();
  }
});

test('EDGE document: an instance without a private IP is never included (only a ROUTED one may lack it)', async () => {
  const f = await routedCloud();
  try {
    await f.state.runInstance({ cluster: 'C2', groups: ['web'] });
    const snap = await f.state.snapshot({ full: true });
    assert.equal(mapGni(snap).instances.length, 1);
    // The same instances under an EDGE configuration (the mapper decides by the document's mode).
    const edge = { ...snap, config: { ...snap.config!, Mode: 'EDGE' as const } };
    assert.deepEqual(mapGni(edge).instances, []);
  } finally {
    await f.close();
  }
});

test('user data: base64 as EC2 takes it (blanks, no padding), canonical when stored; bad base64 and more than 16 KiB are InvalidParameterValue; empty is none', async () => {
  const f = await routedCloud();
  try {
    const run = (userData: unknown) => f.state.runInstance({ cluster: 'C2', groups: ['web'], userData });
    assert.equal((await run('aGVs\nbG8=')).userData, b64('hello'));
    assert.equal((await run('aGVsbG8')).userData, b64('hello'), 'padding optional');
    const max = Buffer.alloc(USER_DATA_MAX_BYTES, 0xff).toString('base64');
    const big = await run(max);
    assert.equal(big.userData, max, `${USER_DATA_MAX_BYTES} bytes are allowed`);
    await f.state.terminateInstance(big.id);
    const before = await f.store.read((db) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM instances`.execute(db));
    for (const bad of ['not base64!', 'aGVsbG8=x', 'a', '====', Buffer.alloc(USER_DATA_MAX_BYTES + 1).toString('base64'), 42]) {
      await rejectsCode(run(bad), 'InvalidParameterValue');
    }
    const afterCount = await f.store.read((db) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM instances`.execute(db));
    assert.equal(Number(afterCount.rows[0]!.n), Number(before.rows[0]!.n), 'a refused run makes nothing');
    assert.equal((await run('')).userData, undefined);
    assert.equal((await f.store.read((db) => db.selectFrom('instances').select('user_data').where('user_data', 'is not', null).execute())).length, 2);
  } finally {
    await f.close();
  }
});
