/**
 * The BGP speaker's configuration (issue 17): shared/gni/routed.ts
 * checkNodeBgp (every refusal, hostile values never pass) and
 * render/bird.ts renderBird (the text, families and peers per addressing,
 * what it leaves out and why, run:false without bgp settings or peers, a
 * refused document as RenderFailure), and BIRD's own parser on the result
 * (`bird -p`, ~10 ms). BIRD on a real kernel: test/integration/netd-bird.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkNodeBgp, nodeBgpExtension, nodeBgpText, type NodeBgpText } from '../../../src/shared/gni/routed.ts';
import { BIRD_CONF, BIRD_KIND, renderBird, type BirdInput } from '../../../src/netd/render/bird.ts';
import { RenderFailure } from '../../../src/netd/render/context.ts';
import type { SupervisedProcess } from '../../../src/netd/render/types.ts';

const NODE = '172.31.0.11';
const BGP: NodeBgpText = { localAs: '65001', peers: ['172.31.0.1 65000', 'fd00:31::1 65000'], communities: ['65001:100'], password: 's3cret' };
const PORTS = [
  { interface: 'vn_i-00000002', addresses: ['10.50.0.12/32', '2001:db8:50::12/128'] },
  { interface: 'vn_i-00000001', addresses: ['10.50.0.11/32', '10.60.0.1/32', '2001:db8:50::11/128'] },
];

function bird(over: Partial<BirdInput> = {}): { p: SupervisedProcess; conf: string; warnings: string[] } {
  const warnings: string[] = [];
  const p = renderBird({ node: NODE, cluster: 'c1', bgp: BGP, addressing: 'dual', ports: PORTS, ...over }, warnings);
  return { p, conf: p.files.find((f) => f.name === BIRD_CONF)?.content ?? '', warnings };
}

const codes = (text: NodeBgpText, node = NODE) => {
  const r = checkNodeBgp(text, node);
  return r.ok ? [] : r.problems.map((p) => p.code);
};

test('checkNodeBgp: canonical values; the router id defaults to the IPv4 node name', () => {
  const r = checkNodeBgp({ localAs: '4200000000', peers: ['172.31.0.1 65000', '2001:DB8:0:0::1 4200000001'], communities: ['65001:100', '65001:0100'], password: 'a b!' }, NODE);
  assert.deepEqual(r, {
    ok: true,
    value: { localAs: 4200000000, routerId: NODE, peers: [{ address: '172.31.0.1', as: 65000 }, { address: '2001:db8::1', as: 4200000001 }], communities: ['65001:100'], password: 'a b!' },
  });
  const explicit = checkNodeBgp({ localAs: '65001', routerId: '10.255.0.1', peers: [], communities: [] }, 'node-a.example');
  assert.ok(explicit.ok && explicit.value.routerId === '10.255.0.1' && explicit.value.password === undefined);
  // Round trip through the document extension the CLC writes.
  const written = nodeBgpText({ name: NODE, instanceIds: [], extensions: [nodeBgpExtension({ localAs: 65001, peers: [{ address: '172.31.0.1', as: 65000 }], communities: ['65001:100'], password: 's3cret' })] });
  assert.ok(written !== undefined && checkNodeBgp(written, NODE).ok);
});

test('checkNodeBgp: every refusal, each with its code; all problems at once', () => {
  const cases: [string, NodeBgpText, string, string[]][] = [
    ['no local-as', { peers: [], communities: [] }, NODE, ['BGP_LOCAL_AS_INVALID']],
    ['local-as 0', { ...BGP, localAs: '0' }, NODE, ['BGP_LOCAL_AS_INVALID']],
    ['local-as past 32 bits', { ...BGP, localAs: '4294967296' }, NODE, ['BGP_LOCAL_AS_INVALID']],
    ['local-as with a sign, zero or space', { ...BGP, localAs: '+65001' }, NODE, ['BGP_LOCAL_AS_INVALID']],
    ['local-as leading zero', { ...BGP, localAs: '065001' }, NODE, ['BGP_LOCAL_AS_INVALID']],
    ['local-as injection', { ...BGP, localAs: '65001; protocol kernel x {}' }, NODE, ['BGP_LOCAL_AS_INVALID']],
    ['no router id, name not IPv4', { ...BGP }, 'node-a', ['BGP_ROUTER_ID_INVALID']],
    ['router id 0.0.0.0', { ...BGP, routerId: '0.0.0.0' }, NODE, ['BGP_ROUTER_ID_INVALID']],
    ['router id IPv6', { ...BGP, routerId: '2001:db8::1' }, NODE, ['BGP_ROUTER_ID_INVALID']],
    ['router id injection', { ...BGP, routerId: '1.2.3.4; log "/etc/passwd" all' }, NODE, ['BGP_ROUTER_ID_INVALID']],
    ['peer injection', { ...BGP, peers: ['1.2.3.4; protocol static x { ipv4; route 0.0.0.0/0 blackhole; } 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer injection in the ASN', { ...BGP, peers: ['1.2.3.4 65000; protocol'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer without ASN', { ...BGP, peers: ['172.31.0.1'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer with two spaces', { ...BGP, peers: ['172.31.0.1  65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer ASN 0', { ...BGP, peers: ['172.31.0.1 0'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer name', { ...BGP, peers: ['router.example 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer loopback', { ...BGP, peers: ['127.0.0.1 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer 0.x', { ...BGP, peers: ['0.1.2.3 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer IPv4 link-local', { ...BGP, peers: ['169.254.0.1 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer multicast', { ...BGP, peers: ['224.0.0.5 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer broadcast', { ...BGP, peers: ['255.255.255.255 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer IPv6 link-local (needs an interface)', { ...BGP, peers: ['fe80::1 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer IPv6 with zone', { ...BGP, peers: ['fe80::1%eth0 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer ::1', { ...BGP, peers: ['::1 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer IPv6 multicast', { ...BGP, peers: ['ff02::2 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer IPv4-mapped', { ...BGP, peers: ['::ffff:172.31.0.1 65000'] }, NODE, ['BGP_PEER_INVALID']],
    ['peer twice (canonical text compared)', { ...BGP, peers: ['fd00:31::1 65000', 'fd00:31:0::1 65001'] }, NODE, ['BGP_PEER_DUPLICATE']],
    ['community out of range', { ...BGP, communities: ['65536:1'] }, NODE, ['BGP_COMMUNITY_INVALID']],
    ['community injection', { ...BGP, communities: ['1:2)); accept; } filter x { ((1:2'] }, NODE, ['BGP_COMMUNITY_INVALID']],
    ['large community', { ...BGP, communities: ['65001:1:2'] }, NODE, ['BGP_COMMUNITY_INVALID']],
    ['password with a quote', { ...BGP, password: 'x"; protocol kernel k { ipv4 { export all; }; }; #' }, NODE, ['BGP_PASSWORD_INVALID']],
    ['password with a backslash', { ...BGP, password: 'a\\"b' }, NODE, ['BGP_PASSWORD_INVALID']],
    ['password with a newline', { ...BGP, password: 'a\nrouter id 1.1.1.1;' }, NODE, ['BGP_PASSWORD_INVALID']],
    ['password over 80 characters', { ...BGP, password: 'x'.repeat(81) }, NODE, ['BGP_PASSWORD_INVALID']],
    ['password empty', { ...BGP, password: '' }, NODE, ['BGP_PASSWORD_INVALID']],
    ['password non-ASCII', { ...BGP, password: 'pässword' }, NODE, ['BGP_PASSWORD_INVALID']],
  ];
  for (const [why, text, node, want] of cases) assert.deepEqual(codes(text, node), want, why);
  assert.deepEqual(
    codes({ localAs: 'x', routerId: 'y', peers: ['a b', '172.31.0.1 65000', '172.31.0.1 65000'], communities: ['c'], password: '"' }),
    ['BGP_LOCAL_AS_INVALID', 'BGP_ROUTER_ID_INVALID', 'BGP_PEER_INVALID', 'BGP_PEER_DUPLICATE', 'BGP_COMMUNITY_INVALID', 'BGP_PASSWORD_INVALID'],
  );
  const secret = checkNodeBgp({ ...BGP, password: 'top"secret' }, NODE);
  assert.ok(!secret.ok && !JSON.stringify(secret.problems).includes('top'), 'the password itself is never echoed');
});

test('renderBird: the text for a dual-stack node, deterministic and independent of port order', () => {
  const { p, conf, warnings } = bird();
  assert.deepEqual({ kind: p.kind, run: p.run, reload: p.reload, summary: p.summary, files: p.files.map((f) => f.name) }, {
    kind: BIRD_KIND, run: true, reload: { kind: 'signal', signal: 'SIGHUP' }, summary: '5 prefixes to 2 peers', files: ['bird.conf'],
  });
  assert.deepEqual(warnings, []);
  assert.equal(bird({ ports: [...PORTS].reverse() }).conf, conf);
  const lines = conf.split('\n');
  assert.equal(lines[0], '# Generated by edgenet netd for node 172.31.0.11 (cluster c1). Do not edit: rewritten on every change.');
  assert.equal(lines[1], 'router id 172.31.0.11;');
  const block = (start: string) => {
    const i = lines.indexOf(start);
    assert.ok(i >= 0, `${start} in\n${conf}`);
    // Up to the block's own closing brace (a filter holds an inner `  }`).
    return lines.slice(i, lines.indexOf('}', i) + 1).join('\n');
  };
  assert.equal(block('protocol static edgenet_routes4 {'), [
    'protocol static edgenet_routes4 {', '  ipv4;',
    '  route 10.50.0.11/32 via "vn_i-00000001";', '  route 10.50.0.12/32 via "vn_i-00000002";', '  route 10.60.0.1/32 via "vn_i-00000001";', '}',
  ].join('\n'));
  assert.equal(block('protocol static edgenet_routes6 {'), [
    'protocol static edgenet_routes6 {', '  ipv6;',
    '  route 2001:db8:50::11/128 via "vn_i-00000001";', '  route 2001:db8:50::12/128 via "vn_i-00000002";', '}',
  ].join('\n'));
  assert.equal(block('protocol kernel edgenet_kernel4 {'), ['protocol kernel edgenet_kernel4 {', '  ipv4 {', '    import none;', '    export where source = RTS_BGP && net = 0.0.0.0/0;', '  };', '}'].join('\n'));
  assert.equal(block('filter edgenet_import6 {'), ['filter edgenet_import6 {', '  if net = ::/0 then accept;', '  reject;', '}'].join('\n'));
  assert.equal(block('filter edgenet_export4 {'), [
    'filter edgenet_export4 {', '  if proto = "edgenet_routes4" && net.type = NET_IP4 && net.len = 32 then {', '    bgp_community.add((65001,100));', '    accept;', '  }', '  reject;', '}',
  ].join('\n'), 'only our static routes of host length leave, with the communities');
  assert.equal(block('protocol bgp edgenet_peer4_172_31_0_1 {'), [
    'protocol bgp edgenet_peer4_172_31_0_1 {', '  local as 65001;', '  neighbor 172.31.0.1 as 65000;', '  password "s3cret";',
    '  connect delay time 1;', '  connect retry time 1;', '  error wait time 1, 16;', '  hold time 30;', '  keepalive time 10;',
    '  graceful restart on;', '  graceful restart time 120;',
    '  ipv4 {', '    import filter edgenet_import4;', '    export filter edgenet_export4;', '    next hop self;', '  };', '}',
  ].join('\n'));
  assert.match(conf, /protocol bgp edgenet_peer6_fd00_31__1 \{\n {2}local as 65001;\n {2}neighbor fd00:31::1 as 65000;/);
  assert.doesNotMatch(conf, /\blearn\b/, 'kernel routes are never learned (netd\'s proto 77 routes stay alien)');
  assert.equal(conf.match(/^protocol bgp /gm)?.length, 2);
});

test('renderBird: an instance change touches only the static protocol (the export filters stay byte-identical)', () => {
  const filters = (conf: string) => conf.split('\n\n').filter((b) => !b.includes('protocol static')).join('\n\n');
  const before = bird().conf;
  const after = bird({ ports: [PORTS[1]!] }).conf;
  assert.notEqual(after, before);
  assert.equal(filters(after), filters(before));
});

test('renderBird: families follow the addressing; peers and prefixes of another family are left out with a warning', () => {
  const v4 = bird({ addressing: 'ipv4' });
  assert.equal(v4.p.summary, '3 prefixes to 1 peer');
  assert.doesNotMatch(v4.conf, /ipv6|edgenet_routes6|fd00:31::1/);
  assert.deepEqual(v4.warnings.filter((w) => /2001:db8:50::1[12]\/128/.test(w)).length, 2);
  assert.ok(v4.warnings.some((w) => /peer fd00:31::1 is ipv6 but the cluster's addressing is ipv4/.test(w)));
  const v6 = bird({ addressing: 'ipv6', ports: [{ interface: 'vn_i-1', addresses: ['2001:db8:50::11'] }] });
  assert.equal(v6.p.summary, '1 prefix to 1 peer');
  assert.match(v6.conf, /route 2001:db8:50::11\/128 via "vn_i-1";/, 'a bare address is its host prefix');
  assert.doesNotMatch(v6.conf, /ipv4|0\.0\.0\.0/);
});

/** An IPv6-only cluster whose instance i-1 holds the elastic 10.60.0.1 beside its routed /128. */
const ELASTIC_V6 = { addressing: 'ipv6', ports: [{ interface: 'vn_i-1', addresses: ['2001:db8:50::11/128', '10.60.0.1/32'] }, { interface: 'vn_i-2', addresses: ['2001:db8:50::12/128'] }] } as const;

test('renderBird: an elastic IPv4 address on an IPv6-only cluster is announced (IPv4 static protocol and IPv4 sessions)', () => {
  const { p, conf, warnings } = bird(ELASTIC_V6);
  assert.deepEqual(warnings, []);
  assert.equal(p.summary, '3 prefixes to 2 peers');
  assert.match(conf, /protocol static edgenet_routes4 \{\n {2}ipv4;\n {2}route 10\.60\.0\.1\/32 via "vn_i-1";\n\}/);
  assert.match(conf, /protocol bgp edgenet_peer4_172_31_0_1 \{[^}]*\n {2}ipv4 \{\n {4}import filter edgenet_import4;\n {4}export filter edgenet_export4;/);
  assert.match(conf, /protocol kernel edgenet_kernel4 /);
  assert.match(conf, /protocol bgp edgenet_peer6_fd00_31__1 /);
  // The same cluster without the elastic address speaks IPv6 only, and says why the IPv4 peer has no session.
  const plain = bird({ ...ELASTIC_V6, ports: [ELASTIC_V6.ports[1]] });
  assert.doesNotMatch(plain.conf, /ipv4|edgenet_peer4/);
  assert.ok(plain.warnings.some((w) => /peer 172\.31\.0\.1 is ipv4 but the cluster's addressing is ipv6/.test(w)));
  // Only IPv6 peers: the elastic /32 has no session to go over, which is said rather than silently dropped.
  const noV4Peer = bird({ ...ELASTIC_V6, bgp: { ...BGP, peers: ['fd00:31::1 65000'] } });
  assert.equal(noV4Peer.p.run, true);
  assert.deepEqual(noV4Peer.warnings, ['node 172.31.0.11 has no ipv4 BGP peer: its 1 ipv4 prefix is not announced']);
});

test('renderBird: no instances still runs (sessions up, nothing announced)', () => {
  const { p, conf } = bird({ ports: [] });
  assert.equal(p.run, true);
  assert.equal(p.summary, '0 prefixes to 2 peers');
  assert.match(conf, /protocol static edgenet_routes4 \{\n {2}ipv4;\n\}/);
});

test('renderBird: what it will not write is left out with a warning', () => {
  const { conf, warnings } = bird({
    ports: [
      { interface: 'vn_x"; protocol', addresses: ['10.50.0.20/32'] },
      { interface: 'vn_i-1', addresses: ['10.50.0.21/24', '10.50.0.22/32; route 0.0.0.0/0', 'garbage', '2001:db8:50::21/64', '10.50.0.23/32'] },
      { interface: 'vn_i-2', addresses: ['10.50.0.23'] },
    ],
  });
  assert.deepEqual(conf.match(/^ {2}route .*$/gm), ['  route 10.50.0.23/32 via "vn_i-1";']);
  assert.equal(warnings.length, 6, warnings.join('\n'));
  assert.ok(warnings.some((w) => /10\.50\.0\.23\/32 is on both vn_i-1 and vn_i-2/.test(w)));
  assert.doesNotMatch(conf, /protocol"|route 0\.0\.0\.0\/0|garbage/);
});

test('renderBird: no bgp settings or no usable peer → must not run, with a warning; refused settings → RenderFailure ROUTED_BGP_INVALID', () => {
  const none = bird({ bgp: undefined });
  assert.deepEqual([none.p.run, none.p.files, none.warnings.length], [false, [], 1]);
  assert.match(none.warnings[0] ?? '', /no bgp settings/);
  const lonely = bird({ addressing: 'ipv6', bgp: { ...BGP, peers: ['172.31.0.1 65000'] }, ports: [{ interface: 'vn_i-1', addresses: ['2001:db8:50::11/128'] }] });
  assert.equal(lonely.p.run, false);
  assert.ok(lonely.warnings.some((w) => /no BGP peer for the cluster's addressing \(ipv6\)/.test(w)));
  for (const bad of [{ ...BGP, password: 'x" ; }' }, { ...BGP, peers: ['1.2.3.4; protocol device {} 65000'] }, { ...BGP, localAs: undefined }]) {
    assert.throws(() => bird({ bgp: bad }), (err: unknown) => err instanceof RenderFailure && err.code === 'ROUTED_BGP_INVALID' && !err.message.includes('x"'));
  }
  assert.throws(() => bird({ node: 'node-a', bgp: { ...BGP } }), (err: unknown) => err instanceof RenderFailure && /BGP_ROUTER_ID_INVALID/.test(err.message));
  assert.match(bird({ node: 'node\na', bgp: { ...BGP, routerId: '10.0.0.1' } }).conf.split('\n')[0] ?? '', /^# Generated by edgenet netd for node "node\\na" \(cluster c1\)/, 'a newline in a name cannot end the comment');
});

const BIRD = '/usr/sbin/bird';
test('BIRD itself accepts the rendered configuration (bird -p)', { skip: existsSync(BIRD) ? false : 'bird2 is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'en-bird-'));
  try {
    const variants: [string, string][] = [
      ['dual', bird().conf],
      ['ipv4, no password, no communities, 4-byte ASNs', bird({ addressing: 'ipv4', bgp: { localAs: '4200000000', peers: ['172.31.0.1 4200000001', '172.31.0.2 65000'], communities: [] } }).conf],
      ['ipv6, no instances', bird({ addressing: 'ipv6', ports: [] }).conf],
      ['ipv6 with an elastic IPv4 address', bird(ELASTIC_V6).conf],
      ['longest password', bird({ bgp: { ...BGP, password: `${'!#$%&\'()*+,-./:;<=>?@[]^_`{|}~'.repeat(2)}${'a'.repeat(20)}` } }).conf],
    ];
    for (const [name, conf] of variants) {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.conf`);
      writeFileSync(file, conf);
      const r = spawnSync(BIRD, ['-p', '-c', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${name}: ${r.stderr}\n${conf}`);
    }
    // The check can fail: BIRD's parser refuses what the renderer must never write.
    const file = join(dir, 'bad.conf');
    writeFileSync(file, bird().conf.replace('password "s3cret";', 'password "s3"cret";'));
    assert.notEqual(spawnSync(BIRD, ['-p', '-c', file], { encoding: 'utf8' }).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
