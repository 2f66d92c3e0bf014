/**
 * `edgenet import gni` refusals and atomicity: a non-empty database, a
 * malformed document, ids in forms edgenet does not keep, documents the CLC
 * could not rebuild, a running CLC; an import that fails half-way (or a dry
 * run) leaves the database exactly as empty as it was. Through main() as a
 * script runs it, and through the import functions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, sandboxEnv } from '../cli/cli-sandbox.ts';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { planGniImport, type GniImportPlan } from '../../../src/cloud-controller/import/gni-import-plan.ts';
import { importGni } from '../../../src/cloud-controller/import/import-gni.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { MULTI_CLUSTER, readDoc, withDatabase } from './fixtures.ts';

const EUCA44 = readFileSync(new URL('../../fixtures/gni/euca44-example.xml', import.meta.url), 'utf8');
const NOW = 1_700_000_000_000;

/** The CLI in this process, its state, conf and run directories all `dir`. */
const run = (args: readonly string[], dir: string) => runCli(args, sandboxEnv(dir));

/** Rows of every state table and the stored property (what "empty" means to the import). */
async function contents(file: string): Promise<Record<string, number>> {
  const store = await Store.open(file);
  try {
    return await store.read(async (db) => {
      const out: Record<string, number> = {};
      for (const t of ['properties', 'property_history', 'clusters', 'nodes', 'instances', 'instance_groups', 'security_groups', 'group_rules', 'public_addresses', 'ip_leases'] as const) {
        out[t] = Number((await db.selectFrom(t).select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      }
      return out;
    });
  } finally {
    await store.close();
  }
}

const EMPTY = { properties: 0, property_history: 0, clusters: 0, nodes: 0, instances: 0, instance_groups: 0, security_groups: 0, group_rules: 0, public_addresses: 0, ip_leases: 0 };

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string): Promise<EdgenetError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(err instanceof EdgenetError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('CLI: import, then a second import into the now non-empty database is refused and changes nothing', async () => {
  await withDatabase(async (db, dir) => {
    const gni = join(dir, 'gni.xml');
    writeFileSync(gni, MULTI_CLUSTER);
    const first = await run(['import', 'gni', gni, '--db', db, '--json'], dir);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const summary = JSON.parse(first.stdout);
    assert.deepEqual([summary.clusters, summary.nodes, summary.instances, summary.groups, summary.rules, summary.addresses], [2, 3, 5, 4, 7, 3]);
    assert.equal(summary.propertySource, 'document');
    assert.equal(summary.clcIp, '10.0.0.5');
    assert.ok(summary.notReconstructed.length > 0, 'the rebuilt property says what it could not rebuild');
    const after = await contents(db);
    assert.deepEqual([after.clusters, after.nodes, after.instances, after.security_groups, after.public_addresses, after.ip_leases], [2, 3, 5, 4, 3, 8]);

    const second = await run(['import', 'gni', gni, '--db', db, '--json'], dir);
    assert.equal(second.code, 1);
    const err = JSON.parse(second.stdout).error;
    assert.equal(err.code, 'IMPORT_DATABASE_NOT_EMPTY');
    assert.match(err.message, /2 clusters/);
    assert.deepEqual(await contents(db), after);
  });
});

test('CLI: --dry-run checks everything and writes nothing; the text summary names what would be imported', async () => {
  await withDatabase(async (db, dir) => {
    const gni = join(dir, 'gni.xml');
    writeFileSync(gni, EUCA44);
    const out = join(dir, 'preview.xml');
    const r = await run(['import', 'gni', gni, '--db', db, '--dry-run', '--gni-out', out], dir);
    assert.equal(r.code, 0, r.stderr);
    // The preview is the CLC's document of the imported state, written although nothing was imported.
    const preview = readDoc(readFileSync(out, 'utf8'));
    assert.deepEqual(preview.instances.map((i) => [i.name, i.macAddress, i.privateIp, i.publicIp]), [['i-1a2b3c4d', 'd0:0d:1a:2b:3c:4d', '10.10.1.7', '203.0.113.11']]);
    assert.equal(preview.configuration.enabledClcIp, '10.0.0.5');
    assert.match(r.stdout, /would import .*1 cluster\(s\), 1 node\(s\), 1 instance\(s\), 1 security group\(s\) with 2 rule\(s\), 1 associated public address/);
    assert.match(r.stdout, /dry run: nothing was written/);
    assert.deepEqual(await contents(db), EMPTY);
  });
});

test('CLI: a malformed document is refused before the database is touched', async () => {
  await withDatabase(async (db, dir) => {
    const gni = join(dir, 'gni.xml');
    writeFileSync(gni, EUCA44.replace('</instances>', ''));
    const r = await run(['import', 'gni', gni, '--db', db, '--json'], dir);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.code, 'INVALID_GNI');
    // Validated, not only well-formed: a MAC that is not one.
    writeFileSync(gni, EUCA44.replace('d0:0d:1a:2b:3c:4d', 'd0:0d:1a:2b:3c'));
    const bad = await run(['import', 'gni', gni, '--db', db, '--json'], dir);
    assert.equal(JSON.parse(bad.stdout).error.code, 'INVALID_GNI');
  });
});

test('CLI: an invalid --property is refused with its diagnostics and nothing is written', async () => {
  await withDatabase(async (db, dir) => {
    const gni = join(dir, 'gni.xml');
    const prop = join(dir, 'network.json');
    writeFileSync(gni, EUCA44);
    writeFileSync(prop, JSON.stringify({ PublicIps: ['203.0.113.10-203.0.113.20'], Clusters: [{ Name: 'zone-a', Subnet: { Subnet: '10.10.0.0', Netmask: '255.255.0.0', Gateway: '10.10.0.1' }, PrivateIps: ['10.99.0.1-10.99.0.9'] }] }));
    const r = await run(['import', 'gni', gni, '--db', db, '--property', prop, '--json'], dir);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.code, 'INVALID_PROPERTY');
    assert.deepEqual(await contents(db), EMPTY);
    // A valid property that does not list the document's cluster.
    writeFileSync(prop, JSON.stringify({ PublicIps: ['203.0.113.10-203.0.113.20'], Clusters: [{ Name: 'other', Subnet: { Subnet: '10.10.0.0', Netmask: '255.255.0.0', Gateway: '10.10.0.1' } }] }));
    const missing = await run(['import', 'gni', gni, '--db', db, '--property', prop, '--json'], dir);
    assert.equal(JSON.parse(missing.stdout).error.code, 'IMPORT_INCONSISTENT');
    assert.deepEqual(await contents(db), EMPTY);
  });
});

test('CLI: a database a running CLC holds open is refused (DB_IN_USE)', async () => {
  await withDatabase(async (db, dir) => {
    const gni = join(dir, 'gni.xml');
    writeFileSync(gni, EUCA44);
    const clc = await Store.open(db);
    try {
      // What a running CLC does: its connection is open (WAL: a shared lock) and it has read.
      await clc.read((d) => d.selectFrom('meta').selectAll().execute());
      const r = await run(['import', 'gni', gni, '--db', db, '--json'], dir);
      assert.equal(r.code, 1);
      assert.equal(JSON.parse(r.stdout).error.code, 'DB_IN_USE');
    } finally {
      await clc.close();
    }
    assert.deepEqual(await contents(db), EMPTY);
  });
});

// Long ids: Eucalyptus 4.4 can run with 17-hex ids (i-0123456789abcdef0), eucalyptus-edge.md §2.2;
// edgenet's services keep and resolve only the 8-hex form.
test('ids in forms edgenet does not keep are refused, every one named', () => {
  const long = EUCA44.replaceAll('i-1a2b3c4d', 'i-0123456789abcdef0').replaceAll('sg-0a0b0c0d', 'sg-0a0b0c0d0e0f01234');
  const err = (() => {
    try {
      planGniImport(readDoc(long));
    } catch (e) {
      return e as EdgenetError;
    }
    assert.fail('expected a refusal');
  })();
  assert.equal(err.code, 'IMPORT_UNSUPPORTED_ID');
  assert.match(err.message, /i-0123456789abcdef0/);
  assert.match(err.message, /sg-0a0b0c0d0e0f01234/);
  assert.equal((err.details?.problems as unknown[]).length, 2);
});

test('states the CLC could not rebuild are refused (instance on no node, shared private IP, cluster without CC address)', () => {
  const doc = readDoc(MULTI_CLUSTER);
  const noNode = {
    ...doc,
    configuration: { ...doc.configuration, clusters: doc.configuration.clusters.map((c) => ({ ...c, nodes: c.nodes.map((n) => ({ ...n, instanceIds: n.instanceIds.filter((id) => id !== 'i-0000b002') })) })) },
  };
  assert.throws(() => planGniImport(noNode), (e: EdgenetError) => e.code === 'IMPORT_INCONSISTENT' && /i-0000b002 is on no node/.test(e.message));
  const shared = { ...doc, instances: doc.instances.map((i) => (i.name === 'i-0000a002' ? { ...i, privateIp: '10.111.5.10' } : i)) };
  assert.throws(() => planGniImport(shared), (e: EdgenetError) => e.code === 'IMPORT_INCONSISTENT' && /same private IP 10\.111\.5\.10/.test(e.message));
  const { enabledCcIp: _cc, ...noCc } = doc.configuration.clusters[0]!;
  const withoutCc = { ...doc, configuration: { ...doc.configuration, clusters: [noCc, doc.configuration.clusters[1]!] } };
  assert.throws(() => planGniImport(withoutCc), (e: EdgenetError) => e.code === 'IMPORT_INCONSISTENT' && /PARTI00 has no enabledCCIp/.test(e.message));
});

test('an import that fails at its last row leaves the database empty (one transaction)', async () => {
  await withDatabase(async (db) => {
    const plan = planGniImport(readDoc(MULTI_CLUSTER));
    // The last write of the import is the last public address: make it collide with a private IP.
    const broken: GniImportPlan = { ...plan, addresses: [...plan.addresses.slice(0, -1), { ...plan.addresses[plan.addresses.length - 1]!, ip: '10.112.6.11' }] };
    const store = await Store.open(db);
    try {
      await rejectsWith(importGni(store, broken, { now: NOW }), 'ADDRESS_IN_USE');
    } finally {
      await store.close();
    }
    assert.deepEqual(await contents(db), EMPTY);
  });
});

test('importGni refuses a database with state in it (here: one security group only)', async () => {
  await withDatabase(async (db) => {
    const store = await Store.open(db);
    try {
      await store.write((tx) => tx.db.insertInto('security_groups').values({ id: 'sg-00000001', owner_id: '000000000001', name: 'web', description: '', created_at: NOW }).execute());
      const err = await rejectsWith(importGni(store, planGniImport(readDoc(EUCA44)), { now: NOW }), 'IMPORT_DATABASE_NOT_EMPTY');
      assert.deepEqual(err.details?.found, ['1 security groups']);
    } finally {
      await store.close();
    }
  });
});
