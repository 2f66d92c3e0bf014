/**
 * Fuzzing the SOAP envelope reader (issue 11, Build): mutated envelopes —
 * edgenet's own, a Eucalyptus 4.4-shaped broadcast, status replies and
 * faults — run through what a server does with a request body (the DOCTYPE
 * guard, the strict reader, the operation's field parser, the Base64 and GNI
 * checks) and what a client does with a reply. Each step either returns or
 * throws an EdgenetError with a code (a SOAP Fault); nothing else escapes,
 * and nothing takes long.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bodyElement, envelope, faultEnvelope, responseElement } from '../../../src/shared/soap/envelope.ts';
import { decodeBase64Strict, refuseDtd } from '../../../src/shared/soap/guard.ts';
import { broadcastInner, parseBroadcast, parseBroadcastReply, parseStatusReply, statusReplyInner, broadcastReplyInner } from '../../../src/shared/soap/messages.ts';
import { parseXml } from '../../../src/shared/soap/xml.ts';
import { readGniHeader } from '../../../src/shared/gni/header.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { HOSTILE_TOKENS, elementMutation, fuzzSettings, mutated, timed } from './mutate.ts';

const gni = Buffer.from('<?xml version="1.0"?><network-data version="a1b2c3d4" sequence="7"><configuration/></network-data>').toString('base64');
const request = { correlationId: 'c-1', version: 'a1b2c3d4', sequence: 7, networkInfo: gni, nodes: [{ name: '10.0.0.7', url: 'https://10.0.0.7:8775/' }] };
const examples = [
  envelope('BroadcastNetworkInfo', broadcastInner(request)),
  envelope('ncBroadcastNetworkInfo', broadcastInner({ ...request, nodes: undefined })),
  envelope('BroadcastNetworkInfoResponse', broadcastReplyInner(request, { outcome: 'stored', version: 'a1b2c3d4', sequence: 7 })),
  envelope('DescribeNetworkStatusResponse', statusReplyInner({ version: 'v', sequence: 3, receivedAt: '2026-01-01T00:00:00.000Z', nodes: [{ name: 'n1', result: 'ok', appliedSequence: 3, appliedVersion: 'v', lastError: 'a<b' }] })),
  faultEnvelope('Client', 'STALE_SEQUENCE', 'older <than> held'),
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="http://eucalyptus.ucsb.edu/"><soapenv:Header/><soapenv:Body><ns1:BroadcastNetworkInfo><ns1:correlationId>5c0ffee0</ns1:correlationId><ns1:userId>eucalyptus</ns1:userId><ns1:epoch>42</ns1:epoch><ns1:services><ns1:type>cluster</ns1:type><ns1:uris>http://10.0.0.6:8774/</ns1:uris></ns1:services><ns1:version>a1b2c3d4</ns1:version><ns1:networkInfo>${gni.replace(/(.{76})/g, '$1\n')}</ns1:networkInfo></ns1:BroadcastNetworkInfo></soapenv:Body></soapenv:Envelope>`,
];

/** Runs `step`; an EdgenetError with a code is a refusal (fine), anything else fails the property. */
function refusedOr<T>(step: () => T): T | undefined {
  try {
    return step();
  } catch (err) {
    assert.ok(err instanceof EdgenetError, `not an EdgenetError: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`);
    assert.match(err.code, /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/);
    return undefined;
  }
}

/** What the server does with a request body, then what a client does with it as a reply. */
function serverAndClient(text: string): void {
  timed(text, () => {
    const op = refusedOr(() => {
      refuseDtd(text, 'request');
      return bodyElement(text);
    });
    if (op) {
      const req = refusedOr(() => parseBroadcast(op));
      if (req) {
        const xml = refusedOr(() => decodeBase64Strict(req.networkInfo, 'networkInfo'));
        if (xml) refusedOr(() => (refuseDtd(xml, 'networkInfo'), readGniHeader(xml)));
      }
      refusedOr(() => parseStatusReply(op));
      refusedOr(() => parseBroadcastReply(op));
    }
    refusedOr(() => responseElement(text));
  });
}

test('SOAP reader: the examples are read (the baseline the mutations start from)', () => {
  for (const text of examples.slice(0, 2)) assert.equal(parseBroadcast(bodyElement(text)).version, 'a1b2c3d4');
  assert.equal(parseBroadcast(bodyElement(examples[5]!)).version, 'a1b2c3d4');
});

test('SOAP reader: mutated envelopes are read or refused with a code, never a crash', () => {
  fc.assert(
    fc.property(fc.oneof({ weight: 3, arbitrary: mutated(examples) }, { weight: 2, arbitrary: elementMutation(examples) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) }), serverAndClient),
    fuzzSettings(3000),
  );
});

test('SOAP reader: every hostile token in the Body, in a field and before the envelope', () => {
  const base = examples[0]!;
  const body = base.indexOf('<soapenv:Body>') + '<soapenv:Body>'.length;
  const field = base.indexOf('</version>');
  for (const token of HOSTILE_TOKENS) {
    for (const text of [token + base, base.slice(0, body) + token + base.slice(body), base.slice(0, field) + token + base.slice(field)]) serverAndClient(text);
  }
});

test('SOAP reader: random strings of XML-ish tokens never escape as anything but a coded error', () => {
  const piece = fc.constantFrom('<', '>', '</', '/>', '<a', '<a>', '</a>', 'x', '="', '"', "'", '&', ';', '#', '<!--', '-->', '<![CDATA[', ']]>', '<?', '?>', ':', ' ', '\u0000', '&#x', '&#');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
      const text = pieces.join('');
      timed(text, () => refusedOr(() => parseXml(text)));
    }),
    fuzzSettings(2000),
  );
});
