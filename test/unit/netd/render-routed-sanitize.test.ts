/**
 * sanitize's ROUTED hook (render/routed-sanitize.ts): one row per refusal
 * code, each leaving out exactly what it names (the instance off its node, out
 * of every group set, no port, no route, no drive), the rest of the document
 * rendering as if it were never there; EDGE's rules still apply to ROUTED
 * documents (ids, MACs, duplicates, host addresses).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import { render } from '../../../src/netd/render/render.ts';
import { renderUntrusted, sanitizeGni } from '../../../src/netd/render/sanitize.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { ROUTED_NODE, ROUTED_NODE2, ROUTED_PUBLIC, eui64, routedDoc, type RoutedInstanceSpec } from '../../helpers/routed-doc.ts';

const CONFIG = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE };
const A: RoutedInstanceSpec = { id: 'i-a0000001', mac: 'd0:0d:a0:00:00:01', ipv4: '10.50.0.11', ipv6: true };
const X: RoutedInstanceSpec = { id: 'i-0000000f', mac: 'd0:0d:00:00:00:0f', ipv4: '10.50.0.15', ipv6: true };

/** The refusals of `doc`; asserts the refused instance renders nowhere and the rest renders as without it. */
function refusedAs(doc: GniDocument, without: GniDocument, id: string): [string, string][] {
  const s = sanitizeGni(doc);
  assert.equal(s.doc.instances.some((i) => i.name === id), false, `${id} is left out`);
  assert.equal(s.doc.configuration.clusters.some((c) => c.nodes.some((n) => n.instanceIds.includes(id))), false, `${id} is off its node`);
  const r = renderUntrusted(doc, { node: ROUTED_NODE }, CONFIG, {});
  const w = render(without, { node: ROUTED_NODE }, CONFIG, {});
  assert.ok(r.ok && w.ok, JSON.stringify([r, w]));
  assert.equal(r.state.routed?.ports.some((p) => p.instance === id), false);
  const strip = (st: typeof r.state) => { const { warnings: _w, refused: _r, ...rest } = st; return rest; };
  assert.deepEqual(strip(r.state), strip(w.state), 'the rest renders as if the instance were never there');
  return s.refusals.map((x) => [x.code, x.subject]);
}

const subject = (id: string) => `instance "${id}"`;

const ROWS: { readonly code: string; readonly addressing?: 'ipv4' | 'ipv6' | 'dual'; readonly bad: RoutedInstanceSpec; readonly publicIps?: readonly string[] }[] = [
  { code: 'ROUTED_IPV4_MISSING', bad: { ...X, ipv4: undefined } },
  { code: 'ROUTED_IPV4_UNEXPECTED', addressing: 'ipv6', bad: X },
  { code: 'ROUTED_IPV4_OUTSIDE_POOL', bad: { ...X, ipv4: '10.50.1.1' } },
  { code: 'ROUTED_IPV6_MISSING', bad: { ...X, ipv6: false } },
  { code: 'INSTANCE_IPV6_NOT_EUI64', bad: { ...X, ipv6: eui64('d0:0d:00:00:00:99') } },
  { code: 'INSTANCE_IPV6_OUTSIDE_PREFIX', bad: { ...X, ipv6: '2001:db8:51::1' } },
  { code: 'PUBLIC_IP_OUTSIDE_POOL', bad: { ...X, elastic: '10.61.0.1' } },
  { code: 'PUBLIC_IP_OUTSIDE_POOL', bad: { ...X, elastic: '10.60.0.1' }, publicIps: [] },
  { code: 'PRIVATE_IP_IS_HOST', bad: { ...X, ipv4: '10.50.0.20' } },
];

for (const row of ROWS) {
  test(`ROUTED refusal ${row.code}${row.publicIps?.length === 0 ? ' (empty public pool)' : ''}: the instance is left out whole`, () => {
    const addressing = row.addressing ?? 'dual';
    const good = addressing === 'ipv6' ? { ...A, ipv4: undefined } : A;
    const spec = { addressing, ...(row.publicIps === undefined ? {} : { publicIps: row.publicIps }) };
    let doc = routedDoc({ ...spec, instances: [good, row.bad] });
    if (row.code === 'PRIVATE_IP_IS_HOST') {
      // A node named by an address of the pool.
      const c = doc.configuration.clusters[0]!;
      doc = { ...doc, configuration: { ...doc.configuration, clusters: [{ ...c, nodes: [...c.nodes, { name: '10.50.0.20', instanceIds: [] }] }] } };
    }
    let without = routedDoc({ ...spec, instances: [good] });
    if (row.code === 'PRIVATE_IP_IS_HOST') without = { ...without, configuration: doc.configuration };
    const refusals = refusedAs(doc, without, X.id);
    assert.deepEqual(refusals, [[row.code, subject(X.id)]]);
  });
}

test('ROUTED refusal PRIVATE_IP_RESERVED: an IPv4 address equal to the instance gateway (a pool that holds it)', () => {
  const gateways = { ipv4: '10.50.0.15', ipv6: 'fe80::1' };
  const doc = routedDoc({ gateways, instances: [A, X] });
  assert.deepEqual(refusedAs(doc, routedDoc({ gateways, instances: [A] }), X.id), [['PRIVATE_IP_RESERVED', subject(X.id)]]);
});

test('ROUTED refusals PRIVATE_IP_DUPLICATE and MAC_DUPLICATE (EDGE rules still hold): every holder is left out', () => {
  const twin = { ...X, id: 'i-0000000e', mac: 'd0:0d:00:00:00:0e' };
  const s = sanitizeGni(routedDoc({ instances: [A, X, { ...twin, ipv4: X.ipv4 }] }));
  assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [['PRIVATE_IP_DUPLICATE', subject(X.id)], ['PRIVATE_IP_DUPLICATE', subject(twin.id)]]);
  const m = sanitizeGni(routedDoc({ instances: [A, X, { ...twin, mac: X.mac, ipv6: eui64(X.mac) }] }));
  assert.deepEqual(m.refusals.map((r) => [r.code, r.subject]), [['MAC_DUPLICATE', subject(X.id)], ['MAC_DUPLICATE', subject(twin.id)]]);
});

test('ROUTED_ADDRESSING_INVALID / _MISMATCH: the cluster is refused with every instance under it; its node then fails to render (ROUTED_CLUSTER_INVALID)', () => {
  const base = routedDoc({ instances: [A, { ...X, node: ROUTED_NODE2 }] });
  const c = base.configuration.clusters[0]!;
  const cases: [string, typeof c][] = [
    ['ROUTED_ADDRESSING_INVALID', { ...c, extensions: [{ name: 'routed', properties: [{ name: 'addressing', values: ['both'] }] }, ...c.extensions!.filter((e) => e.name !== 'routed')] }],
    ['ROUTED_ADDRESSING_INVALID', { ...c, extensions: c.extensions!.filter((e) => e.name !== 'routed') }],
    ['ROUTED_ADDRESSING_MISMATCH', { ...c, privateIps: [] }],
    ['ROUTED_ADDRESSING_MISMATCH', { ...c, extensions: c.extensions!.filter((e) => e.name !== 'ipv6') }],
  ];
  for (const [code, cluster] of cases) {
    const doc = { ...base, configuration: { ...base.configuration, clusters: [cluster] } };
    const s = sanitizeGni(doc);
    assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [[code, 'cluster c1 routed'], [code, subject(A.id)], [code, subject(X.id)]], code);
    assert.deepEqual(s.doc.instances, []);
    const r = renderUntrusted(doc, { node: ROUTED_NODE }, CONFIG, {});
    assert.ok(!r.ok && r.code === 'ROUTED_CLUSTER_INVALID', JSON.stringify(r));
  }
});

test('an IPv6 address on an ipv4-only cluster: only the IPv6 is left out (EDGE rule), the instance keeps its IPv4', () => {
  const doc = routedDoc({ addressing: 'ipv4', instances: [{ ...A, ipv6: eui64(A.mac) }] });
  const s = sanitizeGni(doc);
  assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [['INSTANCE_IPV6_OUTSIDE_PREFIX', `${subject(A.id)} ipv6`]]);
  const r = renderUntrusted(doc, { node: ROUTED_NODE }, CONFIG, {});
  assert.ok(r.ok);
  assert.deepEqual(r.state.routed?.ports.map((p) => p.addresses), [['10.50.0.11/32']]);
});

test('an EDGE document is not checked with ROUTED rules (the hook is per mode)', () => {
  const doc = routedDoc({ instances: [A] });
  const edge = { ...doc, configuration: { ...doc.configuration, mode: 'EDGE' } };
  const s = sanitizeGni(edge);
  assert.equal(s.refusals.some((r) => r.code.startsWith('ROUTED_')), false, JSON.stringify(s.refusals));
  // EDGE's own rule: 10.50.0.11 is outside the 169.254.0.0/16 subnet.
  assert.deepEqual(s.refusals.map((r) => r.code), ['PRIVATE_IP_OUTSIDE_SUBNET']);
});

test('ROUTED_ADDRESS_RESERVED: a routed or elastic IPv4 in reserved space (169.254/16, multicast, 0.0.0.0, broadcast) or a BGP peer\'s address is left out, by sanitize and by render alone', () => {
  const cases: [RoutedInstanceSpec, readonly string[] | undefined][] = [
    [{ ...X, ipv4: '169.254.169.254' }, undefined],
    [{ ...X, ipv4: '169.254.0.1' }, undefined],
    [{ ...X, ipv4: '224.0.0.1' }, undefined],
    [{ ...X, ipv4: '0.0.0.0' }, undefined],
    [{ ...X, ipv4: '255.255.255.255' }, undefined],
    // The public pool holds them, so only the reserved check can refuse them.
    [{ ...X, elastic: '169.254.169.254' }, ['169.254.169.254', ROUTED_PUBLIC]],
    [{ ...X, elastic: '172.31.0.1' }, ['172.31.0.1', ROUTED_PUBLIC]],
  ];
  for (const [bad, publicIps] of cases) {
    const spec = publicIps === undefined ? {} : { publicIps };
    const doc = routedDoc({ ...spec, instances: [A, bad] });
    assert.deepEqual(refusedAs(doc, routedDoc({ ...spec, instances: [A] }), X.id), [['ROUTED_ADDRESS_RESERVED', subject(X.id)]], JSON.stringify(bad));
    // Render without sanitize (routed-context.ts) skips it too: no port, no route for it.
    const r = render(doc, { node: ROUTED_NODE }, CONFIG, {});
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.state.routed?.ports.map((p) => p.instance), [A.id], JSON.stringify(bad));
    assert.ok(r.state.warnings.some((w) => w.includes(X.id)), JSON.stringify(r.state.warnings));
  }
});

test('ROUTED_CLUSTER_POOL_RESERVED: a cluster whose IPv4 pool reaches into reserved space or holds a BGP peer is refused with its instances; its node fails to render', () => {
  const base = routedDoc({ instances: [A, { ...X, node: ROUTED_NODE2 }] });
  const c = base.configuration.clusters[0]!;
  for (const pool of [['10.50.0.10-10.50.0.200', '169.254.0.0-169.254.255.255'], ['224.0.0.1'], ['255.255.255.255'], ['0.0.0.0-0.0.0.9'], ['10.50.0.10-10.50.0.200', '172.31.0.1']]) {
    const doc = { ...base, configuration: { ...base.configuration, clusters: [{ ...c, privateIps: pool }] } };
    const s = sanitizeGni(doc);
    assert.deepEqual(s.refusals.map((r) => [r.code, r.subject]), [['ROUTED_CLUSTER_POOL_RESERVED', 'cluster c1 routed'], ['ROUTED_CLUSTER_POOL_RESERVED', subject(A.id)], ['ROUTED_CLUSTER_POOL_RESERVED', subject(X.id)]], pool.join());
    const r = render(doc, { node: ROUTED_NODE }, CONFIG, {});
    assert.ok(!r.ok && r.code === 'ROUTED_CLUSTER_INVALID', JSON.stringify(r));
  }
});
