/**
 * A ROUTED property (issue 17, docs/config.md "ROUTED"): the schema's
 * Mode-dependent rules, every ROUTED check with the path of the value at
 * fault, the refusal of another mode's keys in both directions, and explode
 * (IPv4-only, IPv6-only and dual-stack clusters; the BGP merge; canonical
 * text).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';
import { CONFIG_CODES } from '../../../src/cloud-controller/config/codes.ts';
import type { NetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';
import { parseRoutedPoolEntry } from '../../../src/cloud-controller/config/routed.ts';

type Doc = Record<string, unknown> & { Clusters: Record<string, unknown>[] };

/** A valid ROUTED document with one cluster of each addressing. */
function routedDoc(): Doc {
  return {
    Mode: 'ROUTED',
    PublicIps: ['10.60.0.1-10.60.0.9'],
    Bgp: { LocalAsn: 65001, Peers: [{ Address: '172.31.0.1', Asn: 65000 }, { Address: '2001:db8:31::1', Asn: 65000 }] },
    Clusters: [
      { Name: 'dual', Ipv4Pool: ['10.50.0.10-10.50.0.200'], Ipv6Prefix: '2001:db8:50::/64' },
      { Name: 'v6', Ipv6Prefix: '2001:db8:51::/64' },
      { Name: 'v4', Ipv4Pool: ['10.52.0.0/24'] },
    ],
  };
}

function mutate(patch: (d: Doc) => void): Doc {
  const d = routedDoc();
  patch(d);
  return d;
}

const run = (doc: unknown) => validateNetworkConfiguration(doc);
const codes = (doc: unknown) => run(doc).diagnostics.map((d) => `${d.code} ${d.path}`);
const messageOf = (doc: unknown, code: string) => run(doc).diagnostics.find((d) => d.code === code)?.message ?? '';

test('a ROUTED document without problems has no diagnostic; PublicIps is optional in ROUTED', () => {
  assert.deepEqual(run(routedDoc()).diagnostics, []);
  assert.ok(run(routedDoc()).ok);
  const noPublic = mutate((d) => delete d['PublicIps']);
  assert.deepEqual(codes(noPublic), []);
  // EDGE still requires it.
  assert.deepEqual(codes({ Subnets: [{ Subnet: '10.0.0.0', Netmask: '255.255.0.0', Gateway: '10.0.0.1' }] }), ['REQUIRED PublicIps']);
});

test('ROUTED requires a non-empty Clusters; a cluster has Ipv4Pool, Ipv6Prefix or both', () => {
  assert.deepEqual(codes(mutate((d) => delete (d as Record<string, unknown>)['Clusters'])), ['REQUIRED Clusters']);
  assert.deepEqual(codes(mutate((d) => (d.Clusters = []))), ['LIST_EMPTY Clusters']);
  assert.deepEqual(codes(mutate((d) => (d.Clusters[1] = { Name: 'none' }))), ['ROUTED_CLUSTER_NO_ADDRESSES Clusters[1]']);
  assert.match(messageOf(mutate((d) => (d.Clusters[1] = { Name: 'none' })), 'ROUTED_CLUSTER_NO_ADDRESSES'), /Cluster "none" has neither Ipv4Pool nor Ipv6Prefix/);
  assert.deepEqual(codes(mutate((d) => (d.Clusters[2]!['Ipv4Pool'] = []))), ['LIST_EMPTY Clusters[2].Ipv4Pool']);
});

test('cluster names are unique in either mode, checked and worded alike (one helper, semantic.ts checkClusterName)', () => {
  const routed = run(mutate((d) => (d.Clusters[2]!['Name'] = 'dual')));
  const edge = run({ PublicIps: ['192.0.2.1'], Subnets: [{ Subnet: '10.0.0.0', Netmask: '255.255.0.0', Gateway: '10.0.0.1' }], Clusters: ['10.0.1.0', '10.0.2.0', '10.0.3.0'].map((ip, i) => ({ Name: i === 1 ? 'x' : 'dual', PrivateIps: [ip] })) });
  for (const r of [routed, edge]) {
    assert.deepEqual(r.diagnostics, [{ severity: 'error', code: 'CLUSTER_NAME_DUPLICATE', path: 'Clusters[2].Name', message: 'Cluster name "dual" is already used by Clusters[0]' }]);
  }
});

test('InstanceDnsServers take IPv4 and IPv6 in ROUTED (checked per family), IPv4 only in EDGE', () => {
  const servers = (list: string[]) => mutate((d) => (d['InstanceDnsServers'] = list));
  assert.deepEqual(codes(servers(['198.51.100.53', '2001:db8:ffff::53'])), []);
  assert.deepEqual(codes(servers(['0.0.0.0', 'fe80::53', 'ff02::1', 'x', '2001:db8::53', '2001:DB8::53'])), [
    'DNS_SERVER_INVALID InstanceDnsServers[0]',
    'IPV6_DNS_SERVER_RESERVED InstanceDnsServers[1]',
    'IPV6_DNS_SERVER_RESERVED InstanceDnsServers[2]',
    'IP_INVALID InstanceDnsServers[3]',
    'DNS_SERVER_DUPLICATE InstanceDnsServers[5]',
  ]);
  assert.deepEqual(codes(servers(['2001:db8::1', '2001:db8::2', '2001:db8::3', '2001:db8::4', '10.0.0.1'])), ['IPV6_DNS_SERVERS_TOO_MANY InstanceDnsServers']);
  const edge = { PublicIps: ['192.0.2.1'], InstanceDnsServers: ['2001:db8::53'], Subnets: [{ Subnet: '10.0.0.0', Netmask: '255.255.0.0', Gateway: '10.0.0.1' }] };
  assert.deepEqual(codes(edge), ['IP_INVALID InstanceDnsServers[0]']);
});

test('Ipv4Pool entries: addresses, ranges and aligned CIDRs; reversed, unaligned, reserved and overlapping entries are refused', () => {
  assert.deepEqual(parseRoutedPoolEntry(' 10.50.1.0 / 28 ')?.range, { lo: 0x0a320100, hi: 0x0a32010f });
  const pool = (list: unknown[]) => mutate((d) => (d.Clusters[2]!['Ipv4Pool'] = list));
  assert.deepEqual(codes(pool(['10.52.0.0/24', ' 10.53.0.1 - 10.53.0.9 ', '10.54.0.7'])), []);
  assert.deepEqual(codes(pool(['10.52.0.3/24'])), ['ROUTED_POOL_UNALIGNED Clusters[2].Ipv4Pool[0]']);
  assert.match(messageOf(pool(['10.52.0.3/24']), 'ROUTED_POOL_UNALIGNED'), /did you mean 10\.52\.0\.0\/24\?/);
  assert.deepEqual(codes(pool(['10.52.0.9-10.52.0.1'])), ['RANGE_REVERSED Clusters[2].Ipv4Pool[0]']);
  assert.deepEqual(codes(pool(['10.52.0.0/33', 'x'])), ['IP_RANGE_INVALID Clusters[2].Ipv4Pool[0]', 'IP_RANGE_INVALID Clusters[2].Ipv4Pool[1]']);
  assert.deepEqual(codes(pool(['10.52.0.0/24', '10.52.0.7', '10.52.0.0/24'])), ['POOL_OVERLAP Clusters[2].Ipv4Pool[1]', 'POOL_DUPLICATE Clusters[2].Ipv4Pool[2]']);
  for (const reserved of ['169.254.10.0/24', '127.0.0.1', '0.0.0.0/8', '224.0.0.5', '250.0.0.1', '255.255.255.255']) {
    assert.deepEqual(codes(pool([reserved])), ['ROUTED_POOL_RESERVED Clusters[2].Ipv4Pool[0]'], reserved);
  }
  assert.match(messageOf(pool(['169.254.10.0/24']), 'ROUTED_POOL_RESERVED'), /link-local 169\.254\.0\.0\/16/);
  // PublicIps in ROUTED are routed addresses too.
  assert.deepEqual(codes(mutate((d) => (d['PublicIps'] = ['169.254.1.1']))), ['ROUTED_POOL_RESERVED PublicIps[0]']);
});

test('every routed address has one owner: clusters\' pools and PublicIps may not overlap', () => {
  const overlap = mutate((d) => {
    d.Clusters[2]!['Ipv4Pool'] = ['10.52.0.0/24', '10.50.0.100'];
    d['PublicIps'] = ['10.60.0.1-10.60.0.9', '10.52.0.200-10.52.1.5'];
  });
  assert.deepEqual(codes(overlap), ['ROUTED_POOL_OVERLAP PublicIps[1]', 'ROUTED_POOL_OVERLAP Clusters[2].Ipv4Pool[1]']);
  const messages = run(overlap).diagnostics.map((d) => d.message);
  assert.match(messages[0]!, /Public 10\.52\.0\.200-10\.52\.1\.5 overlaps 10\.52\.0\.0-10\.52\.0\.255 of cluster "v4" \(Clusters\[2\]\.Ipv4Pool\[0\]\)/);
  assert.match(messages[1]!, /10\.50\.0\.100 of cluster "v4" overlaps 10\.50\.0\.10-10\.50\.0\.200 of cluster "dual" \(Clusters\[0\]\.Ipv4Pool\[0\]\)/);
  // Clusters may share a /64: EUI-64 addresses of unique MACs, each routed as a /128.
  assert.deepEqual(codes(mutate((d) => (d.Clusters[1]!['Ipv6Prefix'] = '2001:db8:50::/64'))), []);
});

test('Ipv6Prefix follows EDGE\'s rules for a /64', () => {
  const prefix = (p: string) => mutate((d) => (d.Clusters[1]!['Ipv6Prefix'] = p));
  assert.deepEqual(codes(prefix('2001:db8:51::/48')), ['IPV6_PREFIX_LENGTH Clusters[1].Ipv6Prefix']);
  assert.deepEqual(codes(prefix('2001:db8:51::1/64')), ['IPV6_PREFIX_UNALIGNED Clusters[1].Ipv6Prefix']);
  assert.deepEqual(codes(prefix('fe80::/64')), ['IPV6_PREFIX_RESERVED Clusters[1].Ipv6Prefix']);
  assert.deepEqual(codes(prefix('2001:db8:51::')), ['IPV6_PREFIX_INVALID Clusters[1].Ipv6Prefix']);
});

test('InstanceGateway: link-local IPv4 (not the link\'s ends nor the metadata address) and link-local IPv6', () => {
  const gw = (g: Record<string, string>) => mutate((d) => (d['InstanceGateway'] = g));
  assert.deepEqual(codes(gw({ Ipv4: '169.254.0.1', Ipv6: 'fe80::1' })), []);
  assert.deepEqual(codes(gw({ Ipv4: '169.254.100.1', Ipv6: 'FE80::0:1' })), []);
  assert.deepEqual(codes(gw({ Ipv4: '10.0.0.1', Ipv6: '2001:db8::1' })), ['ROUTED_INSTANCE_GATEWAY_INVALID InstanceGateway.Ipv4', 'ROUTED_INSTANCE_GATEWAY_INVALID InstanceGateway.Ipv6']);
  for (const v4 of ['169.254.0.0', '169.254.255.255', '169.254.169.254']) assert.deepEqual(codes(gw({ Ipv4: v4 })), ['ROUTED_INSTANCE_GATEWAY_INVALID InstanceGateway.Ipv4'], v4);
  assert.deepEqual(codes(gw({ Ipv6: 'fe80::' })), ['ROUTED_INSTANCE_GATEWAY_INVALID InstanceGateway.Ipv6']);
  assert.match(messageOf(gw({ Ipv4: '169.254.169.254' }), 'ROUTED_INSTANCE_GATEWAY_INVALID'), /the metadata address/);
  assert.deepEqual(codes(gw({ Ipv4: 'fe80::1', Ipv6: '169.254.0.1', Other: 'x' })), ['IP_INVALID InstanceGateway.Ipv4', 'IPV6_INVALID InstanceGateway.Ipv6', 'UNKNOWN_KEY InstanceGateway.Other']);
});

test('BGP: every cluster needs LocalAsn and Peers from the cloud or its own Bgp', () => {
  const noCloud = mutate((d) => delete d['Bgp']);
  assert.deepEqual(codes(noCloud), ['ROUTED_BGP_MISSING Clusters[0].Bgp', 'ROUTED_BGP_MISSING Clusters[1].Bgp', 'ROUTED_BGP_MISSING Clusters[2].Bgp']);
  assert.match(messageOf(noCloud, 'ROUTED_BGP_MISSING'), /Cluster "dual" has no BGP LocalAsn and Peers: set Bgp\.LocalAsn and Bgp\.Peers for the whole cloud or in Clusters\[0\]\.Bgp/);
  const partial = mutate((d) => {
    d['Bgp'] = { LocalAsn: 65001 };
    d.Clusters[0]!['Bgp'] = { Peers: [{ Address: '172.31.0.1', Asn: 65000 }, { Address: '2001:db8:31::1', Asn: 65000 }] };
  });
  assert.deepEqual(codes(partial), ['ROUTED_BGP_MISSING Clusters[1].Bgp', 'ROUTED_BGP_MISSING Clusters[2].Bgp']);
  assert.match(messageOf(partial, 'ROUTED_BGP_MISSING'), /has no BGP Peers: set Bgp\.Peers/);
  assert.deepEqual(codes(mutate((d) => (d['Bgp'] = { LocalAsn: 65001, Peers: [] }))), ['LIST_EMPTY Bgp.Peers']);
});

test('BGP values: ASNs, peers, communities, password, each on its own path', () => {
  const doc = mutate((d) => {
    d['Bgp'] = {
      LocalAsn: 0,
      Peers: [
        { Address: '172.31.0.1', Asn: 65000 },
        { Address: '172.31.0.2', Asn: 4294967296 },
        { Address: '127.0.0.1', Asn: 65000 },
        { Address: '2001:db8:31::1', Asn: 65000 },
        { Address: '2001:DB8:31:0::1', Asn: 65000 },
        { Address: '10.50.0.20', Asn: 65000 },
        { Address: '2001:db8:51::7', Asn: 65000 },
        { Address: 'fe80::1', Asn: 65000 },
      ],
      Communities: ['65001:100', '65536:1', 'no-export', '1:65535'],
      Password: 'has"quote',
    };
    d.Clusters[0]!['Bgp'] = { Password: ' padded', LocalAsn: 1.5 };
  });
  assert.deepEqual(codes(doc), [
    'ROUTED_BGP_ASN_INVALID Bgp.LocalAsn',
    'ROUTED_BGP_ASN_INVALID Bgp.Peers[1].Asn',
    'ROUTED_BGP_PEER_INVALID Bgp.Peers[2].Address',
    'ROUTED_BGP_PEER_DUPLICATE Bgp.Peers[4].Address',
    'ROUTED_BGP_PEER_INVALID Bgp.Peers[5].Address',
    'ROUTED_BGP_PEER_INVALID Bgp.Peers[6].Address',
    'ROUTED_BGP_PEER_INVALID Bgp.Peers[7].Address',
    'ROUTED_BGP_COMMUNITY_INVALID Bgp.Communities[1]',
    'ROUTED_BGP_COMMUNITY_INVALID Bgp.Communities[2]',
    'ROUTED_BGP_PASSWORD_INVALID Bgp.Password',
    'TYPE_MISMATCH Clusters[0].Bgp.LocalAsn',
    'ROUTED_BGP_PASSWORD_INVALID Clusters[0].Bgp.Password',
  ]);
  const byPath = new Map(run(doc).diagnostics.map((d) => [d.path, d.message]));
  assert.match(byPath.get('Bgp.Peers[1].Asn')!, /Cannot use 4294967296 as an autonomous system number: expected 1-4294967295/);
  assert.match(byPath.get('Bgp.Peers[2].Address')!, /loopback/);
  assert.match(byPath.get('Bgp.Peers[4].Address')!, /Peer 2001:db8:31::1 is listed twice \(also Bgp\.Peers\[3\]\)/);
  assert.match(byPath.get('Bgp.Peers[5].Address')!, /an address of an instance pool/);
  assert.match(byPath.get('Bgp.Peers[6].Address')!, /inside the instances' \/64 \(Clusters\[1\]\.Ipv6Prefix\)/);
  assert.match(byPath.get('Bgp.Peers[7].Address')!, /link-local/);
  assert.equal(byPath.get('Bgp.Password')!.includes('has"quote'), false, 'a password is never echoed');
  // Printable ASCII only, 1-80 characters.
  const password = (p: string) => codes(mutate((d) => ((d['Bgp'] as Record<string, unknown>)['Password'] = p)));
  for (const good of ['s3cret', 'x', 'a b', "it's#ok!", 'p'.repeat(80)]) assert.deepEqual(password(good), [], good);
  for (const bad of ['p'.repeat(81), 'back\\slash', 'tab\there', 'ünïcode', 'trailing ']) assert.deepEqual(password(bad), ['ROUTED_BGP_PASSWORD_INVALID Bgp.Password'], bad);
  // "" is unset, as everywhere in the property.
  assert.deepEqual(password(''), ['VALUE_UNSET Bgp.Password']);
});

test('BGP peers per family: a cluster\'s effective Peers and a node\'s own have a peer of each family its addressing uses', () => {
  const v4Peer = { Address: '172.31.0.1', Asn: 65000 };
  const v6Peer = { Address: '2001:db8:31::1', Asn: 65000 };
  // The cloud's IPv4 peer alone: the dual and the IPv6-only clusters inherit it and cannot announce their /128s.
  const cloudV4 = mutate((d) => ((d['Bgp'] as Record<string, unknown>)['Peers'] = [v4Peer]));
  assert.deepEqual(codes(cloudV4), ['ROUTED_BGP_PEER_FAMILY_MISSING Clusters[0].Bgp', 'ROUTED_BGP_PEER_FAMILY_MISSING Clusters[1].Bgp']);
  assert.ok(!run(cloudV4).ok);
  assert.match(messageOf(cloudV4, 'ROUTED_BGP_PEER_FAMILY_MISSING'), /Cluster "dual" is dual stack but the Peers it takes from the cloud's Bgp list no IPv6 peer: .*\/128s would reach no router; add an IPv6 peer/);
  // A cluster's own list is the one checked (reported on it), and an IPv4-only cluster with an IPv6 peer only is refused too.
  const own = mutate((d) => {
    d.Clusters[1]!['Bgp'] = { Peers: [v6Peer] };
    d.Clusters[2]!['Bgp'] = { Peers: [v6Peer] };
  });
  assert.deepEqual(codes(own), ['ROUTED_BGP_ELASTIC_PEER_MISSING Clusters[1].Bgp.Peers', 'ROUTED_BGP_PEER_FAMILY_MISSING Clusters[2].Bgp.Peers']);
  assert.match(messageOf(own, 'ROUTED_BGP_PEER_FAMILY_MISSING'), /Cluster "v4" is IPv4-only but its Bgp\.Peers lists no IPv4 peer/);
  // A node with Peers of its own: checked against its cluster's addressing; a node without inherits the cluster's (checked once, there).
  const nodes = mutate((d) => {
    d.Clusters[0]!['Nodes'] = [{ Name: 'a', Bgp: { RouterId: '10.255.0.1', Peers: [v4Peer] } }, { Name: '172.31.0.12' }, { Name: 'b', Bgp: { RouterId: '10.255.0.2', Peers: [v6Peer, v4Peer] } }];
  });
  assert.deepEqual(codes(nodes), ['ROUTED_BGP_PEER_FAMILY_MISSING Clusters[0].Nodes[0].Bgp.Peers']);
  assert.match(messageOf(nodes, 'ROUTED_BGP_PEER_FAMILY_MISSING'), /Node "a" of cluster "dual" is dual stack but its Bgp\.Peers lists no IPv6 peer/);
  // No Peers at all is ROUTED_BGP_MISSING alone; an empty list LIST_EMPTY alone.
  assert.deepEqual(codes(mutate((d) => (d['Bgp'] = { LocalAsn: 65001 }))).filter((c) => c.includes('FAMILY')), []);
  assert.deepEqual(codes(mutate((d) => (d.Clusters[0]!['Bgp'] = { Peers: [] }))), ['LIST_EMPTY Clusters[0].Bgp.Peers']);
});

test('BGP peers per family: an IPv6-only cluster without an IPv4 peer is warned about when the cloud has elastic addresses (valid)', () => {
  const v6Peer = { Address: '2001:db8:31::1', Asn: 65000 };
  const doc = mutate((d) => {
    d.Clusters[1]!['Bgp'] = { Peers: [v6Peer] };
    d.Clusters[0]!['Nodes'] = [{ Name: '172.31.0.11' }];
    d.Clusters[1]!['Nodes'] = [{ Name: '172.31.0.12', Bgp: { Peers: [v6Peer, { Address: '172.31.0.1', Asn: 65000 }] } }, { Name: '172.31.0.13', Bgp: { Peers: [v6Peer] } }];
  });
  const r = run(doc);
  assert.ok(r.ok);
  assert.deepEqual(r.diagnostics.map((x) => `${x.severity} ${x.code} ${x.path}`), [
    'warning ROUTED_BGP_ELASTIC_PEER_MISSING Clusters[1].Bgp.Peers',
    'warning ROUTED_BGP_ELASTIC_PEER_MISSING Clusters[1].Nodes[1].Bgp.Peers',
  ]);
  assert.match(r.diagnostics[0]!.message, /Cluster "v6" is IPv6-only and its Bgp\.Peers lists no IPv4 peer: an elastic address \(PublicIps\) associated with one of its instances would be routed on its node but reach no router/);
  // Without PublicIps there is no elastic address to announce.
  assert.deepEqual(codes(mutate((d) => {
    delete d['PublicIps'];
    d.Clusters[1]!['Bgp'] = { Peers: [v6Peer] };
  })), []);
});

test('nodes: names unique in the document, RouterId only per node, non-zero and unique (a node named by an IPv4 address uses it)', () => {
  const doc = mutate((d) => {
    d.Clusters[0]!['Nodes'] = [
      { Name: '172.31.0.11', Bgp: { LocalAsn: 65011, RouterId: '172.31.0.11' } },
      { Name: '172.31.0.12', Bgp: { RouterId: '0.0.0.0' } },
      { Name: 'n3', Bgp: { RouterId: '172.31.0.13' } },
      { Name: 'n4', Bgp: { RouterId: '172.31.0.14', Peers: [{ Address: '172.31.0.1', Asn: 0 }, { Address: '2001:db8:31::1', Asn: 65000 }] } },
    ];
    d.Clusters[2]!['Nodes'] = [{ Name: '172.31.0.13' }, { Name: 'n4' }, { Name: 'n5', Bgp: { RouterId: '172.31.0.11' } }];
  });
  assert.deepEqual(codes(doc), [
    'ROUTED_BGP_ROUTER_ID_INVALID Clusters[0].Nodes[1].Bgp.RouterId',
    'ROUTED_BGP_ROUTER_ID_INVALID Clusters[0].Nodes[2].Bgp.RouterId',
    'ROUTED_BGP_ASN_INVALID Clusters[0].Nodes[3].Bgp.Peers[0].Asn',
    'ROUTED_NODE_DUPLICATE Clusters[2].Nodes[1].Name',
    'ROUTED_BGP_ROUTER_ID_INVALID Clusters[2].Nodes[1].Bgp.RouterId',
    'ROUTED_BGP_ROUTER_ID_INVALID Clusters[2].Nodes[2].Bgp.RouterId',
  ]);
  const byPath = new Map(run(doc).diagnostics.map((d) => [d.path, d.message]));
  assert.match(byPath.get('Clusters[0].Nodes[2].Bgp.RouterId')!, /172\.31\.0\.13 is already the name, and so the default router id, of the node at Clusters\[2\]\.Nodes\[0\]/);
  assert.match(byPath.get('Clusters[2].Nodes[2].Bgp.RouterId')!, /172\.31\.0\.11 is already the RouterId of the node at Clusters\[0\]\.Nodes\[0\]/);
  assert.match(byPath.get('Clusters[2].Nodes[1].Name')!, /Node "n4" is already listed at Clusters\[0\]\.Nodes\[3\]/);
  // A listed node named otherwise than by an IPv4 address needs a RouterId (netd would refuse its BGP).
  const diags = run(doc).diagnostics;
  assert.match(diags.find((d) => d.path === 'Clusters[2].Nodes[1].Bgp.RouterId')!.message, /Node "n4" has no Bgp\.RouterId and its name is not an IPv4 address/);
  // A router id at the cloud or cluster level is refused by the schema, with a hint.
  const misplaced = mutate((d) => ((d['Bgp'] as Record<string, unknown>)['RouterId'] = '172.31.0.11'));
  assert.deepEqual(codes(misplaced), ['UNKNOWN_KEY Bgp.RouterId']);
  assert.match(messageOf(misplaced, 'UNKNOWN_KEY'), /one node's: set it in Clusters\[\]\.Nodes\[\]\.Bgp/);
  assert.deepEqual(codes(mutate((d) => (d.Clusters[0]!['Nodes'] = [{ Bgp: {} }]))), ['REQUIRED Clusters[0].Nodes[0].Name']);
});

test('one cloud, one mode: EDGE keys in a ROUTED property and ROUTED keys in an EDGE one are refused, top level and per cluster', () => {
  const mixed = mutate((d) => {
    d['Subnets'] = [{ Subnet: '10.0.0.0', Netmask: '255.255.0.0', Gateway: '10.0.0.1' }];
    d['PublicGateway'] = '10.60.0.254';
    d.Clusters[0]!['Subnet'] = { Name: 'x' };
    d.Clusters[2]!['PrivateIps'] = ['10.52.0.5'];
  });
  assert.deepEqual(codes(mixed), ['UNKNOWN_KEY PublicGateway', 'UNKNOWN_KEY Subnets', 'UNKNOWN_KEY Clusters[0].Subnet', 'UNKNOWN_KEY Clusters[2].PrivateIps']);
  assert.match(messageOf(mixed, 'UNKNOWN_KEY'), /Key "PublicGateway" belongs to mode EDGE; this document's mode is ROUTED \(a cloud runs one mode/);
  assert.ok(run(mixed).diagnostics.some((d) => /Cluster key "Subnet" belongs to mode EDGE; this document's mode is ROUTED/.test(d.message)));
  const edge = {
    PublicIps: ['192.0.2.1'],
    Bgp: { LocalAsn: 65001 },
    InstanceGateway: {},
    Subnets: [{ Subnet: '10.0.0.0', Netmask: '255.255.0.0', Gateway: '10.0.0.1' }],
    Clusters: [{ Name: 'a', Ipv4Pool: ['10.0.0.5'], Nodes: [] }],
  };
  assert.deepEqual(codes(edge), ['UNKNOWN_KEY InstanceGateway', 'UNKNOWN_KEY Bgp', 'UNKNOWN_KEY Clusters[0].Ipv4Pool', 'UNKNOWN_KEY Clusters[0].Nodes']);
  assert.match(messageOf(edge, 'UNKNOWN_KEY'), /belongs to mode ROUTED; this document's mode is EDGE/);
  // A key no mode defines stays the schema's UNKNOWN_KEY, once.
  assert.deepEqual(codes(mutate((d) => (d.Clusters[0]!['Surprise'] = 1))), ['UNKNOWN_KEY Clusters[0].Surprise']);
});

test('every ROUTED code is registered with a meaning: errors, but for the elastic-address warning', () => {
  const routed = Object.keys(CONFIG_CODES).filter((c) => c.startsWith('ROUTED_'));
  assert.equal(routed.length, 15);
  for (const c of routed) assert.equal(CONFIG_CODES[c]!.severity, c === 'ROUTED_BGP_ELASTIC_PEER_MISSING' ? 'warning' : 'error', c);
});

// ---- explode ----

const ex = (doc: unknown, inputs = DEFAULT_EXPLODE_INPUTS) => {
  const v = run(doc);
  assert.ok(v.ok, JSON.stringify(v.diagnostics));
  return explode(v.value as NetworkConfiguration, inputs);
};

test('explode: each cluster\'s Subnet is the instance-side link, PrivateIps its Ipv4Pool as ranges (empty for IPv6-only), Addressing per cluster', () => {
  const e = ex(routedDoc());
  assert.equal(e.Mode, 'ROUTED');
  assert.deepEqual(e.Subnets, []);
  assert.equal(e.PublicGateway, undefined);
  assert.deepEqual(e.Routed, { GatewayIpv4: '169.254.0.1', GatewayIpv6: 'fe80::1' });
  const [dual, v6, v4] = e.Clusters;
  assert.deepEqual(dual!.Subnet, { Name: 'routed', Subnet: '169.254.0.0', Netmask: '255.255.0.0', Gateway: '169.254.0.1', Ipv6Prefix: '2001:db8:50::/64', Ipv6DnsServers: [] });
  assert.deepEqual(v4!.Subnet, { Name: 'routed', Subnet: '169.254.0.0', Netmask: '255.255.0.0', Gateway: '169.254.0.1' });
  assert.deepEqual([dual, v6, v4].map((c) => c!.PrivateIps), [['10.50.0.10-10.50.0.200'], [], ['10.52.0.0-10.52.0.255']]);
  assert.deepEqual([dual, v6, v4].map((c) => c!.Routed?.Addressing), ['dual', 'ipv6', 'ipv4']);
  assert.deepEqual([dual, v6, v4].map((c) => c!.MacPrefix), ['d0:0d', 'd0:0d', 'd0:0d']);
});

test('explode: gateways and name servers in canonical text; IPv6 name servers travel with each IPv6 cluster\'s prefix', () => {
  const e = ex(
    mutate((d) => {
      d['InstanceGateway'] = { Ipv4: '169.254.7.1', Ipv6: 'FE80:0::A' };
      d['InstanceDnsServers'] = ['198.51.100.53', '2001:DB8:FFFF:0::53'];
      d['MacPrefix'] = 'D2:0D';
    }),
  );
  assert.deepEqual(e.Routed, { GatewayIpv4: '169.254.7.1', GatewayIpv6: 'fe80::a' });
  assert.deepEqual(e.InstanceDnsServers, ['198.51.100.53']);
  assert.deepEqual(e.Clusters.map((c) => [c.Subnet.Gateway, c.Subnet.Ipv6DnsServers]), [
    ['169.254.7.1', ['2001:db8:ffff::53']],
    ['169.254.7.1', ['2001:db8:ffff::53']],
    ['169.254.7.1', undefined],
  ]);
  assert.equal(e.MacPrefix, 'd2:0d');
  // The defaults of the other properties apply as in EDGE, split by family.
  const d2 = ex(routedDoc(), { ...DEFAULT_EXPLODE_INPUTS, nameservers: ['10.0.0.2', '2001:db8::2'] });
  assert.deepEqual(d2.InstanceDnsServers, ['10.0.0.2']);
  assert.deepEqual(d2.Clusters[0]!.Subnet.Ipv6DnsServers, ['2001:db8::2']);
  assert.equal(d2.InstanceDnsDomain, 'eucalyptus.internal');
});

test('explode: BGP merged cloud → cluster → node, key by key, lists replaced whole, RouterId only from the node', () => {
  const e = ex(
    mutate((d) => {
      d['Bgp'] = { LocalAsn: 65001, Peers: [{ Address: '172.31.0.1', Asn: 65000 }, { Address: '2001:db8:31::1', Asn: 65000 }], Communities: ['65001:0100'], Password: 's3cret' };
      d.Clusters[1]!['Bgp'] = { LocalAsn: 65002, Communities: [] };
      d.Clusters[1]!['Nodes'] = [
        { Name: '172.31.1.11', Bgp: { RouterId: '172.31.1.11', Peers: [{ Address: '2001:DB8:31::1', Asn: 65000 }, { Address: '172.31.0.1', Asn: 65000 }] } },
        { Name: '172.31.1.12' },
      ];
    }),
  );
  const cloudPeers = [{ Address: '172.31.0.1', Asn: 65000 }, { Address: '2001:db8:31::1', Asn: 65000 }];
  assert.deepEqual(e.Clusters[0]!.Routed?.Bgp, { LocalAsn: 65001, Peers: cloudPeers, Communities: ['65001:100'], Password: 's3cret' });
  assert.deepEqual(e.Clusters[0]!.Routed?.Nodes, []);
  assert.deepEqual(e.Clusters[1]!.Routed?.Bgp, { LocalAsn: 65002, Peers: cloudPeers, Communities: [], Password: 's3cret' });
  assert.deepEqual(e.Clusters[1]!.Routed?.Nodes, [
    { Name: '172.31.1.11', Bgp: { LocalAsn: 65002, RouterId: '172.31.1.11', Peers: [{ Address: '2001:db8:31::1', Asn: 65000 }, { Address: '172.31.0.1', Asn: 65000 }], Communities: [], Password: 's3cret' } },
    { Name: '172.31.1.12', Bgp: { LocalAsn: 65002, Peers: cloudPeers, Communities: [], Password: 's3cret' } },
  ]);
});

test('explode: registered clusters the ROUTED property does not list get no entry', () => {
  const e = ex(routedDoc(), { ...DEFAULT_EXPLODE_INPUTS, registeredClusters: ['dual', 'other'] });
  assert.deepEqual(e.Clusters.map((c) => c.Name), ['dual', 'v6', 'v4']);
});

test('explode: an EDGE property has no Routed field anywhere', () => {
  const e = ex({ PublicIps: ['192.0.2.1'], Subnets: [{ Subnet: '10.0.0.0', Netmask: '255.255.0.0', Gateway: '10.0.0.1', Ipv6Prefix: '2001:db8::/64' }], Clusters: [{ Name: 'a' }] });
  assert.equal('Routed' in e, false);
  assert.equal('Routed' in e.Clusters[0]!, false);
});
