/**
 * Regression (found by test/unit/fuzz/soap-envelope.fuzz.test.ts): a Fault's
 * `detail/code` is the peer's text; anything but a registered code
 * (src/shared/error-codes.ts) is read as SOAP_FAULT, the message kept; a plain
 * but unknown code (a newer or foreign peer) survives as details.peerCode,
 * markup and control characters do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultEnvelope, responseElement, SoapFault } from '../../../src/shared/soap/envelope.ts';
import type { ErrorCode } from '../../../src/shared/error-codes.ts';

function faultOf(xml: string): SoapFault {
  try {
    responseElement(xml);
  } catch (err) {
    if (err instanceof SoapFault) return err;
    throw err;
  }
  throw new Error('no fault');
}

test('a fault code from a peer is taken only when it is a plain code', () => {
  assert.equal(faultOf(faultEnvelope('Client', 'STALE_SEQUENCE', 'older')).code, 'STALE_SEQUENCE');
  for (const bad of ['\u0000TALE_SEQUENCE', 'A B', 'x\ny', '<b>', 'A'.repeat(65), '1ABC']) {
    // A peer may send anything: the cast stands in for a foreign peer's text.
    const fault = faultOf(faultEnvelope('Client', bad as ErrorCode, 'why'));
    assert.equal(fault.code, 'SOAP_FAULT', JSON.stringify(bad));
    assert.equal(fault.message, 'why');
    assert.equal(fault.details, undefined, JSON.stringify(bad));
  }
});

test('a plain code edgenet does not register reads as SOAP_FAULT and is kept as details.peerCode', () => {
  const fault = faultOf(faultEnvelope('Server', 'SomeFutureCode' as ErrorCode, 'why'));
  assert.equal(fault.code, 'SOAP_FAULT');
  assert.deepEqual(fault.details, { peerCode: 'SomeFutureCode' });
});
