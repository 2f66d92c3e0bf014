/**
 * `edgenet account …` against a real cloud controller's admin API (in this
 * process, on loopback): create (the secret printed once, with the note
 * saying so), list, show, key create/list/delete, delete and its refusals,
 * `--json` and `--output`, `--help`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startCloudController, type RunningCloudController } from '../../../src/cloud-controller/main.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { cliSandbox } from '../cli/cli-sandbox.ts';

const sandbox = cliSandbox('edgenet-account-cli-');
let clc: RunningCloudController;
let env: Record<string, string>;

before(async () => {
  clc = await startCloudController({ dbPath: ':memory:', host: '127.0.0.1', port: 0, clcIp: '10.0.0.1', tokenFile: path.join(sandbox.dir, 'clc', 'token'), logger: nullLogger(), plugins: [] });
  env = { ...sandbox.baseEnv, EDGENET_URL: clc.url, EDGENET_TOKEN: clc.token };
});
after(() => clc.stop());

const run = (...args: string[]) => sandbox.run(args, env);
async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  assert.equal(r.code, 0, `edgenet ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('account create prints the id, the key id and the secret once, and says so; --json has the same', async () => {
  const r = await run('account', 'create', 'alice');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2, r.stdout);
  const [, id, name, group] = lines[0]!.split('\t');
  assert.deepEqual([lines[0]!.split('\t')[0], name], ['ACCOUNT', 'alice']);
  assert.match(id!, /^\d{12}$/);
  assert.match(group!, /^sg-[0-9a-f]{8}$/);
  const [tag, akid, secret] = lines[1]!.split('\t');
  assert.equal(tag, 'ACCESSKEY');
  assert.match(akid!, /^AKIE[A-Z2-7]{16}$/);
  assert.equal(secret!.length, 40);
  assert.match(r.stderr, /shown only this once/);
  // The CLI's answer is the CLC's: the secret opens for this account.
  assert.deepEqual(await clc.state.accessKeySecret(akid!), { accountId: id, secret });

  const j = JSON.parse(await ok('account', 'create', 'bob', '--json'));
  assert.equal(j.account.name, 'bob');
  assert.match(j.accessKey.accessKeyId, /^AKIE/);
  assert.equal(j.accessKey.secretAccessKey.length, 40);

  const dup = await run('account', 'create', 'alice');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^error: ACCOUNT_EXISTS: /);
  const dupJson = await run('account', 'create', 'alice', '--json');
  assert.equal(JSON.parse(dupJson.stdout).error.code, 'ACCOUNT_EXISTS');
  assert.equal((await run('account', 'create', 'Bad_Name')).code, 1);
  assert.equal((await run('account', 'create')).code, 2, 'a missing name is a usage error');
});

test('account list, show, key create/list/delete, delete', async () => {
  await ok('account', 'create', 'carol');
  const list = await ok('account', 'list');
  assert.match(list.split('\n')[0]!, /^ACCOUNT +NAME +GROUPS +INSTANCES +ADDRESSES +KEYS +CREATED$/);
  assert.match(list, /^000000000001 +admin +\d+ +\d+ +\d+ +\d+ +\(admin\)$/m);
  assert.match(list, /^\d{12} +carol +1 +0 +0 +1 +\d{4}-/m);
  const listed = JSON.parse(await ok('account', 'list', '--json'));
  const carol = listed.find((a: { name: string }) => a.name === 'carol');
  const tsv = await ok('account', 'list', '--output', 'tsv');
  assert.ok(tsv.split('\n').includes(`${carol.id}\tcarol\t1\t0\t0\t1\t${carol.createdAt}`));

  const key = await ok('account', 'key', 'create', 'carol');
  const [, akid, secret] = key.trim().split('\t');
  assert.equal(secret!.length, 40);
  const limit = await run('account', 'key', 'create', carol.id);
  assert.equal(limit.code, 1);
  assert.match(limit.stderr, /^error: ACCESS_KEY_LIMIT: /);

  const show = await ok('account', 'show', 'carol');
  assert.match(show, new RegExp(`^ACCOUNT\\t${carol.id}\\tcarol$`, 'm'));
  assert.match(show, /^owns 1 security group\(s\), 0 instance\(s\), 0 public address\(es\)$/m);
  assert.equal(show.split('\n').filter((l) => l.startsWith('KEY\t')).length, 2);
  assert.ok(!show.includes(secret!), 'show never prints a secret');
  assert.equal(JSON.parse(await ok('account', 'show', carol.id, '--json')).keys.length, 2);

  const keys = JSON.parse(await ok('account', 'key', 'list', 'carol', '--json'));
  assert.deepEqual(keys.map((k: { accountName: string; status: string }) => [k.accountName, k.status]), [['carol', 'active'], ['carol', 'active']]);
  const allKeys = await ok('account', 'key', 'list');
  assert.match(allKeys.split('\n')[0]!, /^ACCESS KEY ID +ACCOUNT +NAME +STATUS +CREATED +LAST USED$/);
  assert.match(allKeys, new RegExp(`^${akid} +${carol.id} +carol +active +\\S+ +-$`, 'm'));

  assert.equal((await ok('account', 'key', 'delete', akid!)).trim(), `deleted access key ${akid} of account ${carol.id} (carol)`);
  assert.equal(await clc.state.accessKeySecret(akid!), undefined);
  const again = await run('account', 'key', 'delete', akid!);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: ACCESS_KEY_NOT_FOUND: /);

  await clc.state.createGroup({ name: 'web', owner: 'carol' });
  const inUse = await run('account', 'delete', 'carol');
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /^error: ACCOUNT_IN_USE: account \d{12} \(carol\) still owns 1 security group\(s\), 0 instance\(s\), 0 public address\(es\)/);
  const inUseJson = JSON.parse((await run('account', 'delete', 'carol', '--json')).stdout);
  assert.deepEqual(inUseJson.error.details, { accountId: carol.id, groups: 1, instances: 0, addresses: 0 });
  assert.match((await run('account', 'delete', 'admin')).stderr, /^error: ACCOUNT_IN_USE: the admin account 000000000001 \(admin\) cannot be deleted/);
  await clc.state.deleteGroup('web', carol.id);
  assert.match((await ok('account', 'delete', 'carol')).trim(), new RegExp(`^deleted account ${carol.id} \\(carol\\) with 1 access key\\(s\\) and its default group sg-[0-9a-f]{8}$`));
  const gone = await run('account', 'show', 'carol');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error: ACCOUNT_NOT_FOUND: /);
  assert.equal((await ok('account', 'key', 'list', '--output', 'tsv')).includes('carol'), false);
});

test('account --help explains accounts and keys, with examples', async () => {
  const help = await ok('account', '--help');
  for (const word of ['create', 'list', 'show', 'delete', 'key', '000000000001', 'at most 2 access keys', 'Examples:']) assert.ok(help.includes(word), word);
  const keyHelp = await ok('account', 'key', '--help');
  for (const word of ['create', 'list', 'delete']) assert.ok(keyHelp.includes(word), word);
  assert.match(await ok('account', 'create', '--help'), /shown only this once/);
});
