import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labPlan, labNetworkConfiguration, labNetdConf, assertLabName, LAB_IPV6 } from '../../../src/lab/plan.ts';
import { parseNetdConfig } from '../../../src/netd/config.ts';
import { evaluateNetworkConfiguration } from '../../../src/cloud-controller/properties/network-config.ts';
import { openTopology } from '../../../src/lab/topology.ts';
import { createExec } from '../../../src/shared/exec.ts';
import { clcSpec, ctlRelaySpec, hostRelaySpec, ncSpec, netdSpec } from '../../../src/lab/daemons.ts';
import { tenantCredentialsText } from '../../../src/lab/ec2.ts';
import { DEFAULT_PORTS } from '../../../src/shared/paths.ts';
import { detachedArgv, EXAMPLE_CONFIGURATION } from '../../../src/lab/up.ts';

const plan = labPlan('t1', '/tmp/lab-t1');

test('the plan lays every file under the lab dir and names namespaces with the prefix', () => {
  assert.equal(plan.prefix, 'edgenet_t1');
  assert.equal(plan.stateFile, '/tmp/lab-t1/lab.json');
  assert.deepEqual(plan.nodes.map((n) => [n.short, n.name, n.publicIp, n.vmIp]), [
    ['n1', '172.31.0.11', '203.0.113.11', '10.111.0.11'],
    ['n2', '172.31.0.12', '203.0.113.12', '10.111.0.12'],
  ]);
  for (const p of [...Object.values(plan.paths), ...plan.nodes.flatMap((n) => [n.runDir, n.netdConfFile, n.ncLog, n.netdLog])]) {
    assert.ok(p.startsWith('/tmp/lab-t1/'), p);
  }
  // The topology spec is valid (openTopology validates without creating anything).
  const topo = openTopology(plan.topology, { exec: createExec() });
  assert.equal(topo.nodeNs('n2'), 'edgenet_t1-n2');
  assert.throws(() => assertLabName('Bad-Name'), { code: 'LAB_BAD_NAME' });
});

test("the lab's network configuration is a valid copy of the example with the lab's addresses", () => {
  const example = JSON.parse(readFileSync(EXAMPLE_CONFIGURATION, 'utf8')) as Record<string, unknown>;
  const config = labNetworkConfiguration(plan, example);
  assert.deepEqual(config.PublicIps, ['203.0.113.100-203.0.113.120']);
  const outcome = evaluateNetworkConfiguration(JSON.stringify(config), () => undefined);
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
});

test('netd.conf parses with netd\'s own parser and names the node', () => {
  const node = plan.nodes[0]!;
  const parsed = parseNetdConfig(labNetdConf(plan, node));
  assert.equal(parsed.ok, true, JSON.stringify(parsed));
  if (!parsed.ok) return;
  assert.equal(parsed.value.nodeName, '172.31.0.11');
  assert.equal(parsed.value.bridge, 'br0');
  assert.equal(parsed.value.publicInterface, 'pub0');
  assert.equal(parsed.value.metadataUseVmPrivate, true);
  assert.equal(parsed.value.runDir, node.runDir);
});

test('daemon command lines: the CLC in ctl with the lab dirs, NC and netd per node; output redirected by a fixed script', () => {
  const clc = clcSpec(plan, 'edgenet_t1-ctl');
  assert.equal(clc.ns, 'edgenet_t1-ctl');
  assert.ok(clc.argv.includes('--clc-ip') && clc.argv.includes('172.31.0.2'));
  assert.equal(clc.env.EDGENET_STATE_DIR, '/tmp/lab-t1/state');
  // Dual stack (the default): one dual-stack socket for 172.31.0.2 and fd00:172:31::2; the CLC's IPv6 address.
  assert.equal(clc.env.EDGENET_METADATA_LISTEN, '[::]:8773');
  assert.equal(clc.env.EDGENET_CLC_CLC_IPV6, 'fd00:172:31::2');
  const v4clc = clcSpec(labPlan('t1', '/tmp/lab-t1', { ipv4Only: true }), 'edgenet_t1-ctl');
  assert.equal(v4clc.env.EDGENET_METADATA_LISTEN, '172.31.0.2:8773');
  assert.equal(v4clc.env.EDGENET_CLC_CLC_IPV6, undefined);
  const nc = ncSpec(plan, plan.nodes[1]!, 'edgenet_t1-n2');
  assert.deepEqual(nc.argv.slice(2, 5), ['nc', '--listen', '172.31.0.12:8775']);
  assert.deepEqual(netdSpec(plan, plan.nodes[1]!, 'edgenet_t1-n2').argv.slice(2), ['netd', 'run', '--config', '/tmp/lab-t1/nodes/n2/netd.conf']);
  const wrapped = detachedArgv(['node', 'x y', '$(evil)']);
  assert.deepEqual(wrapped.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(wrapped.slice(-3), ['node', 'x y', '$(evil)'], 'arguments pass as "$@", never interpolated');
});

test('dual stack by default: the cluster /64, the management and public /64s, the ctl as CLC_IPV6', () => {
  assert.deepEqual(plan.ipv6, { ...LAB_IPV6, dnsServers: [] });
  assert.equal(plan.ipv6?.prefix, '2001:db8:10::/64');
  assert.deepEqual(plan.nodes.map((n) => [n.mgmtIpv6, n.publicIpv6]), [
    ['fd00:172:31::11', '2001:db8:ffff::11'],
    ['fd00:172:31::12', '2001:db8:ffff::12'],
  ]);
  assert.deepEqual(plan.topology.ipv6, { lan: 'fd00:172:31::/64', publicNet: '2001:db8:ffff::/64', vmPrefix: '2001:db8:10::/64' });
  assert.deepEqual(plan.topology.ctl, { ip: '172.31.0.2', ipv6: 'fd00:172:31::2' });
  assert.deepEqual(plan.topology.client, { ip: '203.0.113.2', ipv6: '2001:db8:ffff::2' });
  assert.equal(plan.topology.nodes[0]!.publicIpv6, '2001:db8:ffff::11');
  openTopology(plan.topology, { exec: createExec() }); // a valid dual-stack spec

  const example = JSON.parse(readFileSync(EXAMPLE_CONFIGURATION, 'utf8')) as Record<string, unknown>;
  const config = labNetworkConfiguration(plan, example) as { Clusters: { Name: string; Subnet: Record<string, unknown> }[] };
  assert.equal(config.Clusters[0]!.Name, 'PARTI00');
  assert.equal(config.Clusters[0]!.Subnet.Ipv6Prefix, '2001:db8:10::/64');
  // The lab runs no DNS server: no Ipv6DnsServers key at all (LAB_IPV6's comment says why).
  assert.equal('Ipv6DnsServers' in config.Clusters[0]!.Subnet, false);
  const outcome = evaluateNetworkConfiguration(JSON.stringify(config), () => undefined);
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
});

test('--ipv4-only: exactly the lab before issue 14 (no IPv6 key or address anywhere)', () => {
  const v4 = labPlan('t1', '/tmp/lab-t1', { ipv4Only: true });
  assert.equal(v4.ipv6, undefined);
  assert.equal(v4.topology.ipv6, undefined);
  assert.ok(!JSON.stringify(v4).includes('::'), 'no IPv6 address in an IPv4-only plan');
  const example = JSON.parse(readFileSync(EXAMPLE_CONFIGURATION, 'utf8')) as Record<string, unknown>;
  const text = JSON.stringify(labNetworkConfiguration(v4, example));
  assert.ok(!text.includes('Ipv6'), text);
  assert.deepEqual(JSON.parse(text).Clusters[0].Subnet, { Name: '10.111.0.0', Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' });
  // A state file written before issue 14 has no ipv6: the same as --ipv4-only.
  const { ipv6: _dropped, ...old } = plan;
  assert.equal(clcSpec(old, 'edgenet_t1-ctl').env.EDGENET_METADATA_LISTEN, '172.31.0.2:8773');
});

test("the EC2 endpoint: the CLC's EC2_LISTEN on the control namespace's loopback, a relay pair to the host, the tenant's credentials file", () => {
  const clc = clcSpec(plan, 'edgenet_t1-ctl');
  assert.equal(clc.env.EDGENET_CLC_EC2_LISTEN, `127.0.0.1:${DEFAULT_PORTS.ec2}`);
  assert.equal(plan.ec2Port, DEFAULT_PORTS.ec2);
  const ctl = ctlRelaySpec(plan, 'edgenet_t1-ctl', 'ec2');
  assert.equal(ctl.role, 'relay-ctl-ec2');
  assert.equal(ctl.ns, 'edgenet_t1-ctl');
  assert.deepEqual(ctl.argv.slice(2), ['lab', 'relay', '--listen', 'unix:/tmp/lab-t1/clc-ec2.sock', '--target', `tcp:127.0.0.1:${DEFAULT_PORTS.ec2}`, '--watch', '/tmp/lab-t1/lab.json']);
  const host = hostRelaySpec(plan, 'ec2');
  assert.equal(host.role, 'relay-host-ec2');
  assert.equal(host.ns, undefined, 'the host relay runs in the host namespace');
  assert.deepEqual(host.argv.slice(2), ['lab', 'relay', '--listen', 'tcp:127.0.0.1:0', '--target', 'unix:/tmp/lab-t1/clc-ec2.sock', '--port-file', '/tmp/lab-t1/ec2.port', '--watch', '/tmp/lab-t1/lab.json']);
  // The admin API's pair is unchanged.
  assert.deepEqual(hostRelaySpec(plan).argv.slice(2), ['lab', 'relay', '--listen', 'tcp:127.0.0.1:0', '--target', 'unix:/tmp/lab-t1/clc-api.sock', '--port-file', '/tmp/lab-t1/api.port', '--watch', '/tmp/lab-t1/lab.json', '--http-unavailable']);
  assert.equal(ctlRelaySpec(plan, 'edgenet_t1-ctl').role, 'relay-ctl');

  const text = tenantCredentialsText({ lab: 't1', accountId: '123456789012', accountName: 'tenant', url: 'http://127.0.0.1:40000', region: 'lab', file: plan.paths.tenantCredentials, accessKeyId: 'AKIEAAAAAAAAAAAAAAAA', secretAccessKey: 's'.repeat(40) });
  // An AWS shared credentials file: comments, then [default] with the key pair.
  const body = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.deepEqual(body, ['[default]', 'aws_access_key_id = AKIEAAAAAAAAAAAAAAAA', `aws_secret_access_key = ${'s'.repeat(40)}`]);
  assert.match(text, /aws ec2 describe-security-groups --endpoint-url http:\/\/127\.0\.0\.1:40000 --region lab/);
});

test('--db postgres: PostgreSQL in <tmp>/edgenet-lab-<name>-pg (the postgres user cannot enter /var/lib/edgenet), two CLCs sharing DB, token and key, each with its own id, address and listeners', () => {
  const ha = labPlan('t1', '/tmp/lab-t1', { db: 'postgres' });
  assert.equal(plan.postgres, undefined, 'the default lab has no PostgreSQL');
  assert.equal(plan.clcs, undefined);
  const pgDir = path.join(os.tmpdir(), "edgenet-lab-t1-pg");
  assert.deepEqual(ha.postgres, { dir: pgDir, dataDir: `${pgDir}/data`, log: `${pgDir}/server.log`, port: 5432, database: 'edgenet', url: 'postgres://postgres@127.0.0.1:5432/edgenet' });
  assert.deepEqual(ha.clcs!.map((c) => [c.id, c.ip, c.ipv6, c.apiPort, c.ec2Port, c.metricsPort]), [
    ['clc-1', '172.31.0.2', 'fd00:172:31::2', 8770, 8788, 9770],
    ['clc-2', '172.31.0.3', 'fd00:172:31::3', 8771, 8789, 9771],
  ]);
  const [one, two] = ha.clcs!.map((c) => clcSpec(ha, 'edgenet_t1-ctl', c));
  for (const s of [one!, two!]) {
    const argv = s.argv.slice(2);
    assert.equal(argv[argv.indexOf('--db') + 1], 'postgres://postgres@127.0.0.1:5432/edgenet');
    assert.equal(argv[argv.indexOf('--token-file') + 1], '/tmp/lab-t1/clc/admin-token');
    assert.equal(argv[argv.indexOf('--credentials-key-file') + 1], '/tmp/lab-t1/clc/credentials.key');
  }
  assert.deepEqual([one!.clc, one!.env.EDGENET_CLC_CLC_ID, one!.log], ['clc-1', 'clc-1', '/tmp/lab-t1/logs/clc-1.log']);
  assert.deepEqual([two!.clc, two!.env.EDGENET_CLC_CLC_ID, two!.log], ['clc-2', 'clc-2', '/tmp/lab-t1/logs/clc-2.log']);
  const a2 = two!.argv.slice(2);
  assert.equal(a2[a2.indexOf('--listen') + 1], '127.0.0.1:8771');
  assert.equal(a2[a2.indexOf('--clc-ip') + 1], '172.31.0.3');
  // Two CLCs cannot share [::]:8773: each its own CLC_IP (and CLC_IPV6, which the plugin binds next to it).
  assert.equal(two!.env.EDGENET_METADATA_LISTEN, '172.31.0.3:8773');
  assert.equal(two!.env.EDGENET_CLC_CLC_IPV6, 'fd00:172:31::3');
  assert.equal(two!.env.EDGENET_CLC_EC2_LISTEN, '127.0.0.1:8789');
  assert.equal(two!.env.EDGENET_CLC_METRICS_LISTEN, '127.0.0.1:9771');
  assert.equal(one!.env.EDGENET_METADATA_LISTEN, '172.31.0.2:8773');
  // clc-1 keeps the one-CLC lab's relays; clc-2 has its own pair.
  assert.deepEqual(hostRelaySpec(ha, 'api', ha.clcs![0]).argv.slice(2), hostRelaySpec(plan).argv.slice(2));
  const r2 = ctlRelaySpec(ha, 'edgenet_t1-ctl', 'api', ha.clcs![1]);
  assert.deepEqual([r2.clc, r2.log], ['clc-2', '/tmp/lab-t1/logs/relay-ctl-clc-2.log']);
  assert.deepEqual(r2.argv.slice(2), ['lab', 'relay', '--listen', 'unix:/tmp/lab-t1/clc-api-2.sock', '--target', 'tcp:127.0.0.1:8771', '--watch', '/tmp/lab-t1/lab.json', '--http-unavailable']);
  assert.deepEqual(hostRelaySpec(ha, 'ec2', ha.clcs![1]).argv.slice(2), ['lab', 'relay', '--listen', 'tcp:127.0.0.1:0', '--target', 'unix:/tmp/lab-t1/clc-ec2-2.sock', '--port-file', '/tmp/lab-t1/ec2-2.port', '--watch', '/tmp/lab-t1/lab.json']);
  // IPv4-only: no CLC_IPV6 for either.
  const v4 = labPlan('t1', '/tmp/lab-t1', { db: 'postgres', ipv4Only: true });
  assert.equal(clcSpec(v4, 'edgenet_t1-ctl', v4.clcs![1]).env.EDGENET_CLC_CLC_IPV6, undefined);
});

test('a two-CLC lab: its CLC is named (clc-1, clc-2), never plain "clc"; a one-CLC lab has no clc ids', async () => {
  const { labDaemonAlive } = await import('../../../src/lab/restart.ts');
  const ha = labPlan('t1', '/tmp/lab-t1', { db: 'postgres' });
  const haState = { version: 1 as const, plan: ha, createdAt: '', phase: 'up' as const, processes: [] };
  await assert.rejects(labDaemonAlive(haState, { role: 'clc' }), (e: Error & { code?: string }) => e.code === 'LAB_UNKNOWN_CLC');
  await assert.rejects(labDaemonAlive(haState, { role: 'clc', clc: 'clc-3' }), (e: Error & { code?: string }) => e.code === 'LAB_UNKNOWN_CLC');
  assert.deepEqual(await labDaemonAlive(haState, { role: 'clc', clc: 'clc-2' }), { alive: false });
  const oneState = { ...haState, plan };
  await assert.rejects(labDaemonAlive(oneState, { role: 'clc', clc: 'clc-1' }), (e: Error & { code?: string }) => e.code === 'LAB_UNKNOWN_CLC');
  assert.deepEqual(await labDaemonAlive(oneState, { role: 'clc' }), { alive: false });
});
