import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_INSTANCE_DNS_DOMAIN, renderConfigDrive, strictBase64, type ConfigDriveInput } from '../../../src/netd/render/config-drive.ts';
import { eucaHostname, hostnameDomains } from '../../../src/cloud-controller/metadata/hostnames.ts';
import type { ConfigDrive } from '../../../src/netd/render/types.ts';

const BASE: ConfigDriveInput = {
  instance: 'i-0a0b0c0d',
  mac: 'D0:0D:0A:0B:0C:0D',
  gatewayIpv4: '169.254.0.1',
  gatewayIpv6: 'fe80::1',
  dnsServers: ['198.51.100.53', '2001:db8:ffff::53'],
  dnsDomain: 'cloud.example',
};

function file(d: ConfigDrive, name: string): string | undefined {
  return d.files.find((f) => f.name === name)?.content;
}
function json(d: ConfigDrive, name: string): any {
  return JSON.parse(file(d, name) ?? 'null');
}

test('dual stack: /32 + /128, both gateways (v4 on-link), both name servers, search domain', () => {
  const warnings: string[] = [];
  const d = renderConfigDrive({ ...BASE, ipv4: '10.50.0.11', ipv6: '2001:DB8:50:0:d20d:aff:fe0b:c0d' }, warnings);
  assert.deepEqual(warnings, []);
  assert.deepEqual(d.files.map((f) => f.name), ['meta-data', 'network-config']);
  assert.deepEqual(json(d, 'network-config'), {
    version: 2,
    ethernets: {
      eth0: {
        match: { macaddress: 'd0:0d:0a:0b:0c:0d' },
        'set-name': 'eth0',
        addresses: ['10.50.0.11/32', '2001:db8:50:0:d20d:aff:fe0b:c0d/128'],
        routes: [
          { to: '0.0.0.0/0', via: '169.254.0.1', 'on-link': true },
          { to: '::/0', via: 'fe80::1' },
        ],
        nameservers: { addresses: ['198.51.100.53', '2001:db8:ffff::53'], search: ['cloud.example'] },
      },
    },
  });
  assert.deepEqual(json(d, 'meta-data'), { 'instance-id': 'i-0a0b0c0d', 'local-hostname': 'euca-10-50-0-11.cloud.example' });
});

test('IPv4 only: no IPv6 route, no IPv6 name server, even when an IPv6 gateway is configured', () => {
  const d = renderConfigDrive({ ...BASE, ipv4: '10.50.0.11' });
  const eth = json(d, 'network-config').ethernets.eth0;
  assert.deepEqual(eth.addresses, ['10.50.0.11/32']);
  assert.deepEqual(eth.routes.map((r: { to: string }) => r.to), ['0.0.0.0/0']);
  assert.deepEqual(eth.nameservers.addresses, ['198.51.100.53']);
});

test('IPv6 only: no IPv4 route or name server; named after its id in the domain', () => {
  const d = renderConfigDrive({ ...BASE, ipv6: '2001:db8:50::1' });
  const eth = json(d, 'network-config').ethernets.eth0;
  assert.deepEqual(eth.addresses, ['2001:db8:50::1/128']);
  assert.deepEqual(eth.routes, [{ to: '::/0', via: 'fe80::1' }]);
  assert.deepEqual(eth.nameservers.addresses, ['2001:db8:ffff::53']);
  assert.equal(json(d, 'meta-data')['local-hostname'], 'i-0a0b0c0d.cloud.example');
});

test('local-hostname is the metadata service\'s (lookup.ts: eucaHostname of the private IP, else <id>.<domain>; hostnameDomains) for every kind of instance', () => {
  // The metadata service's rule, from its own functions: the domain is the exploded InstanceDnsDomain, which the document carries.
  const metadata = (i: { id: string; privateIp?: string }, instanceDnsDomain?: string) => {
    const { privateDomain } = hostnameDomains(instanceDnsDomain === undefined ? {} : { instanceDnsDomain });
    return i.privateIp !== undefined ? eucaHostname(i.privateIp, privateDomain) : `${i.id}.${privateDomain}`;
  };
  const cases: [string, Partial<ConfigDriveInput>, { id: string; privateIp?: string }][] = [
    ['dual stack', { ipv4: '10.50.0.11', ipv6: '2001:db8:50::1' }, { id: 'i-0a0b0c0d', privateIp: '10.50.0.11' }],
    ['IPv4 only', { ipv4: '10.50.0.11' }, { id: 'i-0a0b0c0d', privateIp: '10.50.0.11' }],
    ['IPv6 only', { ipv6: '2001:db8:50::1' }, { id: 'i-0a0b0c0d' }],
    ['IPv6 only with an elastic address (not its private IP)', { ipv6: '2001:db8:50::1', elasticIpv4: '10.60.0.1' }, { id: 'i-0a0b0c0d' }],
  ];
  for (const [why, over, instance] of cases) {
    for (const domain of ['cloud.example', 'eucalyptus.internal', undefined]) {
      const { dnsDomain: _d, ...base } = BASE;
      const d = renderConfigDrive({ ...base, ...over, ...(domain === undefined ? {} : { dnsDomain: domain }) });
      assert.equal(json(d, 'meta-data')['local-hostname'], metadata(instance, domain), `${why}, domain ${domain}`);
    }
  }
  // Without a domain in the document: Eucalyptus's default, the metadata service's too.
  assert.equal(hostnameDomains({}).privateDomain, DEFAULT_INSTANCE_DNS_DOMAIN);
  const { dnsDomain: _d, ...noDomain } = BASE;
  assert.equal(json(renderConfigDrive({ ...noDomain, ipv4: '10.50.0.11' }), 'meta-data')['local-hostname'], 'euca-10-50-0-11.eucalyptus.internal');
  assert.equal(json(renderConfigDrive({ ...noDomain, ipv6: '2001:db8:50::1' }), 'meta-data')['local-hostname'], 'i-0a0b0c0d.eucalyptus.internal');
});

test('elastic IPv4: one more /32 after the routed one; on an IPv6-only instance it brings the IPv4 routes', () => {
  const dual = json(renderConfigDrive({ ...BASE, ipv4: '10.50.0.11', elasticIpv4: '10.60.0.1', ipv6: '2001:db8:50::1' }), 'network-config').ethernets.eth0;
  assert.deepEqual(dual.addresses, ['10.50.0.11/32', '10.60.0.1/32', '2001:db8:50::1/128']);
  const v6 = json(renderConfigDrive({ ...BASE, elasticIpv4: '10.60.0.1', ipv6: '2001:db8:50::1' }), 'network-config').ethernets.eth0;
  assert.deepEqual(v6.addresses, ['10.60.0.1/32', '2001:db8:50::1/128']);
  assert.deepEqual(v6.routes.map((r: { to: string }) => r.to), ['0.0.0.0/0', '::/0']);
});

test('a global IPv6 gateway gets on-link (the instance holds a /128 only)', () => {
  const eth = json(renderConfigDrive({ ...BASE, ipv6: '2001:db8:50::1', gatewayIpv6: '2001:db8:50::ffff' }), 'network-config').ethernets.eth0;
  assert.deepEqual(eth.routes, [{ to: '::/0', via: '2001:db8:50::ffff', 'on-link': true }]);
});

test('user data: kept as the given bytes (binary too), base64-carried', () => {
  const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x41]);
  const d = renderConfigDrive({ ...BASE, ipv4: '10.50.0.11', userData: bytes.toString('base64') });
  const u = d.files.find((f) => f.name === 'user-data');
  assert.equal(u?.encoding, 'base64');
  assert.deepEqual(Buffer.from(u!.content, 'base64'), bytes);
  assert.deepEqual(d.files.map((f) => f.name), ['meta-data', 'network-config', 'user-data']);
  const text = renderConfigDrive({ ...BASE, ipv4: '10.50.0.11', userData: Buffer.from('#cloud-config\nhostname: x\n').toString('base64') });
  assert.equal(Buffer.from(text.files[2]!.content, 'base64').toString(), '#cloud-config\nhostname: x\n');
});

test('hostile document: user data that is not base64, bad addresses, gateway, name server and domain are left out with warnings', () => {
  for (const bad of ['not base64!', 'QUJD=', 'QUI', 'QUJ=', '$(reboot)', 'QUJD\u0000']) {
    const warnings: string[] = [];
    const d = renderConfigDrive({ ...BASE, ipv4: '10.50.0.11', userData: bad }, warnings);
    assert.deepEqual(d.files.map((f) => f.name), ['meta-data', 'network-config'], bad);
    assert.equal(warnings.length, 1, bad);
    assert.match(warnings[0]!, /not valid base64/);
  }
  const warnings: string[] = [];
  const d = renderConfigDrive(
    { ...BASE, mac: 'zz', ipv4: '10.50.0.300', elasticIpv4: '10.60.0.1', ipv6: 'nope', gatewayIpv4: '1.2.3', dnsServers: ['x', '198.51.100.53'], dnsDomain: 'bad domain"\n', hostname: 'a b' },
    warnings,
  );
  const eth = json(d, 'network-config').ethernets.eth0;
  assert.deepEqual(eth.addresses, ['10.60.0.1/32']);
  assert.equal(eth.match, undefined);
  assert.equal(eth.routes, undefined);
  assert.deepEqual(eth.nameservers, { addresses: ['198.51.100.53'] });
  // No usable address nor domain: the id in the default domain, never the refused domain's text.
  assert.equal(json(d, 'meta-data')['local-hostname'], 'i-0a0b0c0d.eucalyptus.internal');
  assert.equal(warnings.length, 7, warnings.join('\n'));
});

test('strictBase64 accepts canonical base64 (with line breaks) only', () => {
  assert.equal(strictBase64('')?.length, 0);
  assert.equal(strictBase64('QUJD')?.toString(), 'ABC');
  assert.equal(strictBase64('QUJD\nREVG')?.toString(), 'ABCDEF');
  assert.equal(strictBase64('QUI=')?.toString(), 'AB');
  assert.equal(strictBase64('QUJ='), undefined); // stray bits
  assert.equal(strictBase64('QU JD'), undefined);
  assert.equal(strictBase64('QUJD-_'), undefined);
});

test('deterministic: equal inputs give byte-identical files', () => {
  const input = { ...BASE, ipv4: '10.50.0.11', ipv6: '2001:db8:50::1', userData: 'I2Nsb3VkLWNvbmZpZwo=' };
  assert.deepEqual(renderConfigDrive(input), renderConfigDrive({ ...input }));
});
