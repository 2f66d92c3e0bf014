/**
 * The config drive's files as cloud-init itself reads them (Debian 12's
 * cloud-init 22.4, a TEST_PACKAGE): its YAML loader takes our JSON text, its
 * network-state parser accepts the network config (skip_broken=False: a
 * broken entry is an error, not a log line), and its renderers turn it into
 * a guest configuration — netplan with the routes as written (on-link
 * included), ENI (Debian 12 guests) without failing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createExec } from '../../../src/shared/exec.ts';
import { renderConfigDrive, type ConfigDriveInput } from '../../../src/netd/render/config-drive.ts';

const CLOUDINIT = '/usr/lib/python3/dist-packages/cloudinit/net/network_state.py';

const READER = `
import json, sys
from cloudinit import safeyaml
from cloudinit.net import network_state, netplan, eni
out = []
for drive in json.load(sys.stdin):
    md = safeyaml.load(drive['meta-data'])
    ns = network_state.parse_net_config_data(safeyaml.load(drive['network-config']), skip_broken=False)
    ifaces = [{'name': i['name'], 'mac': i.get('mac_address'), 'addresses': ['%s/%s' % (s['address'], s['prefix']) for s in i['subnets']]} for i in ns.iter_interfaces()]
    plan = safeyaml.load(netplan.Renderer({})._render_content(ns))
    eni_text = eni.Renderer({})._render_interfaces(ns)
    out.append({'md': md, 'ifaces': ifaces, 'dns': ns.dns_nameservers, 'search': ns.dns_searchdomains, 'netplan': plan, 'eni': eni_text})
print(json.dumps(out))
`;

const BASE: ConfigDriveInput = {
  instance: 'i-0a0b0c0d',
  mac: 'd0:0d:0a:0b:0c:0d',
  gatewayIpv4: '169.254.0.1',
  gatewayIpv6: 'fe80::1',
  dnsServers: ['198.51.100.53', '2001:db8:ffff::53'],
  dnsDomain: 'cloud.example',
};

interface Read {
  md: Record<string, string>;
  ifaces: { name: string; mac: string; addresses: string[] }[];
  dns: string[];
  search: string[];
  netplan: { network: { ethernets: Record<string, { routes?: Record<string, unknown>[] }> } };
  eni: string;
}

test("cloud-init 22.4 parses and renders the drives of dual-stack, IPv4-only, IPv6-only and elastic instances", { timeout: 60_000 }, async (t) => {
  if (!existsSync(CLOUDINIT)) {
    assert.notEqual(process.env.CI, 'true', 'cloud-init is not installed (scripts/setup.sh installs it)');
    t.skip('cloud-init is not installed (run scripts/setup.sh)');
    return;
  }
  const inputs: ConfigDriveInput[] = [
    { ...BASE, ipv4: '10.50.0.11', elasticIpv4: '10.60.0.1', ipv6: '2001:db8:50::d20d:aff:fe0b:c0d' },
    { ...BASE, ipv4: '10.50.0.12' },
    { ...BASE, ipv6: '2001:db8:50::1' },
  ];
  const drives = inputs.map((i) => Object.fromEntries(renderConfigDrive(i).files.map((f) => [f.name, f.content])));
  const r = await createExec().run(['/usr/bin/python3', '-c', READER], { input: JSON.stringify(drives), timeoutMs: 50_000 });
  const [dual, v4, v6] = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Read[];

  assert.deepEqual(dual!.md, { 'instance-id': 'i-0a0b0c0d', 'local-hostname': 'euca-10-50-0-11.cloud.example' });
  assert.deepEqual(dual!.ifaces, [{ name: 'eth0', mac: 'd0:0d:0a:0b:0c:0d', addresses: ['10.50.0.11/32', '10.60.0.1/32', '2001:db8:50:0:d20d:aff:fe0b:c0d/128'] }]);
  assert.deepEqual(dual!.dns, ['198.51.100.53', '2001:db8:ffff::53']);
  assert.deepEqual(dual!.search, ['cloud.example']);
  assert.deepEqual(dual!.netplan.network.ethernets.eth0!.routes, [
    { to: '0.0.0.0/0', via: '169.254.0.1', 'on-link': true },
    { to: '::/0', via: 'fe80::1' },
  ]);
  assert.match(dual!.eni, /iface eth0 inet static\n\s+address 10\.50\.0\.11\/32/);

  assert.deepEqual(v4!.ifaces[0]!.addresses, ['10.50.0.12/32']);
  assert.deepEqual(v4!.dns, ['198.51.100.53']);
  assert.deepEqual(v4!.netplan.network.ethernets.eth0!.routes, [{ to: '0.0.0.0/0', via: '169.254.0.1', 'on-link': true }]);

  assert.deepEqual(v6!.ifaces[0]!.addresses, ['2001:db8:50::1/128']);
  assert.deepEqual(v6!.dns, ['2001:db8:ffff::53']);
  assert.equal(v6!.md['local-hostname'], 'i-0a0b0c0d.cloud.example');
  assert.match(v6!.eni, /iface eth0 inet6 static\n\s+address 2001:db8:50::1\/128/);
});
