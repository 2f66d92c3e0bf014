/**
 * `edgenet import gni` of a ROUTED document's instances (issue 17): an
 * instance of an IPv6-only cluster (no `privateIp`) is imported with no IPv4
 * lease (private_ip NULL, as the CLC's run path stores one), and an
 * instance's user data (its `routed` extension) is stored as the API stores
 * it, so the CLC rebuilds the identical document. An instance without a
 * private IP anywhere else, or one with a private IP in an IPv6-only cluster,
 * is still refused (IMPORT_INCONSISTENT); user data the API would refuse is
 * IMPORT_INVALID_USER_DATA naming the instance, with nothing written.
 * Documents are built by the real builder from the example's ROUTED property
 * (c1 dual, c2 IPv6-only, c3 IPv4-only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';
import type { NetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';
import type { CloudSnapshot, SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { planGniImport } from '../../../src/cloud-controller/import/gni-import-plan.ts';
import { importGni } from '../../../src/cloud-controller/import/import-gni.ts';
import { USER_DATA_MAX_BYTES } from '../../../src/cloud-controller/services/args.ts';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { instanceUserData } from '../../../src/shared/gni/routed.ts';
import { instanceIpv6 } from '../../../src/shared/gni/ipv6.ts';
import { runCli, sandboxEnv } from '../cli/cli-sandbox.ts';
import { MULTI_CLUSTER, readDoc, withDatabase } from './fixtures.ts';

const EXAMPLE_TEXT = readFileSync(new URL('../../../examples/network_configuration.routed.json', import.meta.url), 'utf8');
const NOW = 1_700_000_000_000;
const CLC_IP = '10.0.0.1';
const stripVersion = (xml: string) => xml.replace(/ version="[0-9a-f]{16}"/, '');

function valid(property: unknown): NetworkConfiguration {
  const v = validateNetworkConfiguration(property);
  assert.ok(v.ok, JSON.stringify(v.diagnostics));
  return v.value;
}
const EXAMPLE = valid(JSON.parse(EXAMPLE_TEXT));

const NODES: Readonly<Record<string, readonly string[]>> = { c1: ['172.31.0.11', '172.31.0.12'], c2: ['172.31.1.11'], c3: ['172.31.2.11'] };

/** User data of 16 KiB exactly (the API's limit): more than one extension value (4096 characters each). */
const LARGE = Buffer.from(Array.from({ length: USER_DATA_MAX_BYTES }, (_, i) => (i * 7 + 3) % 256)).toString('base64');
const SCRIPT = Buffer.from('#!/bin/sh\necho routed > /tmp/hello\n').toString('base64');

/**
 * c2's instance is IPv6-only with user data (and an elastic address); c1's is dual with 16 KiB of it;
 * c3's IPv4-only one has none.
 */
const INSTANCES: readonly SnapshotInstance[] = [
  { id: 'i-0a0b0c01', ownerId: '000000000001', cluster: 'c1', node: '172.31.0.11', mac: 'd0:0d:0a:0b:0c:01', privateIp: '10.50.0.10', groups: ['sg-00000001'], userData: LARGE },
  { id: 'i-0a0b0c02', ownerId: '000000000002', cluster: 'c2', node: '172.31.1.11', mac: 'd0:0d:0a:0b:0c:02', publicIp: '10.60.0.4', groups: ['sg-00000002'], userData: SCRIPT },
  { id: 'i-0a0b0c03', ownerId: '000000000001', cluster: 'c3', node: '172.31.2.11', mac: 'd0:0d:0a:0b:0c:03', privateIp: '10.52.0.7', groups: ['sg-00000001'] },
];

function snapshotOf(instances: readonly SnapshotInstance[]): CloudSnapshot {
  return {
    config: explode(EXAMPLE, DEFAULT_EXPLODE_INPUTS),
    clcIp: CLC_IP,
    clusters: Object.entries(NODES).map(([name, nodes], i) => ({
      name,
      ccUrl: `https://10.0.${i}.6:8774/`,
      ccIp: `10.0.${i}.6`,
      nodes: nodes.map((n) => ({ name: n, ncUrl: `https://${n}:8775/` })),
    })),
    instances,
    groups: [
      { id: 'sg-00000001', name: 'default', ownerId: '000000000001', rules: [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }] },
      { id: 'sg-00000002', name: 'web', ownerId: '000000000002', rules: [{ protocol: 6, fromPort: 443, toPort: 443, cidr: '2001:db8::/32' }] },
    ],
  };
}

/** The CLC's broadcast XML for these instances. */
const xmlOf = (instances: readonly SnapshotInstance[] = INSTANCES) => serializeGni(buildGni(snapshotOf(instances), { sequence: 1 }));

/** Instances and leases as stored. */
async function stored(location: string) {
  const store = await Store.open(location);
  try {
    return await store.read(async (db) => ({
      instances: await db.selectFrom('instances').select(['id', 'private_ip', 'user_data']).orderBy('id').execute(),
      leases: await db.selectFrom('ip_leases').select(['ip', 'holder']).orderBy('ip').execute(),
      rows: Number((await db.selectFrom('instances').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
        + Number((await db.selectFrom('clusters').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
        + Number((await db.selectFrom('ip_leases').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
        + Number((await db.selectFrom('properties').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
    }));
  } finally {
    await store.close();
  }
}

function refusal(fn: () => unknown, code: string): EdgenetError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EdgenetError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** `doc` with the instance `id` changed by `change`. */
function withInstance(doc: GniDocument, id: string, change: (i: GniDocument['instances'][number]) => GniDocument['instances'][number]): GniDocument {
  assert.ok(doc.instances.some((i) => i.name === id));
  return { ...doc, instances: doc.instances.map((i) => (i.name === id ? change(i) : i)) };
}

test('the document carries what is imported: c2\'s instance without privateIp, user data split over values', () => {
  const doc = readDoc(xmlOf());
  const [dual, v6only, v4only] = doc.instances;
  assert.equal(v6only!.privateIp, undefined);
  assert.ok(instanceIpv6(v6only!)?.startsWith('2001:db8:51:'), 'addressed by its IPv6 address alone');
  assert.equal(instanceUserData(v6only!), SCRIPT);
  assert.equal(instanceUserData(dual!), LARGE);
  assert.ok(dual!.extensions!.find((e) => e.name === 'routed')!.properties[0]!.values.length > 1, 'more than one value');
  assert.equal(instanceUserData(v4only!), undefined);
});

test('import: the IPv6-only instance takes no lease, user data is stored as the API stores it, and the CLC rebuilds the identical document', async () => {
  const xml = xmlOf();
  await withDatabase(async (location) => {
    const plan = planGniImport(readDoc(xml));
    assert.deepEqual(plan.warnings, []);
    assert.deepEqual(plan.instances.map((i) => [i.id, i.privateIp, i.userData?.length]), [
      ['i-0a0b0c01', '10.50.0.10', LARGE.length],
      ['i-0a0b0c02', undefined, SCRIPT.length],
      ['i-0a0b0c03', '10.52.0.7', undefined],
    ]);
    const store = await Store.open(location);
    try {
      const { summary, document } = await importGni(store, plan, { now: NOW, previewClcIp: CLC_IP });
      assert.deepEqual([summary.instances, summary.addresses, summary.warnings], [3, 1, []]);
      // The preview draws no sequence.
      assert.equal(stripVersion(serializeGni(document!)), stripVersion(xml).replace(' sequence="1"', ''), 'the preview inside the transaction');
      const state = new CloudState({ store, clock: new FakeClock(), clcIp: CLC_IP });
      const rebuilt = serializeGni(buildGni(await state.snapshot({ full: true }), { sequence: 1 }));
      assert.equal(stripVersion(rebuilt), stripVersion(xml), 'the CLC\'s own document after the import');
    } finally {
      await store.close();
    }
    const after = await stored(location);
    assert.deepEqual(after.instances, [
      { id: 'i-0a0b0c01', private_ip: '10.50.0.10', user_data: LARGE },
      { id: 'i-0a0b0c02', private_ip: null, user_data: SCRIPT },
      { id: 'i-0a0b0c03', private_ip: '10.52.0.7', user_data: null },
    ]);
    // The elastic address (the owner's) and the two IPv4 instances: nothing for the IPv6-only one.
    assert.deepEqual(after.leases, [
      { ip: '10.50.0.10', holder: 'i-0a0b0c01' },
      { ip: '10.52.0.7', holder: 'i-0a0b0c03' },
      { ip: '10.60.0.4', holder: '000000000002' },
    ]);
  });
});

test('user data in non-canonical base64 (no padding, split across values) is stored canonically, with a warning', () => {
  const doc = readDoc(xmlOf());
  const text = Buffer.from('hi!!x').toString('base64'); // 'aGkhIXg=' — drop the padding, break the line
  const loose = withInstance(doc, 'i-0a0b0c02', (i) => ({
    ...i,
    extensions: [...(i.extensions ?? []).filter((e) => e.name !== 'routed'), { name: 'routed', properties: [{ name: 'user-data', values: ['aGkh', 'IXg'] }] }],
  }));
  const plan = planGniImport(loose);
  assert.equal(plan.instances.find((i) => i.id === 'i-0a0b0c02')!.userData, text);
  assert.ok(plan.warnings.some((w) => w.startsWith('instance i-0a0b0c02: user data stored in canonical base64')), plan.warnings.join('\n'));
});

test('still refused: an EDGE instance without privateIp, and a ROUTED one outside an IPv6-only cluster (IMPORT_INCONSISTENT, same error)', () => {
  const edge = readDoc(MULTI_CLUSTER);
  const { privateIp: _edgeIp, ...noIp } = edge.instances.find((i) => i.name === 'i-0000a001')!;
  const e1 = refusal(() => planGniImport(withInstance(edge, 'i-0000a001', () => noIp)), 'IMPORT_INCONSISTENT');
  assert.match(e1.message, /instance i-0000a001 has no privateIp \(only an instance of an IPv6-only ROUTED cluster may lack one; PARTI00 is not one\)/);

  const routed = readDoc(xmlOf());
  for (const id of ['i-0a0b0c01', 'i-0a0b0c03']) {
    const { privateIp: _ip, ...without } = routed.instances.find((i) => i.name === id)!;
    const e2 = refusal(() => planGniImport(withInstance(routed, id, () => without)), 'IMPORT_INCONSISTENT');
    assert.match(e2.message, new RegExp(`instance ${id} has no privateIp \\(only an instance of an IPv6-only ROUTED cluster may lack one; c[13] is not one\\)`));
  }
  // The other way round: an IPv4 address on an IPv6-only cluster's instance (the CLC has no pool to lease it from).
  const e3 = refusal(() => planGniImport(withInstance(routed, 'i-0a0b0c02', (i) => ({ ...i, privateIp: '10.51.0.5' }))), 'IMPORT_INCONSISTENT');
  assert.match(e3.message, /instance i-0a0b0c02 has privateIp 10\.51\.0\.5 in IPv6-only ROUTED cluster c2/);
});

test('CLI: an EDGE document with an instance without privateIp is not read at all (INVALID_GNI), nothing written', async () => {
  await withDatabase(async (location, dir) => {
    await (await Store.open(location)).close();
    const file = join(dir, 'edge.xml');
    writeFileSync(file, MULTI_CLUSTER.replace('<privateIp>10.111.5.10</privateIp>', ''));
    const r = await runCli(['import', 'gni', file, '--db', location, '--json'], sandboxEnv(dir));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).error.code, 'INVALID_GNI');
    assert.equal((await stored(location)).rows, 0);
  });
});

test('--property that gives the IPv6-only cluster an IPv4 pool: its instance without privateIp is refused, nothing written', async () => {
  const property = JSON.parse(EXAMPLE_TEXT);
  property.Clusters[1].Ipv4Pool = ['10.51.0.0/24'];
  valid(property);
  await withDatabase(async (location) => {
    const plan = planGniImport(readDoc(xmlOf()), { propertyText: JSON.stringify(property) });
    const store = await Store.open(location);
    try {
      await assert.rejects(importGni(store, plan, { now: NOW }), (err) => {
        assert.ok(err instanceof EdgenetError);
        assert.equal(err.code, 'IMPORT_INCONSISTENT');
        assert.match(err.message, /instance i-0a0b0c02 has no privateIp, but the property gives cluster c2 IPv4 addresses/);
        return true;
      });
    } finally {
      await store.close();
    }
    assert.equal((await stored(location)).rows, 0);
  });
});

test('malformed user data is IMPORT_INVALID_USER_DATA naming the instance; through the CLI nothing is written', async () => {
  const tooLarge = Buffer.alloc(USER_DATA_MAX_BYTES + 1, 1).toString('base64');
  const cases: readonly [string, string, RegExp][] = [
    ['not base64', 'bm90!!!!', /Invalid BASE64 encoding of user data/],
    ['a lone character after whole quanta', 'aGkhB', /Invalid BASE64 encoding of user data/],
    ['over 16 KiB decoded', tooLarge, new RegExp(`limited to ${USER_DATA_MAX_BYTES} bytes \\(got ${USER_DATA_MAX_BYTES + 1}`)],
  ];
  for (const [what, data, message] of cases) {
    const instances = INSTANCES.map((i) => (i.id === 'i-0a0b0c02' ? { ...i, userData: data } : i));
    const doc = readDoc(xmlOf(instances));
    assert.equal(instanceUserData(doc.instances[1]!), data, `${what}: the document carries it as written`);
    const err = refusal(() => planGniImport(doc), 'IMPORT_INVALID_USER_DATA');
    assert.match(err.message, /instance i-0a0b0c02: its user data \(routed extension user-data\)/, what);
    assert.match(err.message, message, what);
  }

  await withDatabase(async (location, dir) => {
    await (await Store.open(location)).close();
    const file = join(dir, 'routed.xml');
    writeFileSync(file, xmlOf(INSTANCES.map((i) => (i.id === 'i-0a0b0c02' ? { ...i, userData: tooLarge } : i))));
    const r = await runCli(['import', 'gni', file, '--db', location, '--json'], sandboxEnv(dir));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const error = JSON.parse(r.stdout).error;
    assert.equal(error.code, 'IMPORT_INVALID_USER_DATA');
    assert.match(error.message, /i-0a0b0c02/);
    assert.equal((await stored(location)).rows, 0);
  });
});

test('an EDGE document whose instance carries a routed user-data extension: left out with a warning (only ROUTED carries it)', () => {
  const edge = readDoc(MULTI_CLUSTER);
  const doc = withInstance(edge, 'i-0000a001', (i) => ({ ...i, extensions: [{ name: 'routed', properties: [{ name: 'user-data', values: [SCRIPT] }] }] }));
  const plan = planGniImport(doc);
  assert.equal(plan.instances.find((i) => i.id === 'i-0000a001')!.userData, undefined);
  assert.ok(plan.warnings.some((w) => w.startsWith('instance i-0000a001: user data in the routed extension is left out (an EDGE document does not carry it; only ROUTED does)')), plan.warnings.join('\n'));
});
