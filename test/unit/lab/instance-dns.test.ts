import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceDnsFiles, mergeResolvScript, parseNameservers, rdnssdArgv } from '../../../src/lab/instance-dns.ts';
import { parseGlobalIpv6 } from '../../../src/lab/topology.ts';

const files = instanceDnsFiles("/tmp/it's lab", { id: 'i-1', ns: 'p-i-1' });

test("the instance's DNS files live in its own directory; resolv.conf is the namespace's /etc/netns entry", () => {
  assert.equal(files.dir, "/tmp/it's lab/dns/i-1");
  assert.equal(files.resolvConf, '/etc/netns/p-i-1/resolv.conf');
  for (const f of [files.ipv4, files.ipv6, files.merge, files.rdnssdPid]) assert.ok(f.startsWith(`${files.dir}/`), f);
});

test("the merge script concatenates the IPv4 and IPv6 fragments into the namespace's resolv.conf only (quoted)", () => {
  const script = mergeResolvScript(files);
  assert.match(script, /cat '\/tmp\/it'\\''s lab\/dns\/i-1\/ipv4\.resolv' '\/tmp\/it'\\''s lab\/dns\/i-1\/ipv6\.resolv'/);
  // Rewritten in place and only when changed; no temp file in /etc/netns/<ns>/ (ip netns exec would bind-mount it).
  assert.match(script, /cmp -s '\/tmp\/it'\\''s lab\/dns\/i-1\/resolv\.conf\.next' '\/etc\/netns\/p-i-1\/resolv\.conf' \|\| cat '\/tmp\/it'\\''s lab\/dns\/i-1\/resolv\.conf\.next' > '\/etc\/netns\/p-i-1\/resolv\.conf'/);
  assert.doesNotMatch(script, /\/etc\/netns\/p-i-1\/resolv\.conf\.tmp/);
  assert.doesNotMatch(script.replaceAll('/etc/netns/p-i-1/resolv.conf', ''), /\/etc\/resolv\.conf/);
});

test("rdnssd runs with our fragment, our hook and our pid file, never Debian's merge hook", () => {
  const argv = rdnssdArgv(files);
  assert.equal(argv[0], 'rdnssd');
  assert.deepEqual(argv.slice(argv.indexOf('-r'), argv.indexOf('-r') + 2), ['-r', files.ipv6]);
  assert.deepEqual(argv.slice(argv.indexOf('-H'), argv.indexOf('-H') + 2), ['-H', files.merge]);
  assert.deepEqual(argv.slice(argv.indexOf('-p'), argv.indexOf('-p') + 2), ['-p', files.rdnssdPid]);
  assert.ok(!argv.includes('-f'), 'it daemonizes (it must outlive `lab vm add`)');
});

test('nameserver lines and global IPv6 addresses parse', () => {
  assert.deepEqual(parseNameservers('# x\nnameserver 2001:db8::53\nsearch a\n  nameserver 10.0.0.1 \n'), ['2001:db8::53', '10.0.0.1']);
  const json = JSON.stringify([{ ifname: 'eth0', addr_info: [
    { family: 'inet6', local: '2001:db8:10::d20d:aff:fe0b:c01', prefixlen: 64, scope: 'global', tentative: true },
    { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
    { family: 'inet', local: '10.0.0.1', prefixlen: 24, scope: 'global' },
    { family: 'inet6', local: '2001:db8:10::1', prefixlen: 64, scope: 'global', dadfailed: true, tentative: true },
  ] }]);
  assert.deepEqual(parseGlobalIpv6(json), [
    { address: '2001:db8:10::d20d:aff:fe0b:c01', prefixLength: 64, tentative: true, dadFailed: false },
    { address: '2001:db8:10::1', prefixLength: 64, tentative: true, dadFailed: true },
  ]);
  assert.deepEqual(parseGlobalIpv6(''), []);
});
