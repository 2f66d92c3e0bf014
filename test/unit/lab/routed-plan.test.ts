/**
 * The ROUTED lab's plan (issue 17): the router, the pools and the BGP numbers,
 * the property the lab PUTs, netd's per-node configuration and state
 * directory, the router's bird.conf (pinned, and accepted by `bird -p` when
 * BIRD is installed), the birdc parser, and the instance side's reading of a
 * config drive's network-config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labPlan, labRoutedNetworkConfiguration, labNetdConf, labConfigDriveDir, LAB_ROUTED } from '../../../src/lab/plan.ts';
import { openTopology } from '../../../src/lab/topology.ts';
import { createExec } from '../../../src/shared/exec.ts';
import { netdSpec, routerBirdSpec, BIRD_BIN } from '../../../src/lab/daemons.ts';
import { hostRoutesSet4, parseRouterProtocols, renderRouterBirdConf } from '../../../src/lab/router.ts';
import { parseNetdConfig } from '../../../src/netd/config.ts';
import { renderConfigDrive } from '../../../src/netd/render/config-drive.ts';
import { evaluateNetworkConfiguration } from '../../../src/cloud-controller/properties/network-config.ts';
import { parseNetworkConfig, resolvConfText, routeArgv } from '../../../src/lab/config-drive-instance.ts';

const plan = labPlan('r1', '/tmp/lab-r1', { mode: 'routed' });
const v4only = labPlan('r2', '/tmp/lab-r2', { mode: 'routed', ipv4Only: true });

test('a ROUTED plan: router, pools, BGP numbers; nodes without public interface, each with its own state directory', () => {
  const r = plan.routed!;
  assert.equal(r.router.lanIp, '172.31.0.1');
  assert.equal(r.router.clientLinkIp, '203.0.113.1');
  assert.equal(r.router.asn, 65000);
  assert.deepEqual(r.nodes.map((n) => [n.short, n.address, n.asn, n.override]), [
    ['n1', '172.31.0.11', 65001, undefined],
    ['n2', '172.31.0.12', 65002, 65002],
  ]);
  assert.equal(r.ipv6Prefix, '2001:db8:50::/64');
  assert.equal(plan.ipv6?.prefix, '2001:db8:50::/64');
  assert.deepEqual(plan.nodes.map((n) => [n.publicIp, n.vmIp, n.stateDir]), [
    [undefined, undefined, '/tmp/lab-r1/nodes/n1/state'],
    [undefined, undefined, '/tmp/lab-r1/nodes/n2/state'],
  ]);
  assert.equal(plan.publicPool.length, 9);
  assert.equal(labConfigDriveDir(plan.nodes[0]!, 'i-0a0b0c0d'), '/tmp/lab-r1/nodes/n1/state/config-drive/i-0a0b0c0d');
  const topo = openTopology(plan.topology, { exec: createExec() });
  assert.equal(topo.routerNs, 'edgenet_r1-rt');
  assert.equal(v4only.routed!.ipv6Prefix, undefined);
  assert.equal(v4only.ipv6, undefined);
  // An EDGE plan is unchanged: no router, nodes with public addresses.
  assert.equal(labPlan('e1', '/tmp/lab-e1').routed, undefined);
});

test("the ROUTED property: Mode, pools, gateways, the router as the cloud's peer, n2's LocalAsn override", () => {
  const c = labRoutedNetworkConfiguration(plan) as Record<string, unknown>;
  assert.equal(c.Mode, 'ROUTED');
  assert.deepEqual(c.PublicIps, ['10.60.0.1-10.60.0.9']);
  assert.deepEqual(c.InstanceGateway, { Ipv4: '169.254.0.1', Ipv6: 'fe80::1' });
  assert.deepEqual(c.Bgp, { LocalAsn: 65001, Peers: [{ Address: '172.31.0.1', Asn: 65000 }, { Address: 'fd00:172:31::1', Asn: 65000 }] });
  assert.deepEqual(c.Clusters, [{ Name: 'PARTI00', Ipv4Pool: ['10.50.0.10-10.50.0.100'], Ipv6Prefix: '2001:db8:50::/64', Nodes: [{ Name: '172.31.0.12', Bgp: { LocalAsn: 65002 } }] }]);
  for (const key of ['Subnets', 'PrivateIps', 'PublicGateway']) assert.equal(key in c, false, `${key} is EDGE-only`);
  const v4 = labRoutedNetworkConfiguration(v4only) as { Clusters: Record<string, unknown>[]; InstanceDnsServers: string[] };
  assert.equal('Ipv6Prefix' in v4.Clusters[0]!, false);
  assert.deepEqual(v4.InstanceDnsServers, ['198.51.100.53']);
});

test('netd on a ROUTED node: no bridge, no public interface, its own state directory', () => {
  const node = plan.nodes[1]!;
  const conf = labNetdConf(plan, node);
  assert.doesNotMatch(conf, /VNET_BRIDGE|VNET_PUBINTERFACE|VNET_DHCPDAEMON/);
  const parsed = parseNetdConfig(conf);
  assert.equal(parsed.ok, true, JSON.stringify(parsed));
  assert.equal(netdSpec(plan, node, 'ns').env.EDGENET_STATE_DIR, '/tmp/lab-r1/nodes/n2/state');
  // EDGE nodes keep the shared state directory (labDaemonEnv).
  const edge = labPlan('e1', '/tmp/lab-e1');
  assert.equal(netdSpec(edge, edge.nodes[0]!, 'ns').env.EDGENET_STATE_DIR, '/tmp/lab-e1/state');
  const rt = routerBirdSpec(plan, 'edgenet_r1-rt');
  assert.deepEqual(rt.argv, ['/usr/sbin/bird', '-f', '-c', '/tmp/lab-r1/router/bird.conf', '-s', '/tmp/lab-r1/router/bird.ctl', '-P', '/tmp/lab-r1/router/bird.pid']);
});

test('the router accepts host routes of the pools only: exact CIDR cover of the ranges', () => {
  assert.deepEqual(hostRoutesSet4(['10.50.0.10-10.50.0.100']), [
    '10.50.0.10/31{32,32}', '10.50.0.12/30{32,32}', '10.50.0.16/28{32,32}', '10.50.0.32/27{32,32}', '10.50.0.64/27{32,32}', '10.50.0.96/30{32,32}', '10.50.0.100/32{32,32}',
  ]);
  assert.deepEqual(hostRoutesSet4(['10.60.0.1-10.60.0.9']), ['10.60.0.1/32{32,32}', '10.60.0.2/31{32,32}', '10.60.0.4/30{32,32}', '10.60.0.8/31{32,32}']);
  assert.throws(() => hostRoutesSet4(['10.0.0.9-10.0.0.1']), { code: 'LAB_BAD_SPEC' });
});

test("the router's bird.conf: one session per node with its AS, filters both ways, kernel export of BGP routes, graceful restart aware", async () => {
  const text = renderRouterBirdConf({ name: plan.name, routed: plan.routed! });
  assert.match(text, /^router id 172\.31\.0\.1;$/m);
  assert.match(text, /^protocol bgp node_n1 from cloud_node4 \{ description "node n1 \(172\.31\.0\.11\)"; neighbor 172\.31\.0\.11 as 65001; \}$/m);
  assert.match(text, /^protocol bgp node_n2 from cloud_node4 \{ .* neighbor 172\.31\.0\.12 as 65002; \}$/m);
  assert.match(text, /^protocol bgp node_n2_v6 from cloud_node6 \{ .* neighbor fd00:172:31::12 as 65002; \}$/m);
  assert.match(text, /^ {2}local fd00:172:31::1 as 65000;$/m);
  assert.match(text, /^ {2}local 172\.31\.0\.1 as 65000;$/m);
  assert.match(text, /^ {2}graceful restart aware;$/m);
  assert.match(text, /^define INSTANCES6 = \[ 2001:db8:50::\/64\{128,128\} \];$/m);
  assert.match(text, /^protocol kernel kernel4 \{ ipv4 \{ import none; export where source = RTS_BGP; \}; \}$/m);
  assert.match(text, /^ {2}ipv6 \{ import filter from_node6; export filter to_node6; \};$/m);
  const v4 = renderRouterBirdConf({ name: v4only.name, routed: v4only.routed! });
  assert.doesNotMatch(v4, /ipv6|INSTANCES6|::/);
  if (!existsSync(BIRD_BIN)) return;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'edgenet-routerconf-'));
  try {
    for (const [name, conf] of [['dual', text], ['v4', v4]] as const) {
      const file = path.join(dir, `${name}.conf`);
      await fs.writeFile(file, conf);
      const r = await createExec().run([BIRD_BIN, '-p', '-c', file], { okExitCodes: [0, 1] });
      assert.equal(r.exitCode, 0, `${name}: ${r.stderr}`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  assert.equal(LAB_ROUTED.routerAsn, 65000);
});

test('birdc show protocols: our sessions with their state', () => {
  const text = [
    'Name       Proto      Table      State  Since         Info',
    'device1    Device     ---        up     06:03:24.435  ',
    'default4   Static     master4    up     06:03:24.435  ',
    'node_n1    BGP        ---        up     06:03:28.220  Established   ',
    'node_n2    BGP        ---        start  06:03:24.435  Active        Socket: Connection refused',
    'node_n2_v6 BGP        ---        up     2025-01-02 06:03:28  Established',
  ].join('\n');
  assert.deepEqual(parseRouterProtocols(text), [
    { name: 'node_n1', node: 'n1', family: 'ipv4', state: 'up', info: 'Established', established: true },
    { name: 'node_n2', node: 'n2', family: 'ipv4', state: 'start', info: 'Active        Socket: Connection refused', established: false },
    { name: 'node_n2_v6', node: 'n2', family: 'ipv6', state: 'up', info: 'Established', established: true },
  ]);
});

test("the instance side reads netd's own network-config: MAC match, /32 + /128, on-link default routes, DNS", () => {
  const drive = renderConfigDrive({
    instance: 'i-0a0b0c0d', mac: 'D0:0D:0A:0B:0C:0D', ipv4: '10.50.0.11', ipv6: '2001:db8:50::d20d:aff:fe0b:c0d', elasticIpv4: '10.60.0.1',
    gatewayIpv4: '169.254.0.1', gatewayIpv6: 'fe80::1', dnsServers: ['198.51.100.53', '2001:db8:5353::53'], dnsDomain: 'cloud.lab.internal',
  });
  const text = drive.files.find((f) => f.name === 'network-config')!.content;
  const net = parseNetworkConfig(text, 'd0:0d:0a:0b:0c:0d');
  assert.equal(net.mac, 'd0:0d:0a:0b:0c:0d');
  assert.deepEqual(net.addresses, ['10.50.0.11/32', '10.60.0.1/32', '2001:db8:50:0:d20d:aff:fe0b:c0d/128']);
  const argv = net.routes.map((r) => routeArgv(r, 'eth0').join(' '));
  assert.ok(argv.includes('ip -4 route replace default via 169.254.0.1 dev eth0 onlink'), argv.join('\n'));
  assert.ok(argv.some((a) => a.startsWith('ip -6 route replace default via fe80::1 dev eth0')), argv.join('\n'));
  assert.equal(resolvConfText(net), 'search cloud.lab.internal\nnameserver 198.51.100.53\nnameserver 2001:db8:5353::53\n');
  assert.throws(() => parseNetworkConfig(text, 'd0:0d:00:00:00:01'), { code: 'LAB_CONFIG_DRIVE_FAILED' });
  assert.throws(() => parseNetworkConfig(JSON.stringify({ version: 2, ethernets: { eth0: { dhcp4: true } } }), 'd0:0d:00:00:00:01'), /DHCP/);
  assert.throws(() => parseNetworkConfig(JSON.stringify({ version: 1, config: [] }), 'd0:0d:00:00:00:01'), /version must be 2/);
  assert.throws(() => parseNetworkConfig(JSON.stringify({ version: 2, ethernets: { eth0: { addresses: ['10.0.0.1/32'], mtu: 9000 } } }), 'x'), /mtu is not implemented/);
});

test("the ROUTED lab's property passes the CLC's validation (dual stack and IPv4-only)", () => {
  for (const p of [plan, v4only]) {
    const outcome = evaluateNetworkConfiguration(JSON.stringify(labRoutedNetworkConfiguration(p)), () => undefined);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
  }
});
