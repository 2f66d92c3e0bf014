/**
 * Config drives against the fake host: observe → plan → apply, the way a
 * sync runs them (plan/config-drives.ts, apply/config-drive.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost } from '../../helpers/fake-host.ts';
import { renderConfigDrive } from '../../../src/netd/render/config-drive.ts';
import type { ConfigDrive } from '../../../src/netd/render/types.ts';
import { planConfigDrives } from '../../../src/netd/plan/config-drives.ts';
import { configDriveLayout, observeConfigDrives } from '../../../src/netd/apply/config-drive.ts';
import { applySteps } from '../../../src/netd/apply/apply.ts';
import type { Step } from '../../../src/netd/plan/steps.ts';
import type { EdgenetError } from '../../../src/shared/errors.ts';

const DIR = '/var/lib/edgenet/config-drive';
const A = 'i-0000000a';
const B = 'i-0000000b';

function drive(instance: string, ipv4: string, userData?: string): ConfigDrive {
  return renderConfigDrive({
    instance,
    mac: 'd0:0d:00:00:00:0a',
    ipv4,
    gatewayIpv4: '169.254.0.1',
    gatewayIpv6: 'fe80::1',
    dnsServers: ['198.51.100.53'],
    ...(userData === undefined ? {} : { userData }),
  });
}

async function sync(host: FakeHost, desired: readonly ConfigDrive[] | undefined): Promise<{ steps: Step[]; failures: Map<string, EdgenetError> }> {
  const steps = planConfigDrives(desired, await observeConfigDrives(host, DIR));
  const failures = new Map<string, EdgenetError>();
  await applySteps(steps, {
    host,
    runDir: '/run/edgenet',
    now: () => 0,
    wait: async () => undefined,
    configDriveDir: DIR,
    configDriveFailure: (i, e) => failures.set(i, e),
  });
  return { steps, failures };
}

const kinds = (steps: readonly Step[]) => steps.map((s) => (s.kind === 'config-drive-write' ? `write ${s.drive.instance} (${s.why})` : s.kind === 'config-drive-remove' ? `remove ${s.instance}` : s.kind));

test('drives are written, built once, and a converged node plans nothing and builds no ISO', async () => {
  const host = new FakeHost();
  const binary = Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x41]);
  const first = await sync(host, [drive(A, '10.50.0.11', binary.toString('base64')), drive(B, '10.50.0.12')]);
  assert.deepEqual(kinds(first.steps), [`write ${A} (new)`, `write ${B} (new)`]);
  const a = configDriveLayout(DIR, A);
  assert.equal(JSON.parse((await host.readFile(`${a.directory}/network-config`))!).ethernets.eth0.addresses[0], '10.50.0.11/32');
  assert.equal(JSON.parse((await host.readFile(`${a.directory}/meta-data`))!)['instance-id'], A);
  // user data: exactly the given bytes (the fake host keeps bytes as latin1 text)
  assert.equal(await host.readFile(`${a.directory}/user-data`), binary.toString('latin1'));
  assert.deepEqual(host.isos.map((i) => [i.output, i.label, i.files.map((f) => f.slice(DIR.length + 1))]), [
    [`${DIR}/${A}.iso`, 'cidata', [`${A}/meta-data`, `${A}/network-config`, `${A}/user-data`]],
    [`${DIR}/${B}.iso`, 'cidata', [`${B}/meta-data`, `${B}/network-config`]],
  ]);
  assert.match((await host.readFile(a.hash))!, /^[0-9a-f]{64}\n$/);

  const again = await sync(host, [drive(A, '10.50.0.11', binary.toString('base64')), drive(B, '10.50.0.12')]);
  assert.deepEqual(again.steps, []);
  assert.equal(host.isos.length, 2);
});

test('a changed drive is rebuilt alone; user data no longer given is removed from the directory', async () => {
  const host = new FakeHost();
  await sync(host, [drive(A, '10.50.0.11', 'I2Nsb3VkLWNvbmZpZwo='), drive(B, '10.50.0.12')]);
  const r = await sync(host, [drive(A, '10.50.0.11'), drive(B, '10.50.0.12')]);
  assert.deepEqual(kinds(r.steps), [`write ${A} (changed)`]);
  assert.equal(await host.readFile(`${DIR}/${A}/user-data`), undefined);
  assert.deepEqual(await host.listDir(`${DIR}/${A}`), ['meta-data', 'network-config']);
  assert.deepEqual(host.isos.at(-1)!.files.map((f) => f.slice(DIR.length + 1)), [`${A}/meta-data`, `${A}/network-config`]);
  assert.deepEqual((await sync(host, [drive(A, '10.50.0.11'), drive(B, '10.50.0.12')])).steps, []);
});

test('an instance no longer here loses its drive; names that are not instance ids are left alone', async () => {
  const host = new FakeHost();
  await host.writeFile(`${DIR}/README`, 'not ours');
  await host.writeFile(`/var/lib/edgenet/x/i-0000000c.iso`, 'elsewhere');
  await sync(host, [drive(A, '10.50.0.11'), drive(B, '10.50.0.12')]);
  const r = await sync(host, [drive(B, '10.50.0.12')]);
  assert.deepEqual(kinds(r.steps), [`remove ${A}`]);
  assert.deepEqual(await host.listDir(DIR), ['README', `${B}`, `${B}.iso`, `${B}.sha256`]);
  // An EDGE state (no drives) sweeps the rest.
  assert.deepEqual(kinds((await sync(host, undefined)).steps), [`remove ${B}`]);
  assert.deepEqual(await host.listDir(DIR), ['README']);
});

test('genisoimage failing: the directory is written, the failure is reported, no hash, so the next sync builds again', async () => {
  const host = new FakeHost();
  host.failNext('buildIso', 'genisoimage: No space left on device');
  const r = await sync(host, [drive(A, '10.50.0.11')]);
  assert.equal(r.failures.get(A)?.code, 'CONFIG_DRIVE_FAILED');
  assert.match(r.failures.get(A)!.message, /No space left/);
  assert.deepEqual(await host.listDir(`${DIR}/${A}`), ['meta-data', 'network-config']);
  assert.equal(await host.readFile(`${DIR}/${A}.sha256`), undefined);
  const retry = await sync(host, [drive(A, '10.50.0.11')]);
  assert.deepEqual(kinds(retry.steps), [`write ${A} (not built)`]);
  assert.equal(retry.failures.size, 0);
  assert.deepEqual((await sync(host, [drive(A, '10.50.0.11')])).steps, []);
});

test('a deleted ISO or a half-removed drive is repaired', async () => {
  const host = new FakeHost();
  await sync(host, [drive(A, '10.50.0.11')]);
  await host.removeFile(`${DIR}/${A}.iso`);
  assert.deepEqual(kinds((await sync(host, [drive(A, '10.50.0.11')])).steps), [`write ${A} (ISO missing)`]);
  await host.removeTree(`${DIR}/${A}`);
  assert.deepEqual(kinds((await sync(host, [drive(A, '10.50.0.11')])).steps), [`write ${A} (files differ)`]);
});

test('no path is made from a name that is not an instance id', async () => {
  for (const bad of ['../etc', 'i-0000000a/../../x', '', 'i-XYZ', 'i-0000000a.iso']) {
    assert.throws(() => configDriveLayout(DIR, bad), { code: 'CONFIG_DRIVE_FAILED' }, bad);
  }
  const host = new FakeHost();
  const hostile: ConfigDrive = { instance: '../../etc', files: [{ name: 'passwd', content: 'x' }] };
  await assert.rejects(sync(host, [hostile]), /CONFIG_DRIVE_FAILED/);
  assert.deepEqual([...(host as unknown as { files: Map<string, string> }).files.keys()], []);
});

test('flush keeps the drives of instances still here (a VM may have them attached), removes the others; --config-drives removes all', async () => {
  const { flushHost } = await import('../../../src/netd/flush.ts');
  const flush = (host: FakeHost, keepConfigDrives: ReadonlySet<string> | 'all') =>
    flushHost(host, { isOurs: (n) => n.startsWith('EDGENET'), runDir: '/run/edgenet', publicInterface: '', pool: [], now: () => 0, wait: async () => undefined, configDriveDir: DIR, keepConfigDrives });
  const host = new FakeHost();
  await sync(host, [drive(A, '10.50.0.11'), drive(B, '10.50.0.12')]);
  await flush(host, 'all');
  assert.deepEqual(await host.listDir(DIR), [A, `${A}.iso`, `${A}.sha256`, B, `${B}.iso`, `${B}.sha256`]);
  await flush(host, new Set([A]));
  assert.deepEqual(await host.listDir(DIR), [A, `${A}.iso`, `${A}.sha256`]);
  await flush(host, new Set());
  assert.deepEqual(await host.listDir(DIR), []);
});
