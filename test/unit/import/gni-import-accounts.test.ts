/**
 * `edgenet import gni` and accounts (issue 15): every owner id of the
 * document other than the admin becomes an account `account-<id>` in the
 * import's transaction, shown in the plan and the summary; a dry run creates
 * none; an account the database already has is kept; no default group is
 * added (the imported document must come out unchanged).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, sandboxEnv } from '../cli/cli-sandbox.ts';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { planGniImport } from '../../../src/cloud-controller/import/gni-import-plan.ts';
import { importGni } from '../../../src/cloud-controller/import/import-gni.ts';
import { MULTI_CLUSTER, readDoc, withDatabase } from './fixtures.ts';

const NOW = 1_700_000_000_000;

/** The CLI in this process, its state, conf and run directories all `dir`. */
const run = (args: readonly string[], dir: string) => runCli(args, sandboxEnv(dir));

async function accounts(file: string) {
  const store = await Store.open(file);
  try {
    return await store.read((db) => db.selectFrom('accounts').selectAll().orderBy('id').execute());
  } finally {
    await store.close();
  }
}

test('the plan lists an account for every owner id but the admin, from groups, rule peers, instances and addresses', () => {
  const plan = planGniImport(readDoc(MULTI_CLUSTER));
  const owners = new Set([...plan.groups.map((g) => g.ownerId), ...plan.instances.map((i) => i.ownerId), ...plan.addresses.map((a) => a.ownerId)]);
  assert.ok(owners.has('000000000001') && owners.size >= 3, 'the fixture has the admin and other owners');
  owners.delete('000000000001');
  assert.deepEqual(
    plan.accounts,
    [...owners].sort().map((id) => ({ id, name: `account-${id}` })),
  );
});

test('import creates the owners\' accounts in its transaction (no default group); a dry run creates none; existing accounts are kept', async () => {
  await withDatabase(async (db, dir) => {
    const gni = join(dir, 'gni.xml');
    writeFileSync(gni, MULTI_CLUSTER);
    const plan = planGniImport(readDoc(MULTI_CLUSTER));

    const dry = await run(['import', 'gni', gni, '--db', db, '--dry-run'], dir);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^accounts to create for the document's owners: ${plan.accounts.length} \\(account-\\d{12} \\(\\d{12}\\)`, 'm'));
    assert.deepEqual((await accounts(db)).map((a) => a.id), ['000000000001'], 'a dry run writes no account');

    // One owner already has an account (made before the import, by an operator): it is kept as it is.
    const kept = plan.accounts[0]!;
    const store = await Store.open(db);
    await store.write(async (tx) => {
      await tx.db.insertInto('accounts').values({ id: kept.id, name: 'kept-name', created_at: 5 }).execute();
    });
    await store.close();

    const r = await run(['import', 'gni', gni, '--db', db, '--json'], dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const summary = JSON.parse(r.stdout);
    assert.deepEqual(summary.accounts, plan.accounts.slice(1));
    const rows = await accounts(db);
    assert.deepEqual(
      rows.map((a) => [a.id, a.name]),
      [['000000000001', 'admin'], [kept.id, 'kept-name'], ...plan.accounts.slice(1).map((a) => [a.id, a.name])],
    );
    assert.ok(rows.filter((a) => a.id !== '000000000001' && a.id !== kept.id).every((a) => a.created_at > NOW - 1), 'created at the import');
    const check = await Store.open(db);
    try {
      const defaults = await check.read((d) => d.selectFrom('security_groups').select('id').where('name', '=', 'default').execute());
      assert.deepEqual(defaults, [], 'no default group is added by an import');
    } finally {
      await check.close();
    }
  });
});

test('an account name taken by another id refuses the import and writes nothing', async () => {
  await withDatabase(async (db) => {
    const plan = planGniImport(readDoc(MULTI_CLUSTER));
    const store = await Store.open(db);
    try {
      const squatter = { id: '999999999999', name: plan.accounts[0]!.name, created_at: 1 };
      await store.write(async (tx) => {
        await tx.db.insertInto('accounts').values(squatter).execute();
      });
      await assert.rejects(importGni(store, plan, { now: NOW }), (e: Error & { code?: string }) => e.code === 'ACCOUNT_EXISTS');
      assert.deepEqual(
        (await store.read((d) => d.selectFrom('accounts').selectAll().orderBy('id').execute())).map((a) => a.id),
        ['000000000001', '999999999999'],
      );
      assert.deepEqual(await store.read((d) => d.selectFrom('clusters').select('name').execute()), []);
    } finally {
      await store.close();
    }
  });
});
