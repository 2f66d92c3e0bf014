/**
 * Permission bits of what netd writes (issue 17): bird.conf carries the BGP
 * MD5 password and is 0600 (ProcessFile.mode, honoured by the supervisor's
 * writer and checked again on every sync: a file with the right content and
 * the wrong mode is written again, without a reload); a config drive's files
 * and ISO carry user-data and are 0600; files without a mode stay 0644.
 * On the fake host (modes recorded per write); the real file modes are
 * checked in test/integration/netd-bird.test.ts and netd-port-events.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost } from '../../helpers/fake-host.ts';
import { BIRD_CONF, BIRD_KIND, renderBird } from '../../../src/netd/render/bird.ts';
import { observeProcesses, writeProcessFiles } from '../../../src/netd/apply/supervisor.ts';
import { processLayout } from '../../../src/netd/apply/process-driver.ts';
import { planProcesses } from '../../../src/netd/plan/processes.ts';
import { renderConfigDrive } from '../../../src/netd/render/config-drive.ts';
import { configDriveLayout, writeConfigDrive } from '../../../src/netd/apply/config-drive.ts';
import type { SupervisedProcess } from '../../../src/netd/render/types.ts';

const RUN = '/run/edgenet';
const ctx = (host: FakeHost) => ({ host, runDir: RUN, wait: async () => undefined });

function bird(): SupervisedProcess {
  return renderBird(
    {
      node: '172.31.0.11',
      cluster: 'c1',
      bgp: { localAs: '65001', peers: ['172.31.0.1 65000'], communities: [], password: 's3cret' },
      addressing: 'ipv4',
      ports: [{ interface: 'vn_i-00000001', addresses: ['10.50.0.11/32'] }],
    },
    [],
  );
}

test('bird.conf is rendered 0600 and written 0600; a file without a mode is written 0644', async () => {
  const p = bird();
  const conf = p.files.find((f) => f.name === BIRD_CONF)!;
  assert.equal(conf.mode, 0o600);
  assert.match(conf.content, /password "s3cret"/, 'the secret the mode protects is in the file');
  const host = new FakeHost();
  await writeProcessFiles(ctx(host), BIRD_KIND, [conf, { name: 'extra.conf', content: 'x\n' }]);
  const layout = processLayout(RUN, BIRD_KIND);
  assert.equal(host.fileModes.get(layout.file(BIRD_CONF)), 0o600);
  assert.equal(host.fileModes.get(layout.file('extra.conf')), 0o644);
});

test('a file with the right content and another mode is written again with its mode, without a reload; a converged one plans nothing', async () => {
  const p = bird();
  const conf = p.files.find((f) => f.name === BIRD_CONF)!;
  const host = new FakeHost();
  const layout = processLayout(RUN, BIRD_KIND);
  // bird.conf as a netd before ProcessFile.mode left it: the same text, 0644; bird running.
  await host.writeFile(layout.file(BIRD_CONF), conf.content, 0o644);
  const pid = await host.startDaemon(['bird', '-f', '-c', layout.file(BIRD_CONF), '-s', `${layout.dir}/bird.ctl`, '-P', layout.pid], layout.log);
  await host.writeFile(layout.pid, `${pid}\n`);
  const observed = await observeProcesses(host, { runDir: RUN, desired: [p] });
  assert.equal(observed.get(BIRD_KIND)?.modes?.get(BIRD_CONF), 0o644);
  const steps = planProcesses([p], observed);
  assert.deepEqual(steps.map((s) => s.kind), ['process-write-config'], 'a write and no reload (bird need not re-read an unchanged text)');

  await writeProcessFiles(ctx(host), BIRD_KIND, [conf]);
  assert.equal(await host.fileMode(layout.file(BIRD_CONF)), 0o600);
  assert.deepEqual(planProcesses([p], await observeProcesses(host, { runDir: RUN, desired: [p] })), []);

  // A changed text still writes and reloads.
  const changed: SupervisedProcess = { ...p, files: [{ ...conf, content: `${conf.content}# changed\n` }] };
  assert.deepEqual(planProcesses([changed], await observeProcesses(host, { runDir: RUN, desired: [changed] })).map((s) => s.kind), ['process-write-config', 'process-reload']);
});

test('a config drive: its files and ISO are 0600 (user-data), the hash 0644', async () => {
  const host = new FakeHost();
  const dir = '/var/lib/edgenet/config-drive';
  const drive = renderConfigDrive({
    instance: 'i-0000000a', mac: 'd0:0d:00:00:00:0a', ipv4: '10.50.0.11', gatewayIpv4: '169.254.0.1', gatewayIpv6: 'fe80::1',
    dnsServers: ['198.51.100.53'], userData: Buffer.from('#cloud-config\npassword: hunter2\n').toString('base64'),
  });
  assert.equal(await writeConfigDrive(host, dir, drive, 'h1'), undefined);
  const layout = configDriveLayout(dir, 'i-0000000a');
  assert.deepEqual(drive.files.map((f) => [f.name, host.fileModes.get(`${layout.directory}/${f.name}`)]), drive.files.map((f) => [f.name, 0o600]));
  assert.ok(drive.files.some((f) => f.name === 'user-data'));
  assert.equal(await host.fileMode(layout.iso), 0o600);
  assert.equal(await host.fileMode(layout.hash), 0o644);
});
