/**
 * CLI smoke tests: `node bin/edgenet.mjs …` against a running `edgenet clc`
 * (found through EDGENET_URL / EDGENET_TOKEN, and through --url/--token).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cli, startClc, tempDir, testEnv } from '../unit/clc/harness.ts';
import { configText } from '../unit/clc/fixture.ts';
import { propertyDefinitions } from '../../src/cloud-controller/properties/registry.ts';

test('edgenet property/cluster/node/group/instance/ipam/address against a running CLC', { timeout: 600_000 }, async () => {
  const { dir, cleanup } = tempDir();
  const clc = await startClc(dir);
  const env = { ...testEnv(dir), EDGENET_URL: clc.url, EDGENET_TOKEN: clc.token };
  const ok = async (...args: string[]) => {
    const r = await cli(args, env);
    assert.equal(r.code, 0, `edgenet ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  try {
    // Properties.
    const file = path.join(dir, 'net.json');
    writeFileSync(file, configText());
    assert.match(await ok('property', 'set', `cloud.network.network_configuration=@${file}`), /^cloud\.network\.network_configuration =/);
    assert.equal((await ok('property', 'set', 'cloud.network.address_hold_timeout=45')).trim(), 'cloud.network.address_hold_timeout = 45');
    // Independent reads run in parallel (each CLI start costs a second or two).
    const [get, getJson, list, listJson, hist, histJson] = await Promise.all([
      ok('property', 'get', 'cloud.network.address_hold_timeout'),
      ok('property', 'get', 'cloud.network.address_hold_timeout', '--json'),
      ok('property', 'list'),
      ok('property', 'list', '--json'),
      ok('property', 'history', 'cloud.network.address_hold_timeout'),
      ok('property', 'history', 'cloud.network.address_hold_timeout', '--json'),
    ]);
    assert.equal(get.trim(), '45');
    assert.equal(JSON.parse(getJson).value, '45');
    assert.match(list, /^cloud\.vmstate\.mac_prefix +d0:0d +default$/m);
    assert.equal(JSON.parse(listJson).length, propertyDefinitions().length);
    assert.match(hist, /\(unset\) -> 45/);
    assert.equal(JSON.parse(histJson)[0].newValue, '45');

    // A rejected set: one `path: code: message` line per diagnostic, exit 1, nothing changed.
    const badFile = path.join(dir, 'bad.json');
    writeFileSync(badFile, configText((c) => ({ ...c, PublicIps: ['192.0.2.20-192.0.2.10', '300.1.1.1'] })));
    const rejected = await cli(['property', 'set', `cloud.network.network_configuration=@${badFile}`], env);
    assert.equal(rejected.code, 1);
    const lines = rejected.stderr.trim().split('\n');
    assert.ok(lines.filter((l) => /^PublicIps\[\d\][^:]*: [A-Z_a-z.]+: /.test(l)).length >= 2, rejected.stderr);
    const [rejectedJson, badEnum, noValue, unknown] = await Promise.all([
      cli(['property', 'set', `cloud.network.network_configuration=@${badFile}`, '--json'], env),
      cli(['property', 'set', 'cloud.network.address_allocation=sometimes'], env),
      cli(['property', 'set', 'novalue'], env),
      cli(['property', 'get', 'no.such.property'], env),
    ]);
    assert.equal(rejectedJson.code, 1);
    assert.equal(JSON.parse(rejectedJson.stdout).ok, false);
    assert.equal(badEnum.code, 1);
    assert.equal(noValue.code, 2);
    assert.equal(unknown.stderr.trim(), 'error: UNKNOWN_PROPERTY: no property named "no.such.property" (see `edgenet property list`)');
    assert.equal(JSON.parse(await ok('property', 'history', 'cloud.network.network_configuration', '--json')).length, 1);

    // Clusters, nodes, groups.
    assert.match(await ok('cluster', 'register', 'C1', '--cc', 'https://127.0.0.1:9/', '--cc-ip', '127.0.0.1'), /^CLUSTER\tC1/);
    assert.match(await ok('node', 'register', 'C1', '10.0.0.7', '--nc', 'https://10.0.0.7:8775/'), /^NODE\tC1\t10\.0\.0\.7/);
    assert.deepEqual(JSON.parse(await ok('cluster', 'list', '--json')).map((c: { name: string }) => c.name), ['C1']);
    assert.match(await ok('node', 'list'), /10\.0\.0\.7/);
    const group = JSON.parse(await ok('group', 'create', 'web', '--description', 'web tier', '--json'));
    assert.match(group.id, /^sg-[0-9a-f]{8}$/);
    assert.match(await ok('group', 'authorize', 'web', '-P', 'tcp', '-p', '22'), /ALLOWS\ttcp 22 from 0\.0\.0\.0\/0/);
    assert.match(await ok('group', 'authorize', 'web', '-P', 'tcp', '-p', '22'), /unchanged/);
    const [, , , malformed, badCidr, noGroup] = await Promise.all([
      ok('group', 'authorize', 'web', '-P', 'tcp', '-p', '-1', '-s', '10.0.0.0/8'),
      ok('group', 'authorize', 'web', '-P', 'icmp', '-t', '-1:-1'),
      ok('group', 'authorize', 'web', '-o', 'web', '-u', '000000000001'),
      cli(['group', 'authorize', 'web', '-P', 'tcp'], env),
      cli(['group', 'authorize', 'web', '-P', 'tcp', '-p', '22', '-s', '10.0.0.0/40'], env),
      cli(['group', 'authorize', 'nope', '-p', '22'], env),
    ]);
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /InvalidPermission\.Malformed/);
    assert.match(badCidr.stderr, /InvalidParameterValue/);
    assert.match(noGroup.stderr, /InvalidGroup\.NotFound/);
    assert.match(await ok('group', 'revoke', 'web', '-P', 'tcp', '-p', '22'), /REVOKED/);
    assert.match((await cli(['group', 'revoke', 'web', '-P', 'tcp', '-p', '22'], env)).stderr, /InvalidPermission\.NotFound/);
    assert.equal(JSON.parse(await ok('group', 'show', 'web', '--json')).rules.length, 3);

    // Instances, IPAM, addresses.
    const run = JSON.parse(await ok('instance', 'run', '--cluster', 'C1', '--node', '10.0.0.7', '--group', 'web', '--json'));
    assert.match(run.id, /^i-[0-9a-f]{8}$/);
    assert.equal(run.privateIp, '10.1.0.10');
    const run2 = await ok('instance', 'run', '--cluster', 'C1', '--node', '10.0.0.7', '--group', group.id, '--private-ip', '10.1.0.14');
    assert.match(run2, /^INSTANCE\ti-[0-9a-f]{8}\tC1\t10\.0\.0\.7\taa:bb:[0-9a-f:]{11}\t10\.1\.0\.14\t/);
    assert.match((await cli(['instance', 'run', '--cluster', 'C1', '--node', '10.0.0.8', '--group', 'web'], env)).stderr, /NODE_NOT_FOUND/);
    assert.equal((await cli(['instance', 'run', '--cluster', 'C1', '--node', '10.0.0.7'], env)).code, 2, 'missing --group is a usage error');
    assert.match(await ok('ipam', 'reserve', '10.1.0.11', '--note', 'router'), /reserved/);
    const show = await ok('ipam', 'show', '--cluster', 'C1');
    assert.match(show, /10\.1\.0\.10 +Xr\.\.X/);
    assert.equal(JSON.parse(await ok('ipam', 'show', '--json')).pools.length, 3);
    const addr = JSON.parse(await ok('address', 'allocate', '--json'));
    assert.equal(addr.ip, '192.0.2.10');
    assert.match(await ok('address', 'associate', addr.ip, run.id), new RegExp(`ADDRESS\\t${addr.ip.replace(/\./g, '\\.')}\\t${run.id}`));
    assert.equal(JSON.parse(await ok('address', 'list', '--json'))[0].instanceId, run.id);
    const listed = JSON.parse(await ok('instance', 'list', '--json'));
    assert.equal(listed.length, 2);
    assert.equal(listed.find((i: { id: string }) => i.id === run.id).publicIp, addr.ip);
    assert.match(await ok('instance', 'list'), /PRIVATE IP/);
    assert.match((await cli(['group', 'delete', 'web'], env)).stderr, /InvalidGroup\.InUse/);
    await ok('address', 'disassociate', addr.ip);
    await ok('address', 'release', addr.ip);
    assert.match(await ok('instance', 'terminate', run.id), /terminated/);
    assert.match(await ok('ipam', 'show', '--cluster', 'C1'), /held \(released/);
    await ok('ipam', 'unreserve', '10.1.0.11');
    // No --node: the cluster's node with the fewest instances (here its only one); --owner by name; an unknown owner.
    const auto = JSON.parse(await ok('instance', 'run', '--cluster', 'C1', '--group', 'web', '--owner', 'admin', '--json'));
    assert.deepEqual([auto.node, auto.ownerId], ['10.0.0.7', '000000000001']);
    assert.match((await cli(['group', 'create', 'x', '--owner', 'nosuch'], env)).stderr, /ACCOUNT_NOT_FOUND/);
    await ok('instance', 'terminate', auto.id);
    assert.match((await cli(['cluster', 'deregister', 'C1'], env)).stderr, /CLUSTER_IN_USE/);

    // Flags instead of the environment; a wrong token; a CLC that is not there.
    const flagsEnv = testEnv(dir);
    assert.equal((await cli(['property', 'get', 'cloud.vmstate.mac_prefix', '--url', clc.url, '--token', clc.token], flagsEnv)).stdout.trim(), 'd0:0d');
    assert.match((await cli(['property', 'list', '--url', clc.url, '--token', 'wrong'], flagsEnv)).stderr, /UNAUTHORIZED/);
    // Token found through the default token file location (EDGENET_STATE_DIR/clc/admin-token).
    const unreachable = await cli(['property', 'list', '--url', 'http://127.0.0.1:9'], flagsEnv);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach the cloud controller at http:\/\/127\.0\.0\.1:9 \(is `edgenet clc` running\?\)/);
  } finally {
    await clc.stop();
    cleanup();
  }
});

test('edgenet clc --help explains the options; bad flags are usage errors', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const help = await cli(['clc', '--help'], testEnv(dir));
    assert.equal(help.code, 0);
    for (const flag of ['--config', '--db', '--listen', '--clc-ip', '--token-file', '--port-file']) assert.ok(help.stdout.includes(flag), flag);
    assert.equal((await cli(['clc', '--listen', 'nowhere'], testEnv(dir))).code, 2);
    assert.equal((await cli(['clc', '--clc-ip', '10.0.0'], testEnv(dir))).code, 2);
    const conf = path.join(dir, 'clc.conf');
    writeFileSync(conf, 'BOGUS=1\n');
    assert.equal((await cli(['clc', '--config', conf], testEnv(dir))).code, 2);
  } finally {
    cleanup();
  }
});

test('edgenet clc --config FILE: KEY=value settings are honoured', async () => {
  const { dir, cleanup } = tempDir();
  const conf = path.join(dir, 'clc.conf');
  writeFileSync(conf, `# test\nCLC_IP=10.9.8.7\nLOG_LEVEL="warn"\n`);
  const clc = await startClc(dir, ['--config', conf]);
  try {
    const res = await fetch(`${clc.url}/v1/snapshot`, { headers: { authorization: `Bearer ${clc.token}` } });
    assert.equal(((await res.json()) as { clcIp: string }).clcIp, '10.9.8.7');
  } finally {
    await clc.stop();
    cleanup();
  }
});
