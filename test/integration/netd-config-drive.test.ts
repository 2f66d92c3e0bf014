/**
 * Config drives on a real host (no namespace needed: files and genisoimage
 * only): netd's plan and apply build real ISOs in a temp directory, which
 * isoinfo reads back (volume id, Joliet files); an unchanged drive is not
 * rebuilt; a drive whose instance left is removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createExec } from '../../src/shared/exec.ts';
import { createFiles } from '../../src/shared/files.ts';
import { createLinuxHost } from '../../src/netd/apply/linux-host.ts';
import { renderConfigDrive } from '../../src/netd/render/config-drive.ts';
import type { ConfigDrive } from '../../src/netd/render/types.ts';
import { planConfigDrives } from '../../src/netd/plan/config-drives.ts';
import { observeConfigDrives } from '../../src/netd/apply/config-drive.ts';
import { applySteps } from '../../src/netd/apply/apply.ts';
import type { Step } from '../../src/netd/plan/steps.ts';

const exec = createExec();
const A = 'i-0c0d0e0a';
const B = 'i-0c0d0e0b';

function drive(instance: string, ipv4: string, userData?: string): ConfigDrive {
  return renderConfigDrive({
    instance,
    mac: 'd0:0d:0c:0d:0e:0a',
    ipv4,
    ipv6: '2001:db8:50::1',
    gatewayIpv4: '169.254.0.1',
    gatewayIpv6: 'fe80::1',
    dnsServers: ['198.51.100.53'],
    dnsDomain: 'cloud.example',
    ...(userData === undefined ? {} : { userData }),
  });
}

test('real ISOs: label cidata, files readable through Joliet, no rebuild when unchanged, removed with the instance', { timeout: 40_000 }, async (t) => {
  if (!existsSync('/usr/bin/genisoimage') || !existsSync('/usr/bin/isoinfo')) {
    assert.notEqual(process.env.CI, 'true', 'genisoimage is a runtime package (scripts/setup.sh)');
    t.skip('genisoimage/isoinfo not installed');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'enrt-cdrive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const host = createLinuxHost({ exec, files: createFiles() });
  const sync = async (drives: readonly ConfigDrive[]): Promise<Step[]> => {
    const steps = planConfigDrives(drives, await observeConfigDrives(host, dir));
    await applySteps(steps, { host, runDir: dir, now: () => Date.now(), wait: async () => undefined, configDriveDir: dir });
    return steps;
  };

  const userData = Buffer.concat([Buffer.from('#cloud-config\n'), Buffer.from([0xff, 0x00, 0xfe])]);
  const first = await sync([drive(A, '10.50.0.11', userData.toString('base64')), drive(B, '10.50.0.12')]);
  assert.equal(first.length, 2);

  const iso = path.join(dir, `${A}.iso`);
  const d = (await exec.run(['isoinfo', '-d', '-i', iso])).stdout;
  assert.match(d, /^Volume id: cidata$/m);
  assert.match(d, /Joliet with UCS level/);
  const net = (await exec.run(['isoinfo', '-J', '-i', iso, '-x', '/network-config'])).stdout;
  assert.deepEqual(JSON.parse(net).ethernets.eth0.addresses, ['10.50.0.11/32', '2001:db8:50::1/128']);
  const md = (await exec.run(['isoinfo', '-J', '-i', iso, '-x', '/meta-data'])).stdout;
  assert.equal(JSON.parse(md)['local-hostname'], 'euca-10-50-0-11.cloud.example');
  // The directory holds the same files, user data byte for byte.
  assert.deepEqual(await createFiles().readBytes(path.join(dir, A, 'user-data')), userData);
  assert.equal(await createFiles().read(path.join(dir, A, 'network-config')), net);
  const listing = (await exec.run(['isoinfo', '-J', '-f', '-i', path.join(dir, `${B}.iso`)])).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(listing, ['/meta-data', '/network-config']);
  // user-data may hold secrets: the files and the image are root's only (apply/config-drive.ts DRIVE_FILE_MODE).
  for (const f of [iso, path.join(dir, A, 'user-data'), path.join(dir, A, 'network-config'), path.join(dir, A, 'meta-data')]) assert.equal(statSync(f).mode & 0o777, 0o600, `${f} is 0600`);

  // Unchanged: nothing planned, the ISO is the same file (not rebuilt).
  const before = statSync(iso);
  assert.deepEqual(await sync([drive(A, '10.50.0.11', userData.toString('base64')), drive(B, '10.50.0.12')]), []);
  assert.equal(statSync(iso).ino, before.ino);
  assert.equal(statSync(iso).mtimeMs, before.mtimeMs);

  // A changed address rebuilds A only; B's instance left: its drive is gone.
  const next = await sync([drive(A, '10.50.0.21', userData.toString('base64'))]);
  assert.deepEqual(next.map((s) => s.kind), ['config-drive-write', 'config-drive-remove']);
  const net2 = (await exec.run(['isoinfo', '-J', '-i', iso, '-x', '/network-config'])).stdout;
  assert.deepEqual(JSON.parse(net2).ethernets.eth0.addresses, ['10.50.0.21/32', '2001:db8:50::1/128']);
  assert.equal(existsSync(path.join(dir, B)), false);
  assert.equal(existsSync(path.join(dir, `${B}.iso`)), false);
  assert.equal(existsSync(path.join(dir, `${B}.sha256`)), false);
});
