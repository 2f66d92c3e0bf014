/**
 * Every message edgenet writes on the pipeline's hops, checked against the
 * schema in the WSDL the receiving daemon serves (wsdl/*.wsdl, read by
 * test/helpers/wsdl-schema.ts): element names, sequence order, required
 * fields, lexical forms, and namespaces under `elementFormDefault="qualified"`
 * — Eucalyptus's own WSDLs are qualified (eucalyptus-edge.md §6.1;
 * wsdl/eucalyptus_cc.wsdl and eucalyptus_nc.wsdl in Eucalyptus 4.4.2), and an
 * Axis2/C reader does not see unqualified children. Each message is filled with
 * every field it can carry, and read back by edgenet's readers to the same
 * values. edgenet's readers also take the unqualified messages older releases
 * wrote (an upgrade runs both side by side).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readWsdl, type WsdlService } from '../../../src/shared/soap/wsdl.ts';
import { bodyElement, envelope, EUCA_NS, faultEnvelope, responseElement, SoapFault } from '../../../src/shared/soap/envelope.ts';
import {
  broadcastEnvelope,
  broadcastReplyInner,
  parseBroadcast,
  parseBroadcastReply,
  parseStatusReply,
  statusReplyInner,
  type BroadcastReply,
  type BroadcastRequest,
  type NodeReport,
  type StatusReply,
} from '../../../src/shared/soap/messages.ts';
import { checkBody, checkGlobal, loadWsdlSchema } from '../../helpers/wsdl-schema.ts';
import { parseXml } from '../../../src/shared/soap/xml.ts';

const schemas = {
  'cluster-controller': loadWsdlSchema(readWsdl('cluster-controller')),
  'node-controller': loadWsdlSchema(readWsdl('node-controller')),
} as const satisfies Record<WsdlService, unknown>;

const fullRequest: BroadcastRequest = {
  correlationId: 'edgenet-42-zone-a',
  userId: 'eucalyptus',
  nodeName: '10.0.0.6',
  version: 'a1b2c3d4',
  sequence: 42,
  generation: 3,
  networkInfo: Buffer.from('<network-data/>').toString('base64'),
  nodes: [
    { name: '10.0.0.21', url: 'https://10.0.0.21:8775/' },
    { name: '10.0.0.22', url: 'https://10.0.0.22:8775/' },
  ],
};

const fullReply: BroadcastReply = { outcome: 'stored', version: 'a1b2c3d4', sequence: 42, generation: 3 };

/** A node report with every field set, built in an order unlike the WSDL's (the writer must reorder). */
const fullNode: NodeReport = {
  netdHeartbeatAgeMs: 1200,
  netdHeartbeatAt: '2026-01-01T00:00:04.000Z',
  netdPid: 4242,
  netdLiveness: 'running',
  polledAt: '2026-01-01T00:00:05.000Z',
  lastError: 'iptables-restore: line 3 <failed>',
  statusAt: '2026-01-01T00:00:03.000Z',
  appliedAt: '2026-01-01T00:00:02.000Z',
  appliedGeneration: 3,
  appliedSequence: 41,
  appliedVersion: '0f0e0d0c',
  result: 'failed',
  deliveredAt: '2026-01-01T00:00:01.000Z',
  deliveredGeneration: 3,
  deliveredSequence: 42,
  deliveredVersion: 'a1b2c3d4',
  url: 'https://10.0.0.21:8775/',
  name: '10.0.0.21',
};

const fullStatus: StatusReply = { version: 'a1b2c3d4', sequence: 42, generation: 3, receivedAt: '2026-01-01T00:00:00.000Z', nodes: [fullNode, { name: '10.0.0.22', result: 'unreachable' }] };

interface Message {
  readonly what: string;
  readonly service: WsdlService;
  readonly xml: string;
}

const messages: readonly Message[] = [
  { what: 'CLC → CC BroadcastNetworkInfo', service: 'cluster-controller', xml: broadcastEnvelope('BroadcastNetworkInfo', fullRequest).toString('utf8') },
  { what: 'CC reply BroadcastNetworkInfoResponse', service: 'cluster-controller', xml: envelope('BroadcastNetworkInfoResponse', broadcastReplyInner(fullRequest, fullReply)) },
  { what: 'CLC → CC DescribeNetworkStatus', service: 'cluster-controller', xml: envelope('DescribeNetworkStatus', '') },
  { what: 'CC reply DescribeNetworkStatusResponse', service: 'cluster-controller', xml: envelope('DescribeNetworkStatusResponse', statusReplyInner(fullStatus)) },
  { what: 'CC → NC ncBroadcastNetworkInfo', service: 'node-controller', xml: broadcastEnvelope('ncBroadcastNetworkInfo', { ...fullRequest, nodes: undefined }).toString('utf8') },
  { what: 'NC reply ncBroadcastNetworkInfoResponse', service: 'node-controller', xml: envelope('ncBroadcastNetworkInfoResponse', broadcastReplyInner(fullRequest, { ...fullReply, outcome: 'written' })) },
  { what: 'CC → NC ncDescribeNetworkStatus', service: 'node-controller', xml: envelope('ncDescribeNetworkStatus', '') },
  { what: 'NC reply ncDescribeNetworkStatusResponse', service: 'node-controller', xml: envelope('ncDescribeNetworkStatusResponse', statusReplyInner({ nodes: [fullNode] })) },
];

/** The base `eucalyptusMessage` elements of Eucalyptus 4.4.2 wsdl/eucalyptus_cc.wsdl, all its `broadcastNetworkInfoResponseType` has. */
const EUCALYPTUS_REPLY_ELEMENTS = ['correlationId', 'userId', 'statusMessage', 'return', 'epoch', 'services', 'disabledServices', 'notreadyServices', 'nodeName'];

test('wsdl: the reply to a Eucalyptus (unsequenced) broadcast carries only what Eucalyptus\'s WSDL defines, and no statusMessage', () => {
  // A Eucalyptus 4.4 CLC's request: base fields, version, networkInfo, no sequence (eucalyptus-edge.md §4.1).
  const euca: BroadcastRequest = { correlationId: '5c0ffee0-1111-2222-3333-444455556666', userId: 'eucalyptus', version: 'a1b2c3d4', networkInfo: 'PHgvPg==' };
  for (const [service, op] of [['cluster-controller', 'BroadcastNetworkInfoResponse'], ['node-controller', 'ncBroadcastNetworkInfoResponse']] as const) {
    const xml = envelope(op, broadcastReplyInner(euca, fullReply));
    assert.deepEqual(checkBody(schemas[service], xml), [], service);
    const names = bodyElement(xml).children.map((c) => c.name);
    assert.deepEqual(names, ['correlationId', 'userId', 'return'], service);
    assert.ok(names.every((n) => EUCALYPTUS_REPLY_ELEMENTS.includes(n)));
  }
});

for (const m of messages) {
  test(`wsdl: ${m.what} conforms to ${m.service}.wsdl (qualified, in sequence order, every field typed)`, () => {
    assert.deepEqual(checkBody(schemas[m.service], m.xml), []);
  });
}

test('wsdl: both WSDLs are qualified, like Eucalyptus 4.4.2 eucalyptus_cc.wsdl / eucalyptus_nc.wsdl', () => {
  for (const s of Object.values(schemas)) {
    assert.equal(s.qualified, true);
    assert.equal(s.targetNamespace, EUCA_NS);
  }
});

test('wsdl: a Fault detail code is the schema\'s global element code', () => {
  const fault = parseXml(faultEnvelope('Client', 'STALE_SEQUENCE', 'older'));
  const detail = fault.children[0]!.children[0]!.children.find((c) => c.name === 'detail')!;
  const scope = new Map([['euca', EUCA_NS]]);
  assert.deepEqual(checkGlobal(schemas['cluster-controller'], detail.children[0]!, scope), []);
});

/** What edgenet wrote before its writers qualified children: the same message with the `euca:` prefix only on the operation. */
function unqualified(xml: string, operation: string): string {
  return xml.replace(/<(\/?)euca:(\w+)/g, (m, slash: string, name: string) => (name === operation ? m : `<${slash}${name}`));
}

test('wsdl: the checker refuses unqualified children, order changes, missing and mistyped fields', () => {
  const reply = envelope('BroadcastNetworkInfoResponse', broadcastReplyInner(fullRequest, fullReply));
  const cc = schemas['cluster-controller'];
  const old = checkBody(cc, unqualified(reply, 'BroadcastNetworkInfoResponse'));
  assert.equal(old.length, 7, old.join('\n'));
  assert.match(old[0]!, /correlationId: namespace "", the schema wants "http:\/\/eucalyptus.ucsb.edu\/"/);
  const swapped = reply.replace(/(<euca:statusMessage>.*<\/euca:statusMessage>)(<euca:return>.*<\/euca:return>)/, '$2$1');
  assert.notEqual(swapped, reply);
  assert.match(checkBody(cc, swapped).join('\n'), /statusMessage> is not allowed here/);
  const broadcast = broadcastEnvelope('BroadcastNetworkInfo', fullRequest).toString('utf8');
  assert.match(checkBody(cc, broadcast.replace(/<euca:networkInfo>.*<\/euca:networkInfo>/, '')).join('\n'), /networkInfo is required/);
  assert.match(checkBody(cc, broadcast.replace('<euca:sequence>42<', '<euca:sequence>x42<')).join('\n'), /is not an xs:long/);
  assert.match(checkBody(cc, broadcast.replace('<euca:sequence>', '<euca:surprise>1</euca:surprise><euca:sequence>')).join('\n'), /surprise> is not allowed here/);
});

test('readers: every field written is read back, from qualified and from unqualified (older edgenet) messages', () => {
  const request = broadcastEnvelope('BroadcastNetworkInfo', fullRequest).toString('utf8');
  const reply = envelope('BroadcastNetworkInfoResponse', broadcastReplyInner(fullRequest, fullReply));
  const status = envelope('DescribeNetworkStatusResponse', statusReplyInner(fullStatus));
  for (const form of ['qualified', 'unqualified'] as const) {
    const f = (xml: string, op: string) => (form === 'qualified' ? xml : unqualified(xml, op));
    assert.deepEqual(parseBroadcast(bodyElement(f(request, 'BroadcastNetworkInfo'))), fullRequest, form);
    assert.deepEqual(parseBroadcastReply(responseElement(f(reply, 'BroadcastNetworkInfoResponse'))), fullReply, form);
    const back = parseStatusReply(responseElement(f(status, 'DescribeNetworkStatusResponse')));
    assert.deepEqual(back.nodes[0], fullNode, form);
    assert.deepEqual({ ...back, nodes: back.nodes.length }, { ...fullStatus, nodes: 2 }, form);
  }
  assert.throws(() => responseElement(faultEnvelope('Client', 'STALE_SEQUENCE', 'older')), (e: unknown) => e instanceof SoapFault && e.code === 'STALE_SEQUENCE');
});

test('readers: a Eucalyptus-prefixed (ns1:) qualified request is read like ours (Eucalyptus 4.4 CLC shape: eucalyptus-edge.md §4.1, element order of 4.4.2 wsdl/eucalyptus_cc.wsdl)', () => {
  const euca =
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
    `<ns1:BroadcastNetworkInfo xmlns:ns1="${EUCA_NS}"><ns1:correlationId>c</ns1:correlationId><ns1:userId>eucalyptus</ns1:userId>` +
    `<ns1:version>a1b2c3d4</ns1:version><ns1:appliedVersion>0f0e0d0c</ns1:appliedVersion><ns1:networkInfo>PHgvPg==</ns1:networkInfo></ns1:BroadcastNetworkInfo></soapenv:Body></soapenv:Envelope>`;
  assert.deepEqual(checkBody(schemas['cluster-controller'], euca), []);
  const req = parseBroadcast(bodyElement(euca));
  assert.equal(req.version, 'a1b2c3d4');
  assert.equal(req.networkInfo, 'PHgvPg==');
});
