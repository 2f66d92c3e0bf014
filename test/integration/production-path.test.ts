/**
 * The production path, as README "Running it in production" tells an operator:
 * four hosts (CLC, CC, two nodes), each a network namespace with its own /etc,
 * /opt, /usr, /var, /root, /run and /tmp (test/helpers/hosts.ts), so each is
 * installed, configured and run like a separate machine.
 *
 * Every step below is a README step, in the README's order; the README's
 * production section is exactly this test:
 *   1. `bash scripts/install.sh` on every host;
 *   2. the CA and one key pair per host, made on the CLC host, installed on each host;
 *   3. the config keys the README names, set in /etc/edgenet/*.conf;
 *   4. the units started as systemd would (ExecStart, User, Group, Environment, …);
 *   5. the property, cluster and node registration, a group, an instance (real
 *      DHCP in an instance namespace), a public address reached from a client;
 *   6. `edgenet status` converged;
 *   7. `edgenet clc backup`, a change, `edgenet clc restore`: every node follows
 *      the restored CLC (real netd) with no manual step.
 * Then the lifecycle: SIGHUP leaves every daemon running (and says so in its log),
 * SIGTERM stops each within 5 s with a log line and nothing is left running once
 * `edgenet netd flush` removed dhcpd (which netd leaves serving on purpose);
 * an upgrade keeps configs and the database; an uninstall removes the program
 * and the units.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireRoot } from '../helpers/root.ts';
import { HOST_REPO, startSimHost, type RunningUnit, type SimHost } from '../helpers/hosts.ts';
import { createExec } from '../../src/shared/exec.ts';
import { buildTopology, teardownByPrefix, type Topology } from '../../src/lab/topology.ts';
import { waitFor } from '../../src/shared/wait.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const LAN = '172.31.0.0/24';
const CLC_IP = '172.31.0.2';
const CC_IP = '172.31.0.3';
const NODES = [
  { short: 'n1', ip: '172.31.0.11', vmIp: '10.111.0.11', publicIp: '203.0.113.11' },
  { short: 'n2', ip: '172.31.0.12', vmIp: '10.111.0.12', publicIp: '203.0.113.12' },
] as const;
const CLIENT_IP = '203.0.113.200';

/** The README's example network configuration for this layout. */
const NETWORK_JSON = {
  InstanceDnsDomain: 'eucalyptus.internal',
  InstanceDnsServers: [CLC_IP],
  PublicIps: ['203.0.113.100-203.0.113.110'],
  Clusters: [
    {
      Name: 'PARTI00',
      MacPrefix: 'd0:0d',
      Subnet: { Name: 'vms', Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' },
      PrivateIps: ['10.111.1.10-10.111.1.50'],
    },
  ],
};

/** What the operator edits, per README step 3 (KEY="value" lines replaced or appended). */
async function setConf(host: SimHost, file: string, values: Record<string, string>): Promise<void> {
  const lines = (await host.readFile(file)).split('\n');
  for (const [key, value] of Object.entries(values)) {
    const line = `${key}="${value}"`;
    const at = lines.findIndex((l) => new RegExp(`^#?\\s*${key}=`).test(l));
    if (at >= 0) lines[at] = line;
    else lines.push(line);
  }
  await host.writeFile(file, lines.join('\n'), '0640');
  await host.run(['chgrp', 'edgenet', file]);
}

async function edgenet(host: SimHost, args: readonly string[], okExitCodes: readonly number[] = [0]) {
  return host.run(['edgenet', ...args], { okExitCodes, timeoutMs: 60_000 });
}

async function edgenetJson<T>(host: SimHost, args: readonly string[]): Promise<T> {
  const r = await edgenet(host, [...args, '--json']);
  return JSON.parse(r.stdout) as T;
}

function exitWithin(unit: RunningUnit, ms: number): Promise<{ code: number | null; signal: string | null } | 'timeout'> {
  return Promise.race([unit.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);
}

test('production path: README install, certificates, units, registration, instance with DHCP, public address, status, SIGHUP, SIGTERM, upgrade, uninstall', { timeout: 900_000 }, async (t) => {
  if (!requireRoot(t, 'the production-path test')) return;
  const exec = createExec();
  const prefix = `pp${randomBytes(2).toString('hex')}`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const units: RunningUnit[] = [];
  const hosts: SimHost[] = [];
  t.after(async () => {
    for (const u of units) if (!u.exitedYet()) process.kill(u.pid, 'SIGKILL');
    // Every process left in the test's namespaces (dhcpd, dhclient, the keepers) is ours.
    await teardownByPrefix(prefix, { exec }, { workDir: path.join(dir, 'lab') }).catch(() => undefined);
    for (const h of hosts) await h.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  try {
    await productionPath({ exec, prefix, dir, units, hosts });
  } catch (err) {
    // The journal of every unit, for whoever reads the failure.
    for (const u of units) process.stderr.write(`\n--- ${u.unit} (pid ${u.pid}, ${u.exitedYet() ? 'exited' : 'running'})\n${(await u.log()).split('\n').slice(-25).join('\n')}\n`);
    throw err;
  }
});

interface PathContext {
  readonly exec: ReturnType<typeof createExec>;
  readonly prefix: string;
  readonly dir: string;
  readonly units: RunningUnit[];
  readonly hosts: SimHost[];
}

async function productionPath(ctx: PathContext): Promise<void> {
  const { exec, prefix, dir, units, hosts } = ctx;
  const topo: Topology = await buildTopology(
    {
      prefix,
      nodes: NODES.map((n) => ({ name: n.short, mgmtIp: n.ip, publicIp: n.publicIp, vmIp: n.vmIp })),
      lan: LAN,
      publicNet: '203.0.113.0/24',
      vmSubnet: '10.111.0.0/16',
      client: { ip: CLIENT_IP },
      ctl: { ip: CLC_IP },
      workDir: path.join(dir, 'lab'),
    },
    { exec },
  );
  // The CC's host: one more machine on the LAN.
  const ccNs = `${prefix}-cc`;
  await topo.netns.add(ccNs);
  await topo.netns.addVeth({ ns: ccNs, name: 'eth0', peerNs: topo.lanNs, peerName: 'l-cc' });
  await topo.netns.setMaster(topo.lanNs, 'l-cc', 'lan');
  await topo.netns.linkUp(topo.lanNs, 'l-cc');
  await topo.netns.linkUp(ccNs, 'eth0');
  await topo.netns.addAddress(ccNs, 'eth0', `${CC_IP}/24`);

  const host = async (name: string, ns: string) => {
    const h = await startSimHost({ name, ns, dir: path.join(dir, name), exec, repo: REPO });
    hosts.push(h);
    await h.run(['ip', 'link', 'set', 'lo', 'up']);
    return h;
  };
  const clc = await host('clc', topo.ctlNs!);
  const cc = await host('cc', ccNs);
  const nodes = await Promise.all(NODES.map(async (n) => ({ ...n, host: await host(n.short, topo.nodeNs(n.short)) })));
  const all = [clc, cc, ...nodes.map((n) => n.host)];

  // 1. Install on every host.
  for (const h of all) {
    const r = await h.run(['bash', `${HOST_REPO}/scripts/install.sh`], { timeoutMs: 300_000 });
    assert.match(r.stderr, /installed edgenet/);
    assert.equal((await h.run(['id', '-gn', 'edgenet'])).stdout.trim(), 'edgenet');
    assert.match((await h.run(['stat', '-c', '%U:%G %a', '/run/edgenet'])).stdout, /^edgenet:edgenet 3770/);
  }

  // 2. Certificates: the CA stays on the CLC host, each host gets ca.crt and its own pair.
  const ca = '/root/edgenet-ca';
  await edgenet(clc, ['certs', 'init', '--dir', ca]);
  const pairs = [
    { host: clc, name: 'clc', role: 'clc', ip: CLC_IP },
    { host: cc, name: 'cc-PARTI00', role: 'cc', ip: CC_IP },
    ...nodes.map((n) => ({ host: n.host, name: `nc-${n.ip}`, role: 'nc', ip: n.ip })),
  ];
  for (const p of pairs) await edgenet(clc, ['certs', 'issue', p.name, '--role', p.role, '--ip', p.ip, '--dir', ca]);
  for (const p of pairs) {
    // "Copy ca.crt, NAME.crt and NAME.key to the host" (scp in real life).
    const inbox = '/root/edgenet-certs';
    await p.host.run(['install', '-d', '-m', '0700', inbox]);
    for (const f of ['ca.crt', `${p.name}.crt`, `${p.name}.key`]) {
      await p.host.writeFile(`${inbox}/${f}`, await clc.readFile(`${ca}/${f}`), f.endsWith('.key') ? '0600' : '0644');
    }
    await p.host.run(['install', '-m', '0644', `${inbox}/ca.crt`, '/etc/edgenet/certs/ca.crt']);
    await p.host.run(['install', '-m', '0644', `${inbox}/${p.name}.crt`, `/etc/edgenet/certs/${p.role}.crt`]);
    await p.host.run(['install', '-m', '0600', '-o', 'edgenet', '-g', 'edgenet', `${inbox}/${p.name}.key`, `/etc/edgenet/certs/${p.role}.key`]);
    await p.host.run(['rm', '-rf', inbox]);
  }

  // 3. Configuration.
  await setConf(clc, '/etc/edgenet/clc.conf', { CLC_IP });
  for (const n of nodes) {
    await setConf(n.host, '/etc/edgenet/nc.conf', { NODE_NAME: n.ip });
    await setConf(n.host, '/etc/edgenet/netd.conf', { VNET_BRIDGE: 'br0', VNET_PRIVINTERFACE: 'priv0', VNET_PUBINTERFACE: 'pub0', METADATA_USE_VM_PRIVATE: 'Y' });
  }
  for (const [h, daemon] of [[clc, 'clc'], [cc, 'cc'], ...nodes.flatMap((n) => [[n.host, 'nc'], [n.host, 'netd']] as const)] as const) {
    // Exit 0: the effective configuration has no problem (2 would list them).
    await edgenet(h, [daemon, '--check-config', '--config', `/etc/edgenet/${daemon}.conf`]);
  }

  // 4. Start the units, each on its host.
  const start = async (h: SimHost, unit: string) => {
    const u = await h.startUnit(unit);
    units.push(u);
    return u;
  };
  const clcUnit = await start(clc, 'edgenet-clc');
  await waitFor(async () => (await edgenet(clc, ['property', 'list'], [0, 1])).exitCode === 0, { timeoutMs: 30_000, what: 'the CLC API' }).catch(async (err: unknown) => {
    throw new Error(`${String(err)}; edgenet-clc ${clcUnit.exitedYet() ? 'exited' : 'is running'}; its log:\n${await clcUnit.log()}`);
  });
  await start(cc, 'edgenet-cc');
  for (const n of nodes) {
    await start(n.host, 'edgenet-nc');
    await start(n.host, 'edgenet-netd');
  }

  // 5. Property, registration, a group, an instance, a public address.
  await clc.writeFile('/etc/edgenet/network.json', `${JSON.stringify(NETWORK_JSON, null, 2)}\n`, '0640');
  await edgenet(clc, ['property', 'set', 'cloud.network.network_configuration=@/etc/edgenet/network.json']);
  await edgenet(clc, ['cluster', 'register', 'PARTI00', '--cc', `https://${CC_IP}:8774/`]);
  for (const n of nodes) await edgenet(clc, ['node', 'register', 'PARTI00', n.ip, '--nc', `https://${n.ip}:8775/`]);
  await edgenet(clc, ['group', 'create', 'web', '--description', 'web servers']);
  await edgenet(clc, ['group', 'authorize', 'web', '-P', 'icmp', '-t', '-1:-1', '-s', '0.0.0.0/0']);
  const inst = await edgenetJson<{ id: string; mac: string; privateIp: string }>(clc, ['instance', 'run', '--cluster', 'PARTI00', '--node', NODES[0].ip, '--group', 'web']);
  const vm = await topo.addInstance({ node: 'n1', id: inst.id, mac: inst.mac });
  const lease = await waitFor(async () => topo.dhcp(vm, { timeoutMs: 10_000 }), { timeoutMs: 60_000, what: `a DHCP lease for ${inst.id}` });
  assert.equal(lease.ip, inst.privateIp, 'dhcpd hands out the address the CLC allocated');
  const addr = await edgenetJson<{ ip: string }>(clc, ['address', 'allocate']);
  await edgenet(clc, ['address', 'associate', addr.ip, inst.id]);
  await waitFor(async () => (await exec.run(['ip', 'netns', 'exec', topo.clientNs!, 'ping', '-c', '1', '-W', '1', addr.ip], { okExitCodes: [0, 1] })).exitCode === 0, {
    timeoutMs: 30_000,
    what: `the client reaching ${addr.ip}`,
  });

  // 6. Converged.
  const status = await waitFor(async () => {
    const r = await edgenet(clc, ['status', '--json'], [0, 1]);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as { clusters: { nodes: { name: string }[] }[] }) : undefined;
  }, { timeoutMs: 60_000, what: '`edgenet status` converged' });
  assert.deepEqual(status.clusters.flatMap((c) => c.nodes.map((n) => n.name)).sort(), NODES.map((n) => n.ip).sort());

  // Backup, change, restore (docs/cloud-controller.md "Backup and restore"): the
  // restored CLC's documents win over the newer sequences the CC, the NCs and netd
  // hold, and every node drops what the restored database does not know.
  const dhcpdConf = '/run/edgenet/netd/dhcpd.conf';
  await edgenet(clc, ['clc', 'backup', '/root/edgenet-backup.db']);
  const extra = await edgenetJson<{ id: string; mac: string }>(clc, ['instance', 'run', '--cluster', 'PARTI00', '--node', NODES[0].ip, '--group', 'web']);
  await waitFor(async () => (await nodes[0]!.host.readFile(dhcpdConf)).includes(`host ${extra.id} `), { timeoutMs: 30_000, what: `${extra.id} in n1's dhcpd.conf` });
  await waitFor(async () => (await edgenet(clc, ['status'], [0, 1])).exitCode === 0, { timeoutMs: 30_000, what: 'converged before the restore' });
  const [clcBeforeRestore] = units.splice(units.findIndex((u) => u.unit === 'edgenet-clc'), 1);
  process.kill(clcBeforeRestore!.pid, 'SIGTERM');
  assert.deepEqual(await exitWithin(clcBeforeRestore!, 5000), { code: 0, signal: null });
  await edgenet(clc, ['clc', 'restore', '/root/edgenet-backup.db']);
  await start(clc, 'edgenet-clc');
  await waitFor(async () => !(await nodes[0]!.host.readFile(dhcpdConf)).includes(`host ${extra.id} `), {
    timeoutMs: 60_000,
    what: `n1 to drop ${extra.id}, which the restored database does not know`,
  });
  assert.match(await nodes[0]!.host.readFile(dhcpdConf), new RegExp(`host ${inst.id} `), 'the instance from before the backup stays');
  await waitFor(async () => (await edgenet(clc, ['status'], [0, 1])).exitCode === 0, { timeoutMs: 60_000, what: 'converged after the restore' });

  // SIGHUP: every daemon stays up and says what it did with it.
  for (const u of units) {
    const before = (await u.log()).length;
    process.kill(u.pid, 'SIGHUP');
    await waitFor(async () => /SIGHUP/.test((await u.log()).slice(before)) || u.exitedYet(), { timeoutMs: 10_000, what: `${u.unit} to log its SIGHUP` });
    assert.equal(u.exitedYet(), false, `${u.unit} survived SIGHUP`);
  }
  await waitFor(async () => (await edgenet(clc, ['status'], [0, 1])).exitCode === 0, { timeoutMs: 30_000, what: 'still converged after SIGHUP' });

  // SIGTERM: each exits within 5 s, cleanly, saying so.
  for (const u of units) {
    process.kill(u.pid, 'SIGTERM');
    const result = await exitWithin(u, 5000);
    assert.notEqual(result, 'timeout', `${u.unit} did not exit within 5 s of SIGTERM`);
    assert.deepEqual(result, { code: 0, signal: null }, `${u.unit} exit`);
    assert.match(await u.log(), /stopped/i, `${u.unit} logs that it stopped`);
  }
  // netd left dhcpd serving (KillMode=process); flush removes it, then nothing of ours runs.
  for (const n of nodes) {
    await edgenet(n.host, ['netd', 'flush', '--config', '/etc/edgenet/netd.conf']);
  }
  for (const h of all) {
    const pids = (await topo.netns.pids(h.ns)).filter((p) => p !== h.keeperPid);
    const described = await Promise.all(pids.map(async (p) => (await fs.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ')));
    assert.deepEqual(described.filter((c) => c !== ''), [], `processes left on ${h.name}`);
  }

  // Upgrade: configs, certificates and the database stay; the CLC comes back with its state.
  const confBefore = await clc.readFile('/etc/edgenet/clc.conf');
  await clc.run(['bash', `${HOST_REPO}/scripts/install.sh`], { timeoutMs: 300_000 });
  assert.equal(await clc.readFile('/etc/edgenet/clc.conf'), confBefore, 'an upgrade keeps the config');
  assert.ok((await clc.run(['test', '-f', '/etc/edgenet/clc.conf.dist'], { okExitCodes: [0, 1] })).exitCode === 0, 'the new example is beside it');
  assert.ok((await clc.run(['test', '-f', '/etc/edgenet/certs/clc.key'], { okExitCodes: [0, 1] })).exitCode === 0, 'certificates kept');
  const clcAgain = await start(clc, 'edgenet-clc');
  const listed = await waitFor(async () => {
    const r = await edgenet(clc, ['instance', 'list', '--json'], [0, 1]);
    return r.exitCode === 0 ? r.stdout : undefined;
  }, { timeoutMs: 30_000, what: 'the upgraded CLC' });
  assert.match(listed, new RegExp(inst.id), 'the database survived the upgrade');
  process.kill(clcAgain.pid, 'SIGTERM');
  assert.deepEqual(await exitWithin(clcAgain, 5000), { code: 0, signal: null });

  // Uninstall: program, command and units gone; configuration and state kept.
  await clc.run(['bash', `${HOST_REPO}/scripts/install.sh`, '--uninstall']);
  for (const gone of ['/opt/edgenet', '/usr/local/bin/edgenet', '/etc/systemd/system/edgenet-clc.service']) {
    assert.equal((await clc.run(['test', '-e', gone], { okExitCodes: [0, 1] })).exitCode, 1, `${gone} removed`);
  }
  assert.equal((await clc.run(['test', '-f', '/var/lib/edgenet/clc/edgenet.db'], { okExitCodes: [0, 1] })).exitCode, 0, 'database kept without --purge');
}
