/** The strict XML reader, the envelope helpers, the messages and the config parser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, child } from '../../../src/shared/soap/xml.ts';
import { bodyElement, envelope, faultEnvelope, responseElement, SoapFault } from '../../../src/shared/soap/envelope.ts';
import { decodeBase64Strict, refuseDtd } from '../../../src/shared/soap/guard.ts';
import { broadcastInner, parseBroadcast, parseStatusReply, statusReplyInner } from '../../../src/shared/soap/messages.ts';
import { parseNodes } from '../../../src/cluster-controller/main.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';

const code = (c: string) => (err: unknown) => err instanceof EdgenetError && err.code === c;

test('xml: elements, attributes, namespaces, entities, CDATA and comments', () => {
  const el = parseXml(`\ufeff<?xml version="1.0"?><!-- c --><a:root xmlns:a="urn:x" k='v&amp;w'><b>x &lt; y &#65;&#x42;</b><c><![CDATA[<raw>&]]></c><d/></a:root>`);
  assert.equal(el.name, 'root');
  assert.equal(el.qname, 'a:root');
  assert.equal(el.attrs.k, 'v&w');
  assert.equal(child(el, 'b')!.text, 'x < y AB');
  assert.equal(child(el, 'c')!.text, '<raw>&');
  assert.equal(child(el, 'd')!.text, '');
});

test('xml: DOCTYPE/ENTITY and every malformation are refused with stable codes', () => {
  assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'), code('XML_DTD_FORBIDDEN'));
  assert.throws(() => parseXml('<x><!ENTITY a "b"></x>'), code('XML_DTD_FORBIDDEN'));
  for (const bad of ['<x>', '<x></y>', '<x>&a;</x>', '<x>a & b</x>', '<x a="1" a="2"/>', '<x a=1/>', '<x/><y/>', 'text', '<x><![CDATA[ </x>', '', '<1x/>']) {
    assert.throws(() => parseXml(bad), code('MALFORMED_XML'), JSON.stringify(bad));
  }
  assert.throws(() => refuseDtd('<?xml?><!doctype x>', 'body'), code('XML_DTD_FORBIDDEN'));
  assert.throws(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100)), code('MALFORMED_XML'), 'nesting limit');
});

test('xml: a multi-megabyte Base64 text node is one slice', () => {
  const big = 'QUFB'.repeat(1_500_000);
  const op = bodyElement(envelope('BroadcastNetworkInfo', `<networkInfo>${big}</networkInfo>`));
  assert.equal(child(op, 'networkInfo')!.text.length, big.length);
});

test('envelope: body element, faults round-trip with their code', () => {
  assert.equal(bodyElement(envelope('Op', '<x>1</x>')).name, 'Op');
  assert.throws(() => bodyElement('<x/>'), code('MALFORMED_SOAP'));
  assert.throws(() => bodyElement('<soapenv:Envelope xmlns:soapenv="s"><soapenv:Body/></soapenv:Envelope>'), code('MALFORMED_SOAP'));
  assert.throws(() => responseElement(faultEnvelope('Client', 'STALE_SEQUENCE', 'older <than> held')), (e: unknown) => e instanceof SoapFault && e.code === 'STALE_SEQUENCE' && e.message === 'older <than> held');
});

test('messages: broadcast requests round-trip; bad fields are refused', () => {
  const req = { correlationId: 'c-1', version: 'abc123', sequence: 42, networkInfo: 'PHg+', nodes: [{ name: '10.0.0.7', url: 'https://10.0.0.7:8775/' }] };
  const parsed = parseBroadcast(bodyElement(envelope('BroadcastNetworkInfo', broadcastInner(req))));
  assert.deepEqual({ ...parsed, userId: undefined, nodeName: undefined }, { ...req, userId: undefined, nodeName: undefined });
  assert.throws(() => parseBroadcast(bodyElement(envelope('B', '<version>v</version>'))), code('MISSING_FIELD'));
  assert.throws(() => parseBroadcast(bodyElement(envelope('B', '<networkInfo/><sequence>-1</sequence>'))), code('BAD_FIELD'));
  assert.throws(() => parseBroadcast(bodyElement(envelope('B', '<networkInfo/><nodes><node><name>x</name><url>http://x/</url></node></nodes>'))), code('BAD_FIELD'));
  assert.throws(() => decodeBase64Strict('ab$c', 'networkInfo'), code('BAD_BASE64'));
  assert.equal(decodeBase64Strict('PHg+\nPC94Pg==', 'x').toString(), '<x></x>');
});

test('messages: status replies round-trip', () => {
  const reply = { version: 'v', sequence: 3, receivedAt: '2026-01-01T00:00:00.000Z', nodes: [{ name: 'n1', result: 'ok', appliedSequence: 3, appliedVersion: 'v', lastError: 'a<b' }, { name: 'n2', result: 'unreachable' }] };
  assert.deepEqual(parseStatusReply(bodyElement(envelope('R', statusReplyInner(reply)))).nodes.map((n) => [n.name, n.result, n.appliedSequence, n.lastError]), [['n1', 'ok', 3, 'a<b'], ['n2', 'unreachable', undefined, undefined]]);
});

test('parseNodes: addresses and name=url pairs; anything else is a CONFIG_BAD_VALUE error', () => {
  assert.deepEqual(parseNodes('10.0.0.7 n2=https://h:1/', 8775), [{ name: '10.0.0.7', url: 'https://10.0.0.7:8775/' }, { name: 'n2', url: 'https://h:1/' }]);
  assert.throws(() => parseNodes('not-an-ip', 8775), code('CONFIG_BAD_VALUE'));
});
