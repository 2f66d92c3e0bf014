/**
 * Run by ipv6.test.ts inside `unshare --net` (a private network namespace
 * that holds only lo and disappears with this process): puts an instance's
 * EUI-64 address and a stranger's on lo, starts the metadata plugin with
 * CLC_IPV6 = ::1 beside an IPv4 listen address, and asks [::1] from each
 * source. Prints one JSON line with the answers.
 */
import { execFileSync } from 'node:child_process';
import type { CloudSnapshot, SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import type { ExplodedNetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';
import { metadataPlugin } from '../../../src/cloud-controller/metadata/plugin.ts';
import { metadataContext, requestFrom } from './metadata-fakes.ts';

const V6 = '2001:db8:10:0:d20d:1aff:fe2b:3c4d';
const STRANGER = '2001:db8:10::99';
const config: ExplodedNetworkConfiguration = {
  Mode: 'EDGE', InstanceDnsDomain: 'eucalyptus.internal', InstanceDnsServers: [], MacPrefix: 'd0:0d', PublicIps: [], Subnets: [],
  Clusters: [{ Name: 'PARTI00', MacPrefix: 'd0:0d', Subnet: { Name: '10.111.0.0', Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1', Ipv6Prefix: '2001:db8:10::/64', Ipv6DnsServers: [] }, PrivateIps: [] }],
};
const instance: SnapshotInstance = { id: 'i-1a2b3c4d', ownerId: 'a', cluster: 'PARTI00', node: 'n1', mac: 'd0:0d:1a:2b:3c:4d', privateIp: '10.111.1.7', groups: ['sg-1'] };
const ctx = metadataContext({
  snapshot: async (): Promise<CloudSnapshot> => ({ config, clcIp: '127.0.0.1', clusters: [], instances: [instance], groups: [{ id: 'sg-1', name: 'web', ownerId: 'a', rules: [] }] }),
  instanceByPrivateIp: async (ip) => (ip === instance.privateIp ? instance : undefined),
});

const get = (port: number, path: string, localAddress: string) => requestFrom('::1', port, path, localAddress);

execFileSync('ip', ['link', 'set', 'lo', 'up']);
for (const a of [V6, STRANGER]) execFileSync('ip', ['-6', 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad']);
const plugin = metadataPlugin({ listen: '127.0.0.1:0', clcIpv6: '::1' });
await plugin.start(ctx);
try {
  const v6 = plugin.addresses()[1];
  if (v6 === undefined) throw new Error('no [::1] listener');
  const answers = {
    ipv6: await get(v6.port, '/latest/meta-data/ipv6', V6),
    instanceId: await get(v6.port, '/latest/meta-data/instance-id', V6),
    ipv6s: await get(v6.port, `/latest/meta-data/network/interfaces/macs/${instance.mac}/ipv6s`, V6),
    stranger: await get(v6.port, '/latest/meta-data/instance-id', STRANGER),
  };
  console.log(JSON.stringify(answers));
} finally {
  await plugin.stop();
}
